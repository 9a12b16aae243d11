import S3

#if canImport(Glibc)
import Glibc
#endif

extension RemoteStore {
    /// GET into `descriptor`, starting over from an empty file after a transient failure. The S3
    /// client does not retry a streamed download itself: bytes of the failed attempt are already
    /// in the file, so only the caller, who owns the file, can rewind it.
    func download(key: String, into descriptor: Int32, path: String, retry: RetryPolicy) async throws -> RemoteObject {
        var attempt = 1
        while true {
            do {
                return try await get(key: key, into: descriptor)
            } catch let error as S3Error where error.isRetryable && retry.allowsAttempt(attempt + 1) {
                guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
                    throw RemoteError.local(path, errno)
                }
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
                attempt += 1
            }
        }
    }
}

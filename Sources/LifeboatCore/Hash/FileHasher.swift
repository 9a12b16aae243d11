import Crypto
import Foundation
import S3

#if canImport(Glibc)
import Glibc
#endif

/// Streaming SHA-256 of a file or a byte range of it, in fixed-size reads: memory stays flat
/// whatever the file size.
public struct FileHasher: Sendable {
    public var bufferSize: Int

    public init(bufferSize: Int = 1 << 20) {
        self.bufferSize = bufferSize
    }

    public struct Digest: Sendable, Equatable {
        public var sha256: String
        public var bytes: Int64
        /// The file's fingerprint taken before reading; the caller compares it with the journal's.
        public var fingerprint: FileFingerprint
    }

    /// Hashes the whole file. Throws `FileChangedError` when the file changed while it was read,
    /// since the digest would then describe no version of it.
    public func hash(path: String) throws -> Digest {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(descriptor) }
        var before = stat()
        guard fstat(descriptor, &before) == 0 else { throw FileReadError(path: path, errno: errno) }
        // Reading front to back: tell the kernel to read ahead aggressively.
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        let (sha256, bytes) = try digest(descriptor: descriptor, offset: 0, length: nil, path: path)
        var after = stat()
        guard fstat(descriptor, &after) == 0 else { throw FileReadError(path: path, errno: errno) }
        let fingerprint = FileFingerprint(stat: before)
        guard fingerprint == FileFingerprint(stat: after), bytes == fingerprint.size else {
            throw FileChangedError(path: path)
        }
        return Digest(sha256: sha256, bytes: bytes, fingerprint: fingerprint)
    }

    /// Hashes `length` bytes from `offset` (a multipart part).
    public func hash(path: String, offset: Int64, length: Int64) throws -> String {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(descriptor) }
        let (sha256, bytes) = try digest(descriptor: descriptor, offset: offset, length: length, path: path)
        guard bytes == length else { throw FileChangedError(path: path) }
        return sha256
    }

    private func digest(descriptor: Int32, offset: Int64, length: Int64?, path: String) throws -> (String, Int64) {
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var position = offset
        var total: Int64 = 0
        while length.map({ total < $0 }) ?? true {
            let wanted = length.map { Int(min(Int64(bufferSize), $0 - total)) } ?? bufferSize
            let count = pread(descriptor, buffer.baseAddress, wanted, off_t(position))
            if count < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, errno: errno)
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            position += Int64(count)
            total += Int64(count)
        }
        return (Hex.encode(hasher.finalize()), total)
    }
}

/// The file changed while it was being read or sent; it will be picked up again once it settles.
public struct FileChangedError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public var description: String { "\(path) changed while it was being read; it will be mirrored once it settles" }
}

public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let code: Int32

    public init(path: String, errno code: Int32) {
        self.path = path
        self.code = code
    }

    public var description: String { "\(path): \(String(cString: strerror(code)))" }

    /// The file is gone: nothing to mirror, not a failure.
    public var isMissing: Bool { code == ENOENT }
}

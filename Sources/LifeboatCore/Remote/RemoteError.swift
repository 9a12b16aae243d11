#if canImport(Glibc)
import Glibc
#endif

/// Failures of a remote that are not the provider's own errors (those are `S3Error`).
public enum RemoteError: Error, Sendable, CustomStringConvertible {
    case local(String, Int32)
    case notFound(String)
    case unsafeKey(String, String)

    public var description: String {
        switch self {
        case .local(let path, let code): "\(path): \(String(cString: strerror(code)))"
        case .notFound(let key): "\(key): no such object"
        case .unsafeKey(let key, let problem): "refusing key \(key.debugDescription): \(problem)"
        }
    }
}

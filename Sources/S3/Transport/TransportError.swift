/// A request that never produced an HTTP answer: connection refused, reset, timed out, TLS failure.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// libcurl's CURLcode, kept so that retry decisions can tell a reset from a bad certificate.
    public let curlCode: Int
    public let message: String

    public init(curlCode: Int, message: String) {
        self.curlCode = curlCode
        self.message = message
    }

    /// Failures a retry can cure. A bad certificate or an unsupported protocol will not get better.
    public var isRetryable: Bool {
        switch curlCode {
        case 5, 6, 7: true  // proxy or host not resolved, connection refused: the endpoint may come back
        case 18, 28: true  // partial transfer, timeout
        case 35: true  // TLS handshake cut off, usually by a reset
        case 52, 55, 56: true  // empty reply, send or receive failed (resets)
        case 65: true  // a reset mid-upload: curl cannot rewind the body itself, a fresh attempt can
        case 16, 92: true  // HTTP/2 framing errors
        default: false
        }
    }

    /// The endpoint could not be reached at all: its name did not resolve or nothing accepted the
    /// connection. Every further request to it will most likely fail the same way.
    public var isUnreachable: Bool {
        [5, 6, 7].contains(curlCode)
    }

    public var description: String { "\(message) (curl error \(curlCode))" }
}

/// The local file shrank or could not be read while its bytes were being sent.
public struct UploadSourceError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

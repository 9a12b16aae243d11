/// A failed S3 operation, worded so that an operator can act on it: what we tried, on which key,
/// and what the provider said. Never contains credentials.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The provider answered with an error status (and usually an XML body).
        case http(status: Int, code: String, message: String, requestID: String?)
        /// No answer at all: connection, TLS or timeout.
        case transport(TransportError)
        /// The local file changed or vanished while it was being sent.
        case source(UploadSourceError)
        /// The answer was not what S3 sends (bad XML, missing header).
        case invalidResponse(String)
    }

    public let operation: String
    public let key: String
    public let kind: Kind

    public init(operation: String, key: String, kind: Kind) {
        self.operation = operation
        self.key = key
        self.kind = kind
    }

    /// The provider's error code (e.g. "SlowDown", "AccessDenied"), or a transport label.
    public var code: String {
        switch kind {
        case .http(let status, let code, _, _): code.isEmpty ? "HTTP\(status)" : code
        case .transport: "NetworkError"
        case .source: "SourceChanged"
        case .invalidResponse: "InvalidResponse"
        }
    }

    public var httpStatus: Int? {
        if case .http(let status, _, _, _) = kind { return status }
        return nil
    }

    /// Whether trying again later can succeed: throttling, server faults and broken connections.
    public var isRetryable: Bool {
        switch kind {
        case .http(let status, let code, _, _):
            if status >= 500 || status == 429 { return true }
            return ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestTimeTooSkewed"].contains(code)
        case .transport(let error): return error.isRetryable
        case .source: return false
        case .invalidResponse: return true
        }
    }

    public var description: String {
        let subject = key.isEmpty ? operation : "\(operation) \(key)"
        switch kind {
        case .http(let status, let code, let message, let requestID):
            var text = "\(subject): HTTP \(status)"
            if !code.isEmpty { text += " \(code)" }
            if !message.isEmpty { text += ": \(message)" }
            if let requestID, !requestID.isEmpty { text += " (request id \(requestID))" }
            return text
        case .transport(let error): return "\(subject): \(error)"
        case .source(let error): return "\(subject): \(error)"
        case .invalidResponse(let detail): return "\(subject): unexpected answer: \(detail)"
        }
    }
}

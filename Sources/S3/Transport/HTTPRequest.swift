public import Foundation

/// One HTTP exchange as the S3 client describes it: the transport knows nothing about S3.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The complete URL, path and query already encoded exactly as they were signed.
    public var url: String
    public var headers: [HTTPHeader]
    public var body: Body
    public var response: ResponseDestination

    public enum Body: Sendable {
        case empty
        case bytes(Data)
        /// A byte range of a file, read while sending so a large file is never held in memory.
        case file(path: String, offset: Int64, length: Int64)
    }

    public enum ResponseDestination: Sendable {
        /// Keep the body in memory (XML answers, error documents).
        case memory
        /// Stream a successful body into this already-open file descriptor; error bodies stay in memory.
        case fileDescriptor(Int32)
    }

    public init(method: String, url: String, headers: [HTTPHeader], body: Body = .empty, response: ResponseDestination = .memory) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.response = response
    }
}

/// What came back: status, headers (names lowercased) and, unless streamed to a file, the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: Data

    public init(status: Int, headers: [HTTPHeader], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }
}

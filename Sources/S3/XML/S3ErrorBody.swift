/// The `<Error>` document S3 providers answer failures with.
public struct S3ErrorBody: Sendable, Equatable {
    /// Machine-readable, e.g. "NoSuchKey", "SlowDown".
    public var code: String
    /// Human-readable; empty when the provider sent none.
    public var message: String
    /// What support asks for; Cloudflare R2 does not send one.
    public var requestID: String?
    public var resource: String?

    public init(code: String, message: String, requestID: String? = nil, resource: String? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.resource = resource
    }
}

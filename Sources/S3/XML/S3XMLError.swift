/// An S3 answer that is not the XML document the request calls for: malformed, or missing what it must hold.
public struct S3XMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Names what was expected, e.g. "expected <UploadId> in <InitiateMultipartUploadResult>".
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "S3 XML: \(message)" }
}

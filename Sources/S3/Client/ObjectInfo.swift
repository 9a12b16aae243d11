/// What HEAD or GET tells about an object.
public struct ObjectInfo: Sendable, Equatable {
    public var size: Int64
    /// Without the quotes S3 wraps it in.
    public var etag: String
    public var contentType: String?
    /// User metadata (`x-amz-meta-NAME`), keyed by NAME in lowercase.
    public var metadata: [String: String]
    /// `x-amz-checksum-sha256` when the provider stored one (base64).
    public var checksumSHA256: String?

    public init(size: Int64, etag: String, contentType: String? = nil, metadata: [String: String] = [:], checksumSHA256: String? = nil) {
        self.size = size
        self.etag = etag
        self.contentType = contentType
        self.metadata = metadata
        self.checksumSHA256 = checksumSHA256
    }

    init(response: HTTPResponse) {
        var metadata: [String: String] = [:]
        for header in response.headers where header.name.hasPrefix("x-amz-meta-") {
            metadata[String(header.name.dropFirst("x-amz-meta-".count))] = header.value
        }
        self.init(
            size: Int64(response.header("content-length") ?? "") ?? 0,
            etag: ObjectInfo.unquoted(response.header("etag") ?? ""),
            contentType: response.header("content-type"),
            metadata: metadata,
            checksumSHA256: response.header("x-amz-checksum-sha256")
        )
    }

    static func unquoted(_ etag: String) -> String {
        var value = Substring(etag)
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
        return String(value)
    }
}

/// One uploaded part of a multipart upload, as CompleteMultipartUpload needs it back.
public struct CompletedPart: Sendable, Equatable, Codable {
    public var number: Int
    public var etag: String
    /// Base64 SHA-256 of the part, present when the upload declared the SHA256 checksum algorithm.
    public var checksumSHA256: String?

    public init(number: Int, etag: String, checksumSHA256: String? = nil) {
        self.number = number
        self.etag = etag
        self.checksumSHA256 = checksumSHA256
    }
}

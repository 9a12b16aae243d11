import Foundation

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

    /// The CompleteMultipartUpload request body. Parts must be listed in ascending order.
    static func completionDocument(_ parts: [CompletedPart]) -> Data {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\"\(part.etag)\"</ETag>"
            if let checksum = part.checksumSHA256 { xml += "<ChecksumSHA256>\(checksum)</ChecksumSHA256>" }
            xml += "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        return Data(xml.utf8)
    }
}

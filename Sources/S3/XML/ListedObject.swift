public import Foundation

/// One object of a ListObjectsV2 page.
public struct ListedObject: Sendable, Equatable {
    /// The key, decoded when the listing was URL-encoded.
    public var key: String
    public var size: Int64
    /// Without the surrounding quotes S3 puts on it.
    public var etag: String
    /// Nil when the provider left it out or sent a form we cannot read.
    public var lastModified: Date?

    public init(key: String, size: Int64, etag: String, lastModified: Date?) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

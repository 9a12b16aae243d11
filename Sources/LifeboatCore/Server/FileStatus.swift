import Foundation

/// `GET /v1/files?path=`: one file as the journal knows it, for an application asking whether
/// its file is durable yet and where it lives.
public struct FileStatus: Sendable, Equatable, Codable {
    /// The absolute local path, normalised ("." and doubled slashes removed).
    public var path: String
    /// `pending`, `mirrored`, `failed` (retrying) or `deleting`.
    public var state: String
    /// nil until the file has been hashed.
    public var sha256: String?
    /// The object's key in the bucket, prefix included; where it is or will be stored.
    public var key: String
    public var size: Int64
    /// When the remote acknowledged the current content (ISO 8601, UTC); nil unless mirrored.
    public var mirroredAt: String?
    /// The object's URL when one can be derived.
    public var url: String?
    /// Why the last attempt failed, when it did.
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case path, state, sha256, key, size, url
        case mirroredAt = "mirrored_at"
        case lastError = "last_error"
    }

    public init(path: String, record: FileRecord, locator: ObjectLocator) {
        let key = record.remoteKey ?? ObjectKey.make(watch: record.watch, relativePath: record.path)
        self.path = path
        state = record.state.rawValue
        sha256 = record.sha256
        self.key = locator.fullKey(key)
        size = record.size
        url = locator.url(forKey: key)
        lastError = record.state == .mirrored ? nil : record.lastError
        mirroredAt = record.state == .mirrored
            ? record.mirroredAt.map { Date(timeIntervalSince1970: $0).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) }
            : nil
    }

    /// Explicit nulls, so that every answer has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(state, forKey: .state)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(key, forKey: .key)
        try container.encode(size, forKey: .size)
        try container.encode(mirroredAt, forKey: .mirroredAt)
        try container.encode(url, forKey: .url)
        try container.encode(lastError, forKey: .lastError)
    }
}

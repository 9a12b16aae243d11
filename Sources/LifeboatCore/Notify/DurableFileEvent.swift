/// What LIFEBOAT_NOTIFY_URL receives when a file becomes durable: enough for an application to
/// record where its file now lives.
public struct DurableFileEvent: Sendable, Equatable, Codable {
    /// The local absolute path.
    public var path: String
    /// The object's key in the bucket, prefix included (relative to PATH for a `file://` remote).
    public var key: String
    /// Lowercase hex SHA-256 of the content the remote acknowledged.
    public var sha256: String
    public var size: Int64
    /// The object's URL when one can be derived; sent as `null` otherwise.
    public var url: String?

    public init(path: String, key: String, sha256: String, size: Int64, url: String?) {
        self.path = path
        self.key = key
        self.sha256 = sha256
        self.size = size
        self.url = url
    }

    /// The event for a journal row that was just marked mirrored.
    public init(mirrored record: FileRecord, root: WatchRoot, locator: ObjectLocator) {
        let key = record.remoteKey ?? ObjectKey.make(watch: record.watch, relativePath: record.path)
        self.init(
            path: "\(root.path)/\(record.path)", key: locator.fullKey(key), sha256: record.sha256 ?? "",
            size: record.size, url: locator.url(forKey: key))
    }

    private enum CodingKeys: String, CodingKey {
        case path, key, sha256, size, url
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        key = try container.decode(String.self, forKey: .key)
        sha256 = try container.decode(String.self, forKey: .sha256)
        size = try container.decode(Int64.self, forKey: .size)
        url = try container.decodeIfPresent(String.self, forKey: .url)
    }

    /// Every key is always present: a receiver should not have to tell "no URL" from "old agent".
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(key, forKey: .key)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(size, forKey: .size)
        try container.encode(url, forKey: .url)
    }
}

// GRDB is imported publicly because the record conformances below are part of the type.
public import GRDB

/// One watched file as the journal knows it: what it looked like when last seen, its digest,
/// and how far it got on its way to the remote.
public struct FileRecord: Sendable, Equatable, Codable {
    public var id: Int64?
    public var watch: String
    /// Relative to the watch root, "/"-separated, no leading slash.
    public var path: String
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
    public var inode: Int64
    /// Lowercase hex; nil until hashed.
    public var sha256: String?
    public var state: FileState
    public var remoteKey: String?
    public var etag: String?
    public var attempts: Int
    public var lastError: String?
    /// When a failed upload may be tried again (Unix seconds).
    public var nextAttemptAt: Double?
    public var discoveredAt: Double
    public var updatedAt: Double
    public var mirroredAt: Double?

    public var fingerprint: FileFingerprint {
        FileFingerprint(size: size, mtimeNanoseconds: mtimeNanoseconds, ctimeNanoseconds: ctimeNanoseconds, inode: inode)
    }

    enum CodingKeys: String, CodingKey {
        case id, watch, path, size
        case mtimeNanoseconds = "mtime_ns"
        case ctimeNanoseconds = "ctime_ns"
        case inode, sha256, state
        case remoteKey = "remote_key"
        case etag, attempts
        case lastError = "last_error"
        case nextAttemptAt = "next_attempt_at"
        case discoveredAt = "discovered_at"
        case updatedAt = "updated_at"
        case mirroredAt = "mirrored_at"
    }
}

extension FileRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "file"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// Where a file is on its way to the remote.
public enum FileState: String, Sendable, Codable {
    /// New or changed; waiting to be hashed and uploaded.
    case pending
    /// The remote acknowledged the complete, checksummed object for the recorded fingerprint.
    case mirrored
    /// The last attempt failed; it will be tried again.
    case failed
    /// Disappeared locally before it was mirrored, or its remote copy was deleted in `mirror`
    /// delete mode; nothing left to do.
    case gone
    /// Deleted locally after it was mirrored, in `mirror` delete mode: the remote copy is deleted
    /// at `nextAttemptAt` (after LIFEBOAT_DELETE_DELAY) unless the file comes back first.
    case deleting
}

/// The stat fields that tell whether a file changed since it was last hashed.
public struct FileFingerprint: Sendable, Equatable, Hashable {
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
    public var inode: Int64

    public init(size: Int64, mtimeNanoseconds: Int64, ctimeNanoseconds: Int64, inode: Int64) {
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeNanoseconds = ctimeNanoseconds
        self.inode = inode
    }
}

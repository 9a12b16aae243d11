// GRDB is imported publicly because the record conformances below are part of the type.
public import GRDB

/// One watched file as the journal knows it: what it looked like when last seen, its digest,
/// and how far it got on its way to the remote.
public struct FileRecord: Sendable, Equatable {
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
}

// Columns are read and written by hand rather than through Codable: the journal writes a row for
// every file event, and the Codable path cost more CPU than the SQL itself.
extension FileRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "file"

    /// In table order; `Journal` builds its statements from this list.
    static let columns = [
        "id", "watch", "path", "size", "mtime_ns", "ctime_ns", "inode", "sha256", "state", "remote_key", "etag",
        "attempts", "last_error", "next_attempt_at", "discovered_at", "updated_at", "mirrored_at",
    ]

    /// Requests select exactly `columns`, in that order, so rows are read by position: a scan
    /// loads every row of a watch, and looking each column up by name cost more than the query.
    public static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    public init(row: Row) throws {
        guard let state = FileState(rawValue: row[8]) else {
            throw JournalError("the journal holds a file row with an unknown state \"\(row[8] as String)\"")
        }
        self.init(
            id: row[0], watch: row[1], path: row[2], size: row[3], mtimeNanoseconds: row[4], ctimeNanoseconds: row[5],
            inode: row[6], sha256: row[7], state: state, remoteKey: row[9], etag: row[10], attempts: row[11],
            lastError: row[12], nextAttemptAt: row[13], discoveredAt: row[14], updatedAt: row[15], mirroredAt: row[16])
    }

    public func encode(to container: inout PersistenceContainer) {
        for (column, value) in zip(Self.columns, databaseValues) { container[column] = value }
    }

    /// The values in `columns` order.
    var databaseValues: [(any DatabaseValueConvertible)?] {
        [id, watch, path, size, mtimeNanoseconds, ctimeNanoseconds, inode, sha256, state.rawValue, remoteKey, etag,
         attempts, lastError, nextAttemptAt, discoveredAt, updatedAt, mirroredAt]
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// Where a file is on its way to the remote.
public enum FileState: String, Sendable {
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

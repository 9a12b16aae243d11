public import Foundation
import GRDB

/// The local SQLite journal (WAL mode, through GRDB): one row per watched file. It is the source
/// of truth for what still has to reach the remote, so it survives crashes and restarts.
public final class Journal: Sendable {
    public enum Access: Sendable {
        /// Takes the exclusive lock: one agent (daemon or one-shot command) owns the journal.
        case owner
        /// Reads beside a running owner, as `status` does; WAL lets readers and the writer coexist.
        case reader
        /// Writes beside a running owner without taking its lock: `restore` next to a daemon
        /// records what it restored, so the daemon does not upload it again. SQLite serialises
        /// the writes; the schema must already exist.
        case guest
    }

    public let path: String
    private let database: DatabasePool
    private let lock: JournalLock?

    public init(path: String, access: Access) throws(JournalError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if access == .owner, !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw JournalError("cannot create the journal directory \(directory): \(error.localizedDescription)")
            }
        }
        lock = access == .owner ? try JournalLock(journalPath: path) : nil
        var configuration = Configuration()
        configuration.readonly = access == .reader
        // A writer holding the lock briefly (a checkpoint) must not make a reader fail outright.
        configuration.busyMode = .timeout(5)
        // In WAL mode NORMAL syncs at checkpoints, not on every commit. A power cut can then lose
        // the last few "mirrored" marks, which only means re-uploading those files: the safe direction.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            if access == .owner {
                try Self.migrator.migrate(database)
            } else if try !database.read({ try Self.migrator.hasCompletedMigrations($0) }) {
                throw JournalError("the journal \(path) was written by a newer or older lifeboat; run a command that owns it (resync) to upgrade it")
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError("cannot open the journal \(path): \(error)")
        }
    }

    /// Schema versions in order. Never edit a shipped migration: add the next one.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: files") { db in
            try db.create(table: "file") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("watch", .text).notNull()
                table.column("path", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("mtime_ns", .integer).notNull()
                table.column("ctime_ns", .integer).notNull()
                table.column("inode", .integer).notNull()
                table.column("sha256", .text)
                table.column("state", .text).notNull()
                table.column("remote_key", .text)
                table.column("etag", .text)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("last_error", .text)
                table.column("next_attempt_at", .double)
                table.column("discovered_at", .double).notNull()
                table.column("updated_at", .double).notNull()
                table.column("mirrored_at", .double)
                table.uniqueKey(["watch", "path"])
            }
            try db.create(index: "file_by_state", on: "file", columns: ["state", "next_attempt_at"])
        }
        return migrator
    }

    /// Every row of one watch, keyed by relative path: a scan compares against this in memory
    /// instead of querying once per file.
    public func records(watch: String) async throws -> [String: FileRecord] {
        try await database.read { db in
            var result: [String: FileRecord] = [:]
            let cursor = try FileRecord.filter(Column("watch") == watch).fetchCursor(db)
            while let record = try cursor.next() { result[record.path] = record }
            return result
        }
    }

    /// Rows still on their way to the remote.
    public func unfinished() async throws -> [FileRecord] {
        try await database.read { db in
            try FileRecord.filter([FileState.pending.rawValue, FileState.failed.rawValue].contains(Column("state"))).order(Column("id")).fetchAll(db)
        }
    }

    /// Rows whose remote copy waits to be deleted (`mirror` delete mode).
    public func scheduledDeletions() async throws -> [FileRecord] {
        try await database.read { db in
            try FileRecord.filter(Column("state") == FileState.deleting.rawValue).order(Column("next_attempt_at")).fetchAll(db)
        }
    }

    public func record(watch: String, path: String) async throws -> FileRecord? {
        try await database.read { db in
            try FileRecord.filter(Column("watch") == watch && Column("path") == path).fetchOne(db)
        }
    }

    /// Inserts or updates rows in one transaction; returns them with their ids.
    @discardableResult
    public func save(_ records: [FileRecord]) async throws -> [FileRecord] {
        guard !records.isEmpty else { return [] }
        return try await database.write { db in
            // Prepared once per connection and reused: a resync saves a row per file.
            let update = try db.cachedStatement(sql: Self.updateSQL)
            let upsert = try db.cachedStatement(sql: Self.upsertSQL)
            var saved: [FileRecord] = []
            saved.reserveCapacity(records.count)
            for var record in records {
                let values = record.databaseValues.dropFirst()
                if let id = record.id {
                    var arguments = StatementArguments(values)
                    arguments += [id]
                    try update.execute(arguments: arguments)
                    if db.changesCount > 0 {
                        saved.append(record)
                        continue
                    }
                }
                // Upsert on (watch, path): the start-up scan and an inotify event can both insert
                // the same new file; the second must update the row, not fail the batch.
                record.id = try Int64.fetchOne(upsert, arguments: StatementArguments(values))
                saved.append(record)
            }
            return saved
        }
    }

    private static let updateSQL: String = {
        let assignments = FileRecord.columns.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")
        return "UPDATE file SET \(assignments) WHERE id = ?"
    }()

    private static let upsertSQL: String = {
        let columns = FileRecord.columns.dropFirst()
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let updates = columns.filter { $0 != "watch" && $0 != "path" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO file (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) ON CONFLICT(watch, path) DO UPDATE SET \(updates) RETURNING id"
    }()

    public func save(_ record: FileRecord) async throws {
        try await save([record])
    }

    public func summary(now: Date = Date()) async throws -> JournalSummary {
        try await database.read { db in
            let counts = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes, MIN(discovered_at) AS oldest FROM file GROUP BY state")
            var summary = JournalSummary()
            var oldest: Double?
            for row in counts {
                let state = FileState(rawValue: row["state"]) ?? .pending
                let count: Int = row["n"]
                let bytes: Int64 = row["bytes"]
                switch state {
                case .mirrored:
                    summary.mirrored = count
                    summary.bytesMirrored = bytes
                case .pending, .failed:
                    if state == .pending { summary.pending = count } else { summary.failed = count }
                    summary.bytesPending += bytes
                    if let first: Double = row["oldest"] { oldest = min(oldest ?? first, first) }
                case .gone, .deleting:
                    continue
                }
                summary.files += count
            }
            summary.oldestPendingAgeSeconds = oldest.map { max(0, now.timeIntervalSince1970 - $0) }
            if let row = try Row.fetchOne(db, sql: "SELECT watch, path, last_error FROM file WHERE last_error IS NOT NULL AND state IN ('pending', 'failed') ORDER BY updated_at DESC LIMIT 1") {
                summary.lastError = row["last_error"]
                summary.lastErrorPath = "\(row["watch"] as String)/\(row["path"] as String)"
            }
            return summary
        }
    }
}

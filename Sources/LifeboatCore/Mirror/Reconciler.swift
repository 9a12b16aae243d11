public import Foundation

/// Compares a watch tree (or one subtree of it) with the journal: files that are new or changed
/// become pending rows, pending rows whose files vanished become `gone`. Shared by `resync`, the
/// daemon's start-up and its periodic and overflow rescans, so they all decide the same way.
public struct Reconciler: Sendable {
    public let journal: Journal
    public let excludes: ExcludeMatcher
    public let deletion: DeletionPolicy

    public init(journal: Journal, excludes: ExcludeMatcher, deletion: DeletionPolicy = DeletionPolicy(mode: .keep, delay: .zero)) {
        self.journal = journal
        self.excludes = excludes
        self.deletion = deletion
    }

    public struct Outcome: Sendable {
        /// Saved as pending, with ids, in scan order.
        public var pending: [FileRecord] = []
        public var scanned = 0
        public var unchanged = 0
        public var problems: [ScanProblem] = []
        /// With `dryRun`: files that would become pending (nothing is saved).
        public var wouldUpload: [ScannedFile] = []
        /// `mirror` delete mode: rows whose remote copy is now scheduled for deletion.
        public var scheduledDeletions: [FileRecord] = []
        /// Why the deletion guard refused to schedule deletions in this scan, if it did.
        public var refusedDeletions: String?
    }

    public func reconcile(root: WatchRoot, subtree: String = "", dryRun: Bool = false, now: Date = Date()) async throws -> Outcome {
        // The journal is read while the tree is walked, on the other core: one is SQLite, the other
        // system calls, and a no-op resync of a large tree would otherwise wait for their sum.
        async let knownRows = journal.records(watch: root.name)
        let scanner = TreeScanner(root: root, excludes: excludes)
        let scan = subtree.isEmpty ? scanner.scan() : scanner.scan(subtree: subtree)
        var outcome = Outcome()
        outcome.problems = scan.problems
        outcome.scanned = scan.files.count
        let known = try await knownRows
        let timestamp = now.timeIntervalSince1970
        var changed: [FileRecord] = []
        var seen = Set<String>(minimumCapacity: scan.files.count)
        var restored: [FileRecord] = []
        for file in scan.files {
            seen.insert(file.relativePath)
            let record = known[file.relativePath]
            if let record, record.state == .mirrored, record.fingerprint == file.fingerprint {
                outcome.unchanged += 1
            } else if var record, record.state == .deleting, record.fingerprint == file.fingerprint {
                // Back before its remote copy was deleted (a remount): mirrored as it was.
                record.state = .mirrored
                record.nextAttemptAt = nil
                restored.append(record)
                outcome.unchanged += 1
            } else if dryRun {
                outcome.wouldUpload.append(file)
            } else {
                changed.append(Self.pendingRecord(for: file, watch: root.name, known: record, now: timestamp))
            }
        }
        guard !dryRun else { return outcome }
        // A root that could not be read says nothing about which files are gone.
        let rootUnreadable = scan.problems.contains { $0.path == root.path }
        if !rootUnreadable {
            let inScope: (FileRecord) -> Bool = { subtree.isEmpty || $0.path.hasPrefix(subtree + "/") }
            // Not seen by the scan is not enough: a file written after the scan passed its folder
            // may already be journaled through inotify. Only a file that is absent now is gone.
            let absent: (FileRecord) -> Bool = { FileFingerprint.current(path: "\(root.path)/\($0.path)") == nil }
            let vanished = known.values.filter { !seen.contains($0.path) && inScope($0) && ($0.state == .pending || $0.state == .failed) && absent($0) }
            try await journal.save(vanished.map { record in
                var record = record
                record.state = .gone
                record.updatedAt = timestamp
                return record
            })
            if deletion.mode == .mirror, subtree.isEmpty {
                try await scheduleDeletions(root: root, known: known, seen: seen, rootIsEmpty: scan.files.isEmpty, now: timestamp, into: &outcome)
            }
        }
        try await journal.save(restored)
        outcome.pending = try await journal.save(changed)
        return outcome
    }

    private func scheduleDeletions(root: WatchRoot, known: [String: FileRecord], seen: Set<String>, rootIsEmpty: Bool, now: Double, into outcome: inout Outcome) async throws {
        let mirrored = known.values.filter { $0.state == .mirrored }
        let vanished = mirrored.filter { !seen.contains($0.path) && FileFingerprint.current(path: "\(root.path)/\($0.path)") == nil }
        if let refusal = deletion.refusal(vanished: vanished.count, mirrored: mirrored.count, rootIsEmpty: rootIsEmpty) {
            outcome.refusedDeletions = refusal
            return
        }
        outcome.scheduledDeletions = try await journal.save(vanished.map { record in
            var record = record
            record.state = .deleting
            record.nextAttemptAt = now + deletion.delay.seconds
            record.updatedAt = now
            return record
        })
    }

    /// The journal row for a file that needs mirroring. Its digest survives only if the file is
    /// provably the same one that was hashed (a restart after hashing, before upload).
    static func pendingRecord(for file: ScannedFile, watch: String, known: FileRecord?, now: Double) -> FileRecord {
        guard var record = known else {
            return FileRecord(
                id: nil, watch: watch, path: file.relativePath, size: file.fingerprint.size,
                mtimeNanoseconds: file.fingerprint.mtimeNanoseconds, ctimeNanoseconds: file.fingerprint.ctimeNanoseconds,
                inode: file.fingerprint.inode, sha256: nil, state: .pending, remoteKey: nil, etag: nil, attempts: 0,
                lastError: nil, nextAttemptAt: nil, discoveredAt: now, updatedAt: now, mirroredAt: nil)
        }
        if record.fingerprint != file.fingerprint || record.state == .mirrored || record.state == .gone {
            record.sha256 = nil
            if record.state == .mirrored || record.state == .gone { record.discoveredAt = now }
        }
        record.apply(file.fingerprint)
        if record.state != .failed { record.state = .pending }
        record.updatedAt = now
        return record
    }
}

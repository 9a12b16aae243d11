public import Foundation

/// Compares a watch tree (or one subtree of it) with the journal: files that are new or changed
/// become pending rows, pending rows whose files vanished become `gone`. Shared by `resync`, the
/// daemon's start-up and its periodic and overflow rescans, so they all decide the same way.
public struct Reconciler: Sendable {
    public let journal: Journal
    public let excludes: ExcludeMatcher

    public init(journal: Journal, excludes: ExcludeMatcher) {
        self.journal = journal
        self.excludes = excludes
    }

    public struct Outcome: Sendable {
        /// Saved as pending, with ids, in scan order.
        public var pending: [FileRecord] = []
        public var scanned = 0
        public var unchanged = 0
        public var problems: [ScanProblem] = []
        /// With `dryRun`: files that would become pending (nothing is saved).
        public var wouldUpload: [ScannedFile] = []
    }

    public func reconcile(root: WatchRoot, subtree: String = "", dryRun: Bool = false, now: Date = Date()) async throws -> Outcome {
        let scanner = TreeScanner(root: root, excludes: excludes)
        let scan = subtree.isEmpty ? scanner.scan() : scanner.scan(subtree: subtree)
        var outcome = Outcome()
        outcome.problems = scan.problems
        outcome.scanned = scan.files.count
        let known = try await journal.records(watch: root.name)
        let timestamp = now.timeIntervalSince1970
        var changed: [FileRecord] = []
        var seen = Set<String>(minimumCapacity: scan.files.count)
        for file in scan.files {
            seen.insert(file.relativePath)
            let record = known[file.relativePath]
            if let record, record.state == .mirrored, record.fingerprint == file.fingerprint {
                outcome.unchanged += 1
            } else if dryRun {
                outcome.wouldUpload.append(file)
            } else {
                changed.append(Self.pendingRecord(for: file, watch: root.name, known: record, now: timestamp))
            }
        }
        guard !dryRun else { return outcome }
        let inScope: (FileRecord) -> Bool = { subtree.isEmpty || $0.path.hasPrefix(subtree + "/") }
        let vanished = known.values.filter { !seen.contains($0.path) && inScope($0) && ($0.state == .pending || $0.state == .failed) }
        try await journal.save(vanished.map { record in
            var record = record
            record.state = .gone
            record.updatedAt = timestamp
            return record
        })
        outcome.pending = try await journal.save(changed)
        return outcome
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

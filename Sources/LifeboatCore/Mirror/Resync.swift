import Foundation
public import Logging

/// The one-shot mirror: reconcile every watch root with the journal, then hash and upload what
/// is new or changed and record each outcome.
public struct Resync: Sendable {
    public let configuration: AgentConfiguration
    public let journal: Journal
    public let remote: any RemoteStore
    public let logger: Logger
    public let progress: TransferProgress

    /// How often one resync tries a file that keeps changing under it before giving up on it.
    static let attemptsPerFile = 3

    public init(configuration: AgentConfiguration, journal: Journal, remote: any RemoteStore, logger: Logger, progress: TransferProgress) {
        self.configuration = configuration
        self.journal = journal
        self.remote = remote
        self.logger = logger
        self.progress = progress
    }

    public func run(dryRun: Bool) async throws -> ResyncReport {
        var report = ResyncReport()
        var work: [(FileRecord, WatchRoot)] = []
        let deletion = DeletionPolicy(mode: configuration.deleteMode, delay: configuration.deleteDelay)
        let reconciler = Reconciler(journal: journal, excludes: ExcludeMatcher(configuration.excludes), deletion: deletion)
        for root in configuration.watches {
            let outcome = try await reconciler.reconcile(root: root, dryRun: dryRun)
            report.scanned += outcome.scanned
            report.unchanged += outcome.unchanged
            report.failures += outcome.problems.map { .init(path: $0.path, reason: $0.reason) }
            report.wouldUpload += outcome.wouldUpload.map { .init(path: "\(root.path)/\($0.relativePath)", size: $0.fingerprint.size) }
            work += outcome.pending.map { ($0, root) }
            if let refusal = outcome.refusedDeletions {
                logger.error("refusing to delete remote copies under \(root.path): \(refusal); nothing was deleted")
            }
        }
        guard !dryRun else { return report }
        await remote.removeIncompleteUploads(logger: logger)
        progress.expect(files: work.count, bytes: work.reduce(0) { $0 + $1.0.size })
        try await upload(work, into: &report)
        progress.end()
        if deletion.mode == .mirror { try await deleteDue(into: &report) }
        return report
    }

    /// Remote deletions whose delay has passed (`mirror` mode); later ones wait for a later run.
    private func deleteDue(into report: inout ResyncReport) async throws {
        let deleter = RemoteDeleter(journal: journal, remote: remote, logger: logger)
        let now = Date()
        for record in try await journal.scheduledDeletions() where (record.nextAttemptAt ?? 0) <= now.timeIntervalSince1970 {
            guard let root = configuration.watches.first(where: { $0.name == record.watch }) else { continue }
            if await deleter.deleteIfDue(watch: record.watch, path: record.path, root: root, now: now) { report.deleted += 1 }
        }
    }

    private func upload(_ work: [(FileRecord, WatchRoot)], into report: inout ResyncReport) async throws {
        let uploader = Uploader(remote: remote)
        let journal = journal
        let logger = logger
        let progress = progress
        try await withThrowingTaskGroup(of: (Uploader.Outcome, WatchRoot).self) { group in
            var next = work.makeIterator()
            func startNext() {
                guard let (record, root) = next.next() else { return }
                group.addTask {
                    var outcome = await uploader.mirror(record, root: root)
                    var attempt = 1
                    while case .changed(let pending) = outcome, attempt < Self.attemptsPerFile {
                        attempt += 1
                        outcome = await uploader.mirror(pending, root: root)
                    }
                    return (outcome, root)
                }
            }
            for _ in 0..<configuration.concurrency { startNext() }
            while let (outcome, root) = try await group.next() {
                switch outcome {
                case .mirrored(let record, let bytes):
                    try await journal.save(record)
                    report.uploaded += 1
                    report.bytesUploaded += bytes
                    progress.finished(bytes: bytes)
                    logger.debug("mirrored", metadata: ["path": "\(root.path)/\(record.path)", "key": "\(record.remoteKey ?? "")"])
                case .gone(let record):
                    try await journal.save(record)
                    progress.finished(bytes: 0)
                case .changed(let record):
                    try await journal.save(record)
                    report.failures.append(.init(path: "\(root.path)/\(record.path)", reason: "kept changing while it was being mirrored; will be mirrored once it settles"))
                    progress.finished(bytes: 0)
                case .failed(let record, let error):
                    try await journal.save(record)
                    report.failures.append(.init(path: "\(root.path)/\(record.path)", reason: "\(error)"))
                    progress.finished(bytes: 0)
                }
                startNext()
            }
        }
    }
}

import Foundation
import S3
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

    /// Journal rows are saved this many at a time at most.
    static let journalBatch = 100

    /// After this many files in a row failed because the remote could not be reached at all, the
    /// rest are not tried: each would spend its retries on the same dead endpoint, and a mistyped
    /// endpoint would take many minutes to report. They stay pending in the journal.
    static let unreachableStreak = 8

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
        // Leftovers of an interrupted run belong to files that are still pending: with nothing to
        // upload there is nothing to clean, and a no-op resync stays off the network.
        if !work.isEmpty { await remote.removeIncompleteUploads(startedBefore: Date(), logger: logger) }
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
            // Outcomes are journaled in batches: one transaction per file cost more CPU than the
            // upload of a small file. A crash before a batch is saved only means re-uploading it.
            var marks: [FileRecord] = []
            var lastSave = ContinuousClock.now
            var unreachable = 0
            var givenUp: (any Error)?
            while let (outcome, root) = try await group.next() {
                unreachable = if case .failed(_, let error) = outcome, Self.isUnreachable(error) { unreachable + 1 } else { 0 }
                switch outcome {
                case .mirrored(let record, let bytes):
                    marks.append(record)
                    report.uploaded += 1
                    report.bytesUploaded += bytes
                    progress.finished(bytes: bytes)
                    logger.debug("mirrored", metadata: ["path": "\(root.path)/\(record.path)", "key": "\(record.remoteKey ?? "")"])
                case .gone(let record):
                    marks.append(record)
                    progress.finished(bytes: 0)
                case .changed(let record):
                    marks.append(record)
                    report.failures.append(.init(path: "\(root.path)/\(record.path)", reason: "kept changing while it was being mirrored; will be mirrored once it settles"))
                    progress.finished(bytes: 0)
                case .failed(let record, let error):
                    marks.append(record)
                    report.failures.append(.init(path: "\(root.path)/\(record.path)", reason: "\(error)"))
                    progress.finished(bytes: 0)
                }
                if marks.count >= Self.journalBatch || ContinuousClock.now - lastSave > .milliseconds(200) {
                    try await journal.save(marks)
                    marks.removeAll(keepingCapacity: true)
                    lastSave = ContinuousClock.now
                }
                if unreachable >= Self.unreachableStreak, case .failed(_, let error) = outcome { givenUp = error }
                if givenUp == nil { startNext() }
            }
            try await journal.save(marks)
            if let givenUp {
                logger.error("the remote cannot be reached (\(givenUp)); the remaining files were not tried and stay queued")
                while let (record, root) = next.next() {
                    report.failures.append(.init(path: "\(root.path)/\(record.path)", reason: "not tried: the remote cannot be reached"))
                }
            }
        }
    }
}

extension Resync {
    private static func isUnreachable(_ error: any Error) -> Bool {
        guard let error = error as? S3Error, case .transport(let transport) = error.kind else { return false }
        return transport.isUnreachable
    }
}

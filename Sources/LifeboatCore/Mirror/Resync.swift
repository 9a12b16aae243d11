import Foundation
public import Logging

/// The one-shot reconcile: scan every watch root, let the journal decide what is new or changed,
/// hash and upload that, and record the outcome. `lifeboat run` performs the same pass at start-up.
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
        let excludes = ExcludeMatcher(configuration.excludes)
        let now = Date().timeIntervalSince1970

        for root in configuration.watches {
            let scan = TreeScanner(root: root, excludes: excludes).scan()
            for problem in scan.problems {
                report.failures.append(.init(path: problem.path, reason: problem.reason))
            }
            report.scanned += scan.files.count
            let known = try await journal.records(watch: root.name)
            var changed: [FileRecord] = []
            var seen = Set<String>()
            seen.reserveCapacity(scan.files.count)
            for file in scan.files {
                seen.insert(file.relativePath)
                if let record = known[file.relativePath], record.state == .mirrored, record.fingerprint == file.fingerprint {
                    report.unchanged += 1
                    continue
                }
                if dryRun {
                    report.wouldUpload.append(.init(path: "\(root.path)/\(file.relativePath)", size: file.fingerprint.size))
                    continue
                }
                changed.append(Self.pendingRecord(for: file, watch: root.name, known: known[file.relativePath], now: now))
            }
            // Rows waiting for files that no longer exist: nothing is left to upload.
            let vanished = known.values.filter { !seen.contains($0.path) && ($0.state == .pending || $0.state == .failed) }
            if !dryRun {
                try await journal.save(vanished.map { record in
                    var record = record
                    record.state = .gone
                    record.updatedAt = now
                    return record
                })
                for record in try await journal.save(changed) { work.append((record, root)) }
            }
        }

        guard !dryRun else { return report }
        progress.expect(files: work.count, bytes: work.reduce(0) { $0 + $1.0.size })
        try await upload(work, into: &report)
        progress.end()
        return report
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

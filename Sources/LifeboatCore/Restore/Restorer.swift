import Foundation
public import Logging
public import S3
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Brings the remote copy back: lists each watch's folder in the remote, downloads the objects in
/// parallel into temporary files inside the target, checks each against its `sha256` metadata,
/// fsyncs it, gives it its mtime and mode and renames it into place. Every path below the target
/// is resolved without following symlinks (`RestoreTarget`), and keys that could escape are
/// refused (guarantee 5).
///
/// When it restores into the watched directories themselves it rebuilds the journal as it goes,
/// marking each restored file mirrored with the fingerprint it has on disk, so a daemon or a
/// resync afterwards recognises the files instead of uploading them again. `lifeboat restore`
/// and `lifeboat run` (`LIFEBOAT_RESTORE_ON_START=if-empty`) both use it.
public struct Restorer: Sendable {
    public struct Options: Sendable, Equatable {
        /// Report what would be restored; write nothing, create no folder, leave the journal alone.
        public var dryRun: Bool
        /// Replace local files whose content differs from the remote.
        public var force: Bool
        /// `--to DIR`: restore watch NAME into `DIR/NAME` instead of the watch directory, and leave
        /// the journal alone (the files are not under the watches).
        public var destination: String?
        /// `--only NAME`: restore this watch only.
        public var only: String?

        public init(dryRun: Bool = false, force: Bool = false, destination: String? = nil, only: String? = nil) {
            self.dryRun = dryRun
            self.force = force
            self.destination = destination
            self.only = only
        }
    }

    public let configuration: AgentConfiguration
    /// nil: record nothing (the caller has no journal to rebuild).
    public let journal: Journal?
    public let remote: any RemoteStore
    public let logger: Logger
    public let progress: TransferProgress
    /// For downloads that fail part-way: the S3 client does not retry a streamed GET itself.
    public let retry: RetryPolicy

    /// Journal rows are written in batches of this many, so a large restore is not one
    /// transaction per file and a crash part-way loses at most one batch of marks.
    static let journalBatch = 100

    public init(
        configuration: AgentConfiguration, journal: Journal?, remote: any RemoteStore, logger: Logger,
        progress: TransferProgress = TransferProgress(verb: "restoring"), retry: RetryPolicy = RetryPolicy()
    ) {
        self.configuration = configuration
        self.journal = journal
        self.remote = remote
        self.logger = logger
        self.progress = progress
        self.retry = retry
    }

    /// Restores every watch (or `options.only`). Throws `ConfigurationError` for an unknown
    /// `only`, `RestoreError` when a target folder cannot be created or opened, and the remote's
    /// error when a listing fails; problems with single objects are in the report instead.
    public func run(_ options: Options = Options()) async throws -> RestoreReport {
        var report = RestoreReport()
        var work: [(WatchPlan, RemoteObject)] = []
        var plans: [WatchPlan] = []
        let recordsJournal = journal != nil && !options.dryRun && options.destination == nil

        for root in try selectedWatches(options.only) {
            let targetPath = options.destination.map { Self.absolute($0) + "/" + root.name } ?? root.path
            let target = try RestoreTarget(path: targetPath, create: !options.dryRun)
            let known = recordsJournal ? try await journal?.records(watch: root.name) ?? [:] : [:]
            let plan = WatchPlan(root: root, target: target, known: known, recordsJournal: recordsJournal)
            plans.append(plan)
            let folder = root.name + "/"
            // Listing "NAME" rather than "NAME/" and filtering gives the same objects, and keeps "/"
            // out of the prefix parameter when the remote has no prefix of its own: moto's
            // signature check (our test server) miscomputes query values holding "/".
            try await remote.list(prefix: root.name) { page in
                for object in page where object.key.hasPrefix(folder) {
                    if Self.isFolderMarker(object, under: folder) { continue }
                    work.append((plan, object))
                }
            }
        }

        report.objects = work.count
        logger.debug("restoring", metadata: ["objects": "\(work.count)", "remote": "\(remote.location)"])
        progress.expect(files: work.count, bytes: work.reduce(0) { $0 + $1.1.size })
        try await restore(work, options: options, into: &report)
        progress.end()
        for plan in plans { plan.syncTouchedFolders() }
        return report
    }

    /// True when every watched directory is missing or has nothing in it: the state a sidecar
    /// finds after a redeploy, and the condition for `LIFEBOAT_RESTORE_ON_START=if-empty`. A
    /// directory that cannot be read counts as not empty, so an unreadable mount never triggers
    /// a restore over it.
    public static func watchesAreEmpty(_ watches: [WatchRoot]) -> Bool {
        watches.allSatisfy { root in
            guard let stream = opendir(root.path) else { return errno == ENOENT }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let isDotOrDotDot = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    raw[0] == UInt8(ascii: ".") && (raw[1] == 0 || (raw[1] == UInt8(ascii: ".") && raw[2] == 0))
                }
                if !isDotOrDotDot { return false }
            }
            return true
        }
    }

    // MARK: Work

    private func selectedWatches(_ only: String?) throws(ConfigurationError) -> [WatchRoot] {
        guard let only else { return configuration.watches }
        guard let root = configuration.watches.first(where: { $0.name == only }) else {
            let names = configuration.watches.map(\.name).joined(separator: ", ")
            throw ConfigurationError("--only \(only): no watch is named \"\(only)\" (the watches are: \(names))")
        }
        return [root]
    }

    private enum Outcome: Sendable {
        case restored(RestoreReport.Entry, verified: Bool, record: FileRecord?)
        case present(RestoreReport.Entry, record: FileRecord?)
        case kept(RestoreReport.Entry)
        case wouldRestore(RestoreReport.Entry)
        case refused(RestoreReport.Problem)
        case failed(RestoreReport.Problem)
    }

    private func restore(_ work: [(WatchPlan, RemoteObject)], options: Options, into report: inout RestoreReport) async throws {
        let progress = progress
        let logger = logger
        try await withThrowingTaskGroup(of: (Outcome, Int64).self) { group in
            var next = work.makeIterator()
            func startNext() {
                guard let (plan, object) = next.next() else { return }
                group.addTask { (await self.restore(object, plan: plan, options: options), object.size) }
            }
            for _ in 0..<configuration.concurrency { startNext() }
            var marks: [FileRecord] = []
            var lastSave = ContinuousClock.now
            while let (outcome, listedSize) = try await group.next() {
                var mark: FileRecord?
                switch outcome {
                case .restored(let entry, let verified, let record):
                    if verified { report.restored.append(entry) } else { report.unverified.append(entry) }
                    mark = record
                    logger.debug("restored", metadata: ["path": "\(entry.path)", "key": "\(entry.key)", "verified": "\(verified)"])
                case .present(let entry, let record):
                    report.alreadyPresent.append(entry)
                    mark = record
                case .kept(let entry):
                    report.kept.append(entry)
                case .wouldRestore(let entry):
                    report.wouldRestore.append(entry)
                case .refused(let problem):
                    report.refused.append(problem)
                case .failed(let problem):
                    report.failed.append(problem)
                }
                if let mark { marks.append(mark) }
                // Batched for speed, but never held back long: a daemon running beside the
                // restore must find a restored file journaled before its settle time is up.
                if let journal, marks.count >= Self.journalBatch || (!marks.isEmpty && ContinuousClock.now - lastSave > .milliseconds(50)) {
                    try await journal.save(marks)
                    marks.removeAll(keepingCapacity: true)
                    lastSave = ContinuousClock.now
                }
                progress.finished(bytes: listedSize)
                startNext()
            }
            if !marks.isEmpty, let journal { try await journal.save(marks) }
        }
        for keyPath in [\RestoreReport.restored, \.unverified, \.alreadyPresent, \.kept, \.wouldRestore] {
            report[keyPath: keyPath].sort { $0.key < $1.key }
        }
        report.refused.sort { $0.key < $1.key }
        report.failed.sort { $0.key < $1.key }
    }

    private func restore(_ object: RemoteObject, plan: WatchPlan, options: Options) async -> Outcome {
        let relative = String(object.key.dropFirst(plan.root.name.count + 1))
        let entry = RestoreReport.Entry(key: object.key, path: plan.target.path + "/" + relative, size: object.size)
        if let problem = ObjectKey.problem(with: object.key) {
            return .refused(.init(key: object.key, reason: "not restored: \(problem)"))
        }
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        let folderComponents = components.dropLast()
        do {
            guard let folder = try plan.target.openFolder(folderComponents, create: !options.dryRun) else {
                return .wouldRestore(entry)
            }
            defer { close(folder) }
            let outcome = try await restore(object, entry: entry, relative: relative, name: String(components.last ?? ""), folder: folder, plan: plan, options: options)
            if case .restored = outcome { plan.touched(folderComponents) }
            return outcome
        } catch let error as RestoreError where error.isRefusal {
            return .refused(.init(key: object.key, reason: error.message))
        } catch {
            return .failed(.init(key: object.key, reason: "\(error)"))
        }
    }

    private func restore(
        _ object: RemoteObject, entry: RestoreReport.Entry, relative: String, name: String, folder: Int32, plan: WatchPlan, options: Options
    ) async throws -> Outcome {
        // What is at the final name decides whether to download at all.
        var local: (sha256: String, info: stat)?
        var existed = false
        switch try plan.target.entry(in: folder, name: name) {
        case .missing:
            break
        case .other(let what):
            throw RestoreError(refusing: "\(entry.path) is \(what) in the target; not replacing it")
        case .regular(let info):
            existed = true
            if let record = plan.known[relative], record.state == .mirrored, record.sha256 != nil,
               record.fingerprint == FileFingerprint(stat: info), record.size == object.size, record.etag == object.etag {
                // The journal vouches for this exact file and this exact object: nothing to do.
                return .present(entry, record: nil)
            }
            var differs = Int64(info.st_size) != object.size
            if !differs {
                guard let digest = try plan.target.digest(in: folder, name: name, displayPath: entry.path) else {
                    throw RestoreError("\(entry.path) changed while it was being compared; run restore again")
                }
                local = digest
                if let expected = try await expectedDigest(of: object, relative: relative, plan: plan) {
                    if expected == digest.sha256 {
                        return .present(entry, record: plan.record(relative, info: digest.info, sha256: digest.sha256, key: object.key, etag: object.etag))
                    }
                    differs = true
                }
            }
            if differs, !options.force { return .kept(entry) }
        }
        if options.dryRun { return .wouldRestore(entry) }

        let (file, temporary) = try plan.target.createTemporary(in: folder)
        var placed = false
        defer {
            close(file)
            if !placed { plan.target.remove(temporary, in: folder) }
        }
        let fetched = try await remote.download(key: object.key, into: file, path: entry.path, retry: retry)
        let (digest, bytes) = try DescriptorDigest.sha256(of: file, path: entry.path)
        guard bytes == fetched.size else {
            throw RestoreError("the download ended after \(bytes) of \(fetched.size) bytes; not restored")
        }
        if let expected = fetched.sha256, expected != digest {
            throw RestoreError("the downloaded content has SHA-256 \(digest) but the object's sha256 metadata says \(expected); not restored")
        }
        let written = RestoreReport.Entry(key: object.key, path: entry.path, size: bytes)
        if let local {
            // Same size and no checksum to compare with beforehand: the download settles it.
            if local.sha256 == digest {
                return .present(written, record: plan.record(relative, info: local.info, sha256: digest, key: object.key, etag: fetched.etag))
            }
            if !options.force { return .kept(written) }
        }

        // Only permission bits: set-id bits from a bucket anyone else can write to would let
        // that someone plant a set-user-ID program on this host.
        let mode = (fetched.mode ?? 0o644) & 0o777
        guard fchmod(file, mode_t(mode)) == 0 else { throw FileReadError(path: entry.path, errno: errno) }
        if let mtime = fetched.mtimeNanoseconds {
            let times = [timespec(tv_sec: 0, tv_nsec: Self.utimeOmit), DirectoryRemote.timespec(nanoseconds: mtime)]
            guard futimens(file, times) == 0 else { throw FileReadError(path: entry.path, errno: errno) }
        }
        guard fsync(file) == 0 else { throw FileReadError(path: entry.path, errno: errno) }

        // Something may have appeared at the final name while the download ran.
        switch try plan.target.entry(in: folder, name: name) {
        case .other(let what):
            throw RestoreError(refusing: "\(entry.path) is \(what) in the target; not replacing it")
        case .regular where !existed && !options.force:
            return .kept(written)
        default:
            break
        }
        try plan.target.rename(temporary, to: name, in: folder)
        placed = true
        // rename changes the ctime: the fingerprint is taken after it, as a later scan will see it.
        var info = stat()
        guard fstat(file, &info) == 0 else { throw FileReadError(path: entry.path, errno: errno) }
        let record = plan.record(relative, info: info, sha256: digest, key: object.key, etag: fetched.etag)
        return .restored(written, verified: fetched.sha256 != nil, record: record)
    }

    /// The SHA-256 the object should have: from the journal when it recorded this very object
    /// (same ETag), else from the object's metadata (one HEAD). nil when it carries none.
    private func expectedDigest(of object: RemoteObject, relative: String, plan: WatchPlan) async throws -> String? {
        if let record = plan.known[relative], record.etag == object.etag, let sha256 = record.sha256 {
            return sha256
        }
        guard let head = try await remote.head(key: object.key) else {
            throw RestoreError("the object disappeared from the remote while restoring")
        }
        return head.sha256
    }

    /// S3 consoles create empty `folder/` objects so that a folder shows; they hold no file and
    /// are skipped. One whose path would be unsafe is left for `ObjectKey` to refuse and name.
    static func isFolderMarker(_ object: RemoteObject, under folder: String) -> Bool {
        guard object.key.hasSuffix("/"), object.size == 0 else { return false }
        return object.key == folder || ObjectKey.problem(with: String(object.key.dropLast())) == nil
    }

    private static func absolute(_ path: String) -> String {
        var result = URL(fileURLWithPath: path).standardizedFileURL.path
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// UTIME_OMIT, which Glibc does not export to Swift: leave the access time alone.
    private static let utimeOmit = (1 << 30) - 2
}

/// One watch being restored: where to, and the journal rows it had before.
private final class WatchPlan: Sendable {
    let root: WatchRoot
    let target: RestoreTarget
    let known: [String: FileRecord]
    let recordsJournal: Bool
    /// Folders (relative to the target) that received a file and must be fsynced at the end.
    private let touchedFolders = Mutex<Set<String>>([])

    init(root: WatchRoot, target: RestoreTarget, known: [String: FileRecord], recordsJournal: Bool) {
        self.root = root
        self.target = target
        self.known = known
        self.recordsJournal = recordsJournal
    }

    /// The journal row for a file now in place, or nil when the journal is not being rebuilt.
    func record(_ relative: String, info: stat, sha256: String, key: String, etag: String) -> FileRecord? {
        guard recordsJournal else { return nil }
        let now = Date().timeIntervalSince1970
        let earlier = known[relative]
        let fingerprint = FileFingerprint(stat: info)
        return FileRecord(
            id: earlier?.id, watch: root.name, path: relative, size: fingerprint.size,
            mtimeNanoseconds: fingerprint.mtimeNanoseconds, ctimeNanoseconds: fingerprint.ctimeNanoseconds,
            inode: fingerprint.inode, sha256: sha256, state: .mirrored, remoteKey: key, etag: etag, attempts: 0,
            lastError: nil, nextAttemptAt: nil, discoveredAt: earlier?.discoveredAt ?? now, updatedAt: now, mirroredAt: now)
    }

    /// Remembers the folder and every folder above it: a new folder's own entry lives in its parent.
    func touched(_ components: some Collection<Substring>) {
        touchedFolders.withLock { folders in
            var path = ""
            folders.insert(path)
            for component in components {
                path = path.isEmpty ? String(component) : path + "/" + component
                folders.insert(path)
            }
        }
    }

    func syncTouchedFolders() {
        let folders = touchedFolders.withLock { $0 }
        // Deepest first, so each folder's entry is durable before its parent's sync.
        for folder in folders.sorted(by: { $0.count > $1.count }) {
            target.syncFolder(folder.isEmpty ? [] : folder.split(separator: "/"))
        }
    }
}

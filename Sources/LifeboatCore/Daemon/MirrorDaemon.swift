import CLinux
import Foundation
public import Logging
public import ServiceLifecycle
import S3
import Synchronization

/// `lifeboat run`: watch the trees and mirror every file that settles, until graceful shutdown.
///
/// The order of start-up matters: watches are placed first, then the trees are reconciled with
/// the journal, so nothing written during start-up falls between the two. From then on:
/// watcher → settle queue → journal (pending row) → upload queue → workers → remote. Periodic
/// rescans, overflow rescans and retries all feed the same path.
public final class MirrorDaemon: Service, Sendable {
    private let configuration: AgentConfiguration
    private let journal: Journal
    private let remote: any RemoteStore
    private let logger: Logger
    private let excludes: ExcludeMatcher
    private let settle: SettleQueue<ContinuousClock>
    private let queue = UploadQueue()
    private let backoff = RetryBackoff()
    private let state = Mutex(State())
    private let metrics: AgentMetrics?
    private let notifier: DurableFileNotifier?
    private let locator: ObjectLocator
    /// Created with the daemon so that a start-up failure (no inotify instances left) is reported
    /// before anything runs; tests reach it to feed events such as an overflow.
    let watcher: InotifyWatcher

    private struct State {
        var lostRoots = Set<WatchRoot>()
        var unwatchable: [WatchRoot: Set<String>] = [:]
        var ready = false
        var stopping = false
        var running = false
        /// The remote answered the readiness probe, or acknowledged an upload.
        var remoteAnswered = false
        var remoteProblem: String?
        var restoring = false
    }

    public init(
        configuration: AgentConfiguration, journal: Journal, remote: any RemoteStore, logger: Logger,
        metrics: AgentMetrics? = nil, notifier: DurableFileNotifier? = nil
    ) throws {
        self.configuration = configuration
        self.journal = journal
        self.remote = remote
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        self.locator = ObjectLocator(configuration: configuration)
        self.excludes = ExcludeMatcher(configuration.excludes)
        self.settle = SettleQueue(settle: configuration.settle, clock: ContinuousClock())
        self.watcher = try InotifyWatcher(excludes: excludes, logger: logger)
    }

    /// True once the start-up reconcile is done.
    public var isReady: Bool { state.withLock { $0.ready } }

    public func run() async throws {
        state.withLock { $0.running = true }
        defer { state.withLock { $0.running = false } }
        try await restoreIfEmpty()
        let watcher = watcher
        for root in configuration.watches where !watcher.watch(root: root) {
            logger.warning("watch root \(root.path) is missing; it will be watched once it exists")
            _ = state.withLock { $0.lostRoots.insert(root) }
        }
        watcher.start()
        logger.info("watching \(configuration.watches.count) directories (\(watcher.watchCount) inotify watches), mirroring to \(remote.location)")

        try await withTaskCancellationHandler {
            try await mirror(watcher: watcher)
        } onCancel: {
            stop(watcher: watcher)
        }
        logger.info("stopped")
    }

    /// LIFEBOAT_RESTORE_ON_START=if-empty: a sidecar after a redeploy finds its volumes empty and
    /// brings them back before watching, with the endpoint already answering (a long restore must
    /// not look like a dead agent to a liveness probe). Restored rows are journaled as mirrored,
    /// so the start-up reconcile does not upload them again.
    private func restoreIfEmpty() async throws {
        guard configuration.restoreOnStart == .ifEmpty, Restorer.watchesAreEmpty(configuration.watches) else { return }
        logger.info("every watched directory is empty: restoring from \(remote.location) before watching")
        state.withLock { $0.restoring = true }
        defer { state.withLock { $0.restoring = false } }
        let report = try await Restorer(
            configuration: configuration, journal: journal, remote: remote, logger: logger,
            progress: TransferProgress(verb: "restoring", enabled: false)
        ).run()
        logger.info("\(report.summary)")
        for line in report.problemLines { logger.error("\(line)") }
        for root in configuration.watches {
            try? FileManager.default.createDirectory(atPath: root.path, withIntermediateDirectories: true)
        }
    }

    private func mirror(watcher: InotifyWatcher) async throws {
        let startedAt = Date()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.consume(watcher.events, watcher: watcher) }
                group.addTask { await self.drainSettled() }
                group.addTask { try await self.periodicRescans(watcher: watcher) }
                group.addTask { await self.probeRemote() }
                let wide = max(1, configuration.concurrency / 2)
                for index in 0..<configuration.concurrency {
                    group.addTask { await self.work(lane: index < wide ? .any : .smallOnly) }
                }
                await self.resumeScheduledDeletions()
                await self.reconcileAll(reason: .startup)
                state.withLock { $0.ready = true }
                // After the reconcile, so a slow remote does not hold up journaling what is on
                // disk; uploads this run has already begun are spared.
                await self.remote.removeIncompleteUploads(startedBefore: startedAt, logger: self.logger)
                _ = lifeboat_release_free_memory()
                try await group.waitForAll()
            }
            // Every upload has finished or been aborted: whatever is still open under the prefix
            // is an orphan, such as one a lost CreateMultipartUpload answer left. A clean stop
            // leaves none; a remote that never answered is not waited on.
            if !Task.isCancelled, state.withLock({ $0.remoteAnswered }) {
                await self.remote.removeIncompleteUploads(startedBefore: Date(), logger: self.logger)
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: finishing uploads in flight (up to \(self.configuration.shutdownGrace)); the rest stays queued in the journal")
            self.stop(watcher: watcher)
        }
    }

    /// Stops taking work: no more events, no more jobs handed out. Uploads in flight finish.
    private func stop(watcher: InotifyWatcher) {
        let alreadyStopping = state.withLock { state in
            defer { state.stopping = true }
            return state.stopping
        }
        guard !alreadyStopping else { return }
        watcher.stop()
        Task {
            await self.settle.finish()
            await self.queue.close()
        }
    }

    // MARK: Discovering files

    private func consume(_ events: AsyncStream<WatchEvent>, watcher: InotifyWatcher) async {
        for await event in events {
            switch event {
            case .fileWritten(let root, let path):
                await settle.add(.init(root: root, relativePath: path))
            case .fileModified(let root, let path):
                await settle.touch(.init(root: root, relativePath: path))
            case .directoryAppeared(let root, let path):
                await reconcile(root: root, subtree: path)
            case .unwatchable(let root, let path):
                _ = state.withLock { $0.unwatchable[root, default: []].insert(path) }
                metrics?.rescanned(reason: .watchLimit)
                await reconcile(root: root, subtree: path)
            case .overflow:
                metrics?.inotifyOverflowed()
                await reconcileAll(reason: .overflow)
            case .rootLost(let root):
                _ = state.withLock { $0.lostRoots.insert(root) }
            case .rootRestored(let root):
                metrics?.rescanned(reason: .rootRestored)
                await reconcile(root: root, subtree: "")
            }
        }
    }

    private func drainSettled() async {
        while let batch = await settle.next() {
            for candidate in batch { await consider(candidate) }
        }
    }

    /// Full rescans at LIFEBOAT_RESCAN_INTERVAL; every few seconds, roots that vanished are
    /// looked for and subtrees beyond the watch limit are rescanned.
    private func periodicRescans(watcher: InotifyWatcher) async throws {
        let tick = Duration.seconds(2)
        let unwatchableEvery = min(configuration.rescanInterval, .seconds(60))
        var sinceFull = Duration.zero
        var sinceUnwatchable = Duration.zero
        var sinceSweep = Duration.zero
        while !state.withLock({ $0.stopping }) {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            sinceFull += tick
            sinceUnwatchable += tick
            sinceSweep += tick
            if sinceSweep >= Self.incompleteUploadSweep {
                sinceSweep = .zero
                // A CreateMultipartUpload whose answer was lost and retried leaves an open upload
                // nobody will complete; one left open this long is such an orphan.
                let cutoff = Date().addingTimeInterval(-Double(Self.incompleteUploadSweep.components.seconds))
                await remote.removeIncompleteUploads(startedBefore: cutoff, logger: logger)
            }
            for root in state.withLock({ $0.lostRoots }) where watcher.rewatch(root: root) {
                _ = state.withLock { $0.lostRoots.remove(root) }
                logger.info("watch root \(root.path) is back; rescanning it")
                metrics?.rescanned(reason: .rootRestored)
                await reconcile(root: root, subtree: "")
            }
            if sinceUnwatchable >= unwatchableEvery {
                sinceUnwatchable = .zero
                for (root, paths) in state.withLock({ $0.unwatchable }) {
                    for path in paths {
                        metrics?.rescanned(reason: .watchLimit)
                        await reconcile(root: root, subtree: path)
                    }
                }
            }
            if sinceFull >= configuration.rescanInterval {
                sinceFull = .zero
                await reconcileAll(reason: .periodic)
            }
        }
    }

    private func reconcileAll(reason: RescanReason) async {
        logger.info("rescanning every watch root (\(reason))")
        metrics?.rescanned(reason: reason)
        for root in configuration.watches where !state.withLock({ $0.lostRoots.contains(root) }) {
            await reconcile(root: root, subtree: "")
        }
        // A full reconcile holds every journal row and every scanned path of a root at once. glibc
        // keeps freed memory mapped unless asked to return it, and an idle daemon watching 100,000
        // files would otherwise sit on tens of MiB it no longer uses.
        _ = lifeboat_release_free_memory()
    }

    private func reconcile(root: WatchRoot, subtree: String) async {
        do {
            let outcome = try await Reconciler(journal: journal, excludes: excludes, deletion: deletionPolicy).reconcile(root: root, subtree: subtree)
            for problem in outcome.problems { logger.warning("cannot mirror \(problem.path): \(problem.reason)") }
            if let refusal = outcome.refusedDeletions {
                logger.error("refusing to delete remote copies under \(root.path): \(refusal); nothing was deleted")
            }
            for record in outcome.scheduledDeletions { scheduleDeletion(record, root: root) }
            let now = Date().timeIntervalSince1970
            for record in outcome.pending {
                // A file modified within the settle time may still be being written: let it settle.
                let age = now - Double(record.mtimeNanoseconds) / 1e9
                if age < configuration.settle.seconds {
                    await settle.add(.init(root: root, relativePath: record.path))
                } else {
                    await queue.enqueue(job(root: root, record: record))
                }
            }
        } catch {
            logger.error("rescan of \(root.path)/\(subtree) failed: \(error)")
        }
    }

    /// A settled candidate becomes a pending journal row (unless it is unchanged), then a job.
    private func consider(_ candidate: SettleQueue<ContinuousClock>.Candidate) async {
        let root = candidate.root
        let path = "\(root.path)/\(candidate.relativePath)"
        do {
            let known = try await journal.record(watch: root.name, path: candidate.relativePath)
            guard let fingerprint = FileFingerprint.current(path: path) else { return }
            if let known, known.state == .mirrored, known.fingerprint == fingerprint { return }
            let file = ScannedFile(relativePath: candidate.relativePath, fingerprint: fingerprint, mode: 0)
            let pending = Reconciler.pendingRecord(for: file, watch: root.name, known: known, now: Date().timeIntervalSince1970)
            for record in try await journal.save([pending]) {
                await queue.enqueue(job(root: root, record: record))
            }
        } catch {
            logger.error("cannot record \(path) in the journal: \(error)")
        }
    }

    private func job(root: WatchRoot, record: FileRecord) -> UploadQueue.Job {
        UploadQueue.Job(root: root, path: record.path, isLarge: record.size >= configuration.multipartThreshold)
    }

    // MARK: Uploading

    private func work(lane: UploadQueue.Lane) async {
        let uploader = Uploader(remote: remote)
        while let job = await queue.next(lane: lane) {
            await upload(job, with: uploader)
            await queue.done(job)
        }
    }

    private func upload(_ job: UploadQueue.Job, with uploader: Uploader) async {
        let record: FileRecord
        do {
            guard let current = try await journal.record(watch: job.root.name, path: job.path),
                  current.state == .pending || current.state == .failed
            else { return }
            record = current
        } catch {
            logger.error("journal read failed for \(job.root.path)/\(job.path): \(error)")
            return
        }
        let started = ContinuousClock.now
        let outcome = await uploader.mirror(record, root: job.root)
        var saved: FileRecord
        switch outcome {
        case .mirrored(let mirrored, let bytes):
            saved = mirrored
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed.seconds
            remoteAnswered()
            metrics?.mirrored(bytes: bytes, duration: elapsed)
            logger.info("mirrored \(job.root.path)/\(job.path)", metadata: [
                "key": "\(mirrored.remoteKey ?? "")", "bytes": "\(bytes)", "seconds": "\(String(format: "%.3f", seconds))",
            ])
        case .gone(let gone):
            saved = gone
        case .changed(let changed):
            saved = changed
            await settle.add(.init(root: job.root, relativePath: job.path))
        case .failed(_, let error) where error is CancellationError:
            // Shutdown cut the upload short: the row stays as it was, pending for the next start.
            return
        case .failed(var failed, let error):
            let delay = backoff.delay(afterAttempt: failed.attempts, for: error)
            failed.nextAttemptAt = Date().timeIntervalSince1970 + delay.seconds
            saved = failed
            logger.error("upload of \(job.root.path)/\(job.path) failed: \(error); next attempt in \(String(format: "%.0f", delay.seconds))s (attempt \(failed.attempts))")
            metrics?.uploadFailed(error)
            scheduleRetry(job, after: delay)
        }
        do {
            try await journal.save(saved)
        } catch {
            logger.error("journal write failed for \(job.root.path)/\(job.path): \(error)")
            return
        }
        // Told only once the journal says mirrored, so an application that asks /v1/files on
        // receipt hears the same.
        if saved.state == .mirrored, let notifier {
            await notifier.notify(DurableFileEvent(mirrored: saved, root: job.root, locator: locator))
        }
    }

    // MARK: Readiness

    /// A key no one writes: asking for it costs one HEAD, which every provider answers (404),
    /// and proves the endpoint, the bucket and the signature work.
    static let probeKey = ".lifeboat-readiness-probe"

    /// How often the daemon looks for incomplete uploads, and how old one must be to be aborted.
    static let incompleteUploadSweep = Duration.seconds(3600)

    /// Readiness needs the remote to have answered. Any HTTP answer but 403 counts: a refusal of
    /// our credentials, like a network error, leaves the agent unready and is probed again, with
    /// growing pauses. Uploads do not wait for this; one that succeeds counts as an answer too
    /// (a key allowed to PUT but not to list sees 403 for every missing key).
    private func probeRemote() async {
        var pause = Duration.seconds(1)
        while !state.withLock({ $0.stopping || $0.remoteAnswered }) {
            do {
                _ = try await remote.head(key: Self.probeKey)
                remoteAnswered()
                return
            } catch is CancellationError {
                return
            } catch let error as S3Error where error.httpStatus != nil && error.httpStatus != 403 {
                remoteAnswered()
                return
            } catch {
                let first = state.withLock { state in
                    defer { state.remoteProblem = "\(error)" }
                    return state.remoteProblem == nil
                }
                let message = "readiness probe of the remote failed: \(error); probing again in \(String(format: "%.0f", pause.seconds))s"
                if first { logger.warning("\(message)") } else { logger.debug("\(message)") }
            }
            do {
                try await Task.sleep(for: pause)
            } catch {
                return
            }
            pause = min(pause * 2, .seconds(60))
        }
    }

    private func remoteAnswered() {
        let first = state.withLock { state in
            defer {
                state.remoteAnswered = true
                state.remoteProblem = nil
            }
            return !state.remoteAnswered && state.remoteProblem != nil
        }
        if first { logger.info("the remote answers again") }
    }

    private var deletionPolicy: DeletionPolicy {
        DeletionPolicy(mode: configuration.deleteMode, delay: configuration.deleteDelay)
    }

    /// Rows left scheduled for deletion by an earlier run.
    private func resumeScheduledDeletions() async {
        guard configuration.deleteMode == .mirror else { return }
        do {
            for record in try await journal.scheduledDeletions() {
                guard let root = configuration.watches.first(where: { $0.name == record.watch }) else { continue }
                scheduleDeletion(record, root: root)
            }
        } catch {
            logger.error("cannot read scheduled deletions from the journal: \(error)")
        }
    }

    private func scheduleDeletion(_ record: FileRecord, root: WatchRoot) {
        let deleter = RemoteDeleter(journal: journal, remote: remote, logger: logger)
        let due = max(0, (record.nextAttemptAt ?? 0) - Date().timeIntervalSince1970)
        logger.info("\(root.path)/\(record.path) was deleted locally; its remote copy will be deleted in \(Int(due))s unless it comes back")
        Task {
            try? await Task.sleep(for: .seconds(due))
            guard !self.state.withLock({ $0.stopping }) else { return }
            if await !deleter.deleteIfDue(watch: record.watch, path: record.path, root: root),
               let retry = try? await self.journal.record(watch: record.watch, path: record.path), retry.state == .deleting {
                // A failed delete was rescheduled in the journal; follow it.
                self.scheduleDeletion(retry, root: root)
            }
        }
    }

    fileprivate var readiness: Readiness {
        state.withLock { state in
            if !state.running { return .notReady("not running") }
            if state.stopping { return .notReady("shutting down") }
            if state.restoring { return .notReady("restoring the watched directories from the remote") }
            // A remote that does not answer is usually also why the reconcile is slow: say so first.
            if !state.remoteAnswered, let problem = state.remoteProblem { return .notReady("waiting for the remote to answer: \(problem)") }
            if !state.ready { return .notReady("start-up reconcile in progress") }
            if !state.remoteAnswered { return .notReady("waiting for the remote to answer") }
            return .ready
        }
    }

    private func scheduleRetry(_ job: UploadQueue.Job, after delay: Duration) {
        Task { [queue] in
            try? await Task.sleep(for: delay)
            await queue.enqueue(job)
        }
    }
}

extension MirrorDaemon: AgentStatusSource {
    public func snapshot() async -> AgentSnapshot {
        AgentSnapshot(
            isAlive: state.withLock { $0.running }, readiness: readiness,
            queueDepth: await queue.depth, uploadsInFlight: await queue.inFlight, watches: watcher.watchCount)
    }
}

import Metrics
// Only these two: Prometheus's own Counter and Gauge would shadow swift-metrics' ones.
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory
import Synchronization

/// What the agent counts and measures, under the `lifeboat_` names operators scrape and alert on.
///
/// The daemon reports events through the intention-revealing methods below; the gauges that
/// describe the journal and the queue are set at scrape time (`observe`). Labels are short codes
/// from closed or provider-defined sets, never messages, so no path, URL or secret can become a
/// time series. Each instance has its own registry: nothing is bootstrapped process-wide.
public final class AgentMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let factory: DescribedPrometheusFactory

    private let filesMirrored: Counter
    private let bytesMirrored: Counter
    private let uploadDuration: Metrics.Timer
    private let overflows: Counter
    private let queueDepth: Gauge
    private let uploadsInFlight: Gauge
    private let watches: Gauge
    private let filesPending: Gauge
    private let filesFailed: Gauge
    private let oldestPendingAge: Gauge
    /// Upload errors by code, made on first use; the lock only guards the cache.
    private let uploadErrors = Mutex<[String: Counter]>([:])

    /// Metric names and their `# HELP` text.
    enum Name {
        static let filesMirrored = "lifeboat_files_mirrored_total"
        static let bytesMirrored = "lifeboat_bytes_mirrored_total"
        static let uploadErrors = "lifeboat_upload_errors_total"
        static let uploadDuration = "lifeboat_upload_duration_seconds"
        static let rescans = "lifeboat_rescans_total"
        static let overflows = "lifeboat_inotify_overflows_total"
        static let queueDepth = "lifeboat_queue_depth"
        static let uploadsInFlight = "lifeboat_uploads_in_flight"
        static let watches = "lifeboat_watches"
        static let filesPending = "lifeboat_files_pending"
        static let filesFailed = "lifeboat_files_failed"
        static let oldestPendingAge = "lifeboat_oldest_pending_age_seconds"
        static let notifications = "lifeboat_notifications_total"

        static let help: [String: String] = [
            filesMirrored: "Files the remote acknowledged as completely stored.",
            bytesMirrored: "Bytes of the files the remote acknowledged.",
            uploadErrors: "Failed uploads by the provider's error code (or a local category); each is retried later.",
            uploadDuration: "Time from starting an upload (hashing included) to the remote's acknowledgement.",
            rescans: "Full or partial rescans of the watched trees, by reason.",
            overflows: "Times the kernel's inotify queue overflowed; each triggers a rescan.",
            queueDepth: "Files queued in memory for an upload worker.",
            uploadsInFlight: "Uploads running now.",
            watches: "inotify watches in use.",
            filesPending: "Files the journal has not yet seen mirrored (new or changed).",
            filesFailed: "Files whose last upload failed and that wait for their next attempt.",
            oldestPendingAge: "Age of the oldest file not yet mirrored, 0 when none: the recovery point to alert on.",
            notifications: "LIFEBOAT_NOTIFY_URL events by outcome: delivered, abandoned after retries, dropped from a full queue.",
        ]
    }

    /// How a durable-file notification ended.
    public enum NotificationOutcome: String, Sendable, CaseIterable {
        case delivered
        /// Every attempt failed, or the receiver refused it outright.
        case abandoned
        /// Pushed out of the full in-memory queue by newer events.
        case dropped
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var base = PrometheusMetricsFactory(registry: registry)
        // Uploads range from a few milliseconds (small files, local remote) to many minutes (large
        // files over a slow link); the default buckets stop at ten seconds.
        base.durationHistogramBuckets[Name.uploadDuration] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            .seconds(120), .seconds(300), .seconds(900),
        ]
        let factory = DescribedPrometheusFactory(base: base, help: Name.help)
        self.factory = factory
        filesMirrored = Counter(label: Name.filesMirrored, factory: factory)
        bytesMirrored = Counter(label: Name.bytesMirrored, factory: factory)
        uploadDuration = Metrics.Timer(label: Name.uploadDuration, factory: factory)
        overflows = Counter(label: Name.overflows, factory: factory)
        queueDepth = Gauge(label: Name.queueDepth, factory: factory)
        uploadsInFlight = Gauge(label: Name.uploadsInFlight, factory: factory)
        watches = Gauge(label: Name.watches, factory: factory)
        filesPending = Gauge(label: Name.filesPending, factory: factory)
        filesFailed = Gauge(label: Name.filesFailed, factory: factory)
        oldestPendingAge = Gauge(label: Name.oldestPendingAge, factory: factory)
        // Series of closed label sets start at zero, so that rate() and alerts see them from the start.
        for reason in RescanReason.allCases {
            _ = Counter(label: Name.rescans, dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        for outcome in NotificationOutcome.allCases {
            _ = Counter(label: Name.notifications, dimensions: [("outcome", outcome.rawValue)], factory: factory)
        }
    }

    // MARK: Events

    /// A file became durable: the remote acknowledged `bytes` after `duration`.
    public func mirrored(bytes: Int64, duration: Duration) {
        filesMirrored.increment()
        bytesMirrored.increment(by: bytes)
        uploadDuration.record(duration: duration)
    }

    /// An upload failed with the provider's (or a local) error code; see `ErrorCode`.
    public func uploadFailed(code: String) {
        let code = ErrorCode.sanitized(code)
        let counter = uploadErrors.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = Counter(label: Name.uploadErrors, dimensions: [("code", code)], factory: factory)
            counters[code] = counter
            return counter
        }
        counter.increment()
    }

    /// An upload failed with `error`, labelled by its code.
    public func uploadFailed(_ error: any Error) {
        uploadFailed(code: ErrorCode.of(error))
    }

    public func rescanned(reason: RescanReason) {
        Counter(label: Name.rescans, dimensions: [("reason", reason.rawValue)], factory: factory).increment()
    }

    public func inotifyOverflowed() {
        overflows.increment()
    }

    public func notification(_ outcome: NotificationOutcome) {
        Counter(label: Name.notifications, dimensions: [("outcome", outcome.rawValue)], factory: factory).increment()
    }

    // MARK: Scrape time

    /// The journal's view: files pending and failed, and the recovery point.
    public func observe(_ summary: JournalSummary) {
        filesPending.record(summary.pending)
        filesFailed.record(summary.failed)
        oldestPendingAge.record(summary.oldestPendingAgeSeconds ?? 0)
    }

    /// The running agent's view: its queue and its watches.
    public func observe(_ snapshot: AgentSnapshot) {
        queueDepth.record(snapshot.queueDepth)
        uploadsInFlight.record(snapshot.uploadsInFlight)
        watches.record(snapshot.watches)
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String {
        registry.emitToString()
    }
}

import Foundation
public import Logging
import S3
public import ServiceLifecycle

/// POSTs a `DurableFileEvent` to LIFEBOAT_NOTIFY_URL each time a file becomes durable, so an
/// application learns that its file is safe and where it lives.
///
/// Uploads never wait for the receiver: `notify` only queues the event, and `run()` delivers the
/// queue in order on its own task, retrying a failed POST with growing pauses. The queue lives
/// in memory and is bounded; when the receiver is away long enough to fill it, the oldest events
/// are dropped with a warning (the journal and `/v1/files` still say which files are durable).
public actor DurableFileNotifier: Service {
    public struct Configuration: Sendable {
        /// The receiver; http:// or https://.
        public var url: String
        /// Events held while the receiver is slow or down.
        public var capacity: Int
        /// POSTs per event before it is given up.
        public var attempts: Int
        /// The pause after the first failure; it doubles after each further one.
        public var firstRetryDelay: Duration
        public var maximumRetryDelay: Duration

        /// The defaults retry an event for about three minutes: 2, 4, 8, 16, 32, 60 and 60 seconds.
        public init(url: String, capacity: Int = 10_000, attempts: Int = 8, firstRetryDelay: Duration = .seconds(2), maximumRetryDelay: Duration = .seconds(60)) {
            self.url = url
            self.capacity = max(1, capacity)
            self.attempts = max(1, attempts)
            self.firstRetryDelay = firstRetryDelay
            self.maximumRetryDelay = maximumRetryDelay
        }
    }

    private let configuration: Configuration
    private let transport: CurlTransport
    private let metrics: AgentMetrics?
    private let logger: Logger
    private let target: String

    private var queue: [DurableFileEvent] = []
    private var head = 0
    private var waiter: CheckedContinuation<Void, Never>?
    private var retryPause: Task<Void, Never>?
    private var closing = false

    public init(configuration: Configuration, metrics: AgentMetrics? = nil, logger: Logger) {
        self.configuration = configuration
        // A receiver is a web application next door: it should answer within seconds, and one
        // that hangs must not hold the queue for the minute an S3 transfer is allowed to stall.
        self.transport = CurlTransport(configuration: .init(
            caBundlePath: CurlTransport.Configuration.fromEnvironment().caBundlePath, connectTimeoutSeconds: 5, stallTimeoutSeconds: 15))
        self.metrics = metrics
        self.logger = logger
        self.target = NotifyTarget.redacted(configuration.url)
    }

    /// Events waiting to be delivered, not counting one being delivered now.
    public var backlog: Int { queue.count - head }

    /// Queues the event and returns at once.
    public func notify(_ event: DurableFileEvent) {
        if backlog >= configuration.capacity, let dropped = popFirst() {
            metrics?.notification(.dropped)
            logger.warning("notification queue full (\(configuration.capacity) events, \(target) not keeping up): dropped the event for \(dropped.path)")
        }
        queue.append(event)
        waiter?.resume()
        waiter = nil
    }

    /// Delivers until graceful shutdown, then gives each event still queued one last try.
    /// Cancellation stops at once.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            while let event = await next() {
                await deliver(event)
            }
        } onCancelOrGracefulShutdown: {
            Task { await self.close() }
        }
        if backlog > 0 {
            logger.warning("\(backlog) durable-file notification(s) to \(target) not sent: shutting down")
        }
    }

    private func close() {
        closing = true
        retryPause?.cancel()
        waiter?.resume()
        waiter = nil
    }

    private func next() async -> DurableFileEvent? {
        while true {
            if Task.isCancelled { return nil }
            if let event = popFirst() { return event }
            if closing { return nil }
            await withCheckedContinuation { waiter = $0 }
        }
    }

    private func popFirst() -> DurableFileEvent? {
        guard head < queue.count else { return nil }
        let event = queue[head]
        head += 1
        if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return event
    }

    // MARK: Delivering one event

    private enum Outcome {
        case delivered
        /// Worth trying again: no answer, a server fault, throttling.
        case failed(String)
        /// The receiver said no (4xx): the same request will not do better.
        case refused(String)
    }

    private func deliver(_ event: DurableFileEvent) async {
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            body = try encoder.encode(event)
        } catch {
            logger.error("cannot encode the notification for \(event.path): \(error)")
            return
        }
        var attempt = 0
        while true {
            attempt += 1
            switch await post(body) {
            case .delivered:
                metrics?.notification(.delivered)
                logger.debug("notified \(target) that \(event.path) is durable", metadata: ["key": "\(event.key)"])
                return
            case .refused(let reason):
                metrics?.notification(.abandoned)
                logger.error("notification for \(event.path) refused by \(target): \(reason); not retried")
                return
            case .failed(let reason):
                guard attempt < configuration.attempts, !closing, !Task.isCancelled else {
                    metrics?.notification(.abandoned)
                    logger.error("notification for \(event.path) to \(target) failed: \(reason); giving up after \(attempt) attempt(s)")
                    return
                }
                let delay = retryDelay(afterAttempt: attempt)
                logger.warning("notification for \(event.path) to \(target) failed: \(reason); next attempt in \(String(format: "%.1f", delay.seconds))s (attempt \(attempt) of \(configuration.attempts))")
                await pause(delay)
            }
        }
    }

    private func post(_ body: Data) async -> Outcome {
        let request = HTTPRequest(
            method: "POST", url: configuration.url,
            headers: [HTTPHeader("content-type", "application/json"), HTTPHeader("user-agent", "lifeboat")],
            body: .bytes(body))
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return .failed("\(error)")
        }
        let answer = Self.describe(response)
        switch response.status {
        case 200..<300: return .delivered
        case 408, 425, 429, 500...: return .failed(answer)
        default: return .refused(answer)
        }
    }

    /// "HTTP 503: <the first line of what the receiver said>".
    private static func describe(_ response: HTTPResponse) -> String {
        let said = String(decoding: response.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return said.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status): \(said)"
    }

    private func retryDelay(afterAttempt attempt: Int) -> Duration {
        var delay = configuration.firstRetryDelay
        for _ in 1..<attempt where delay < configuration.maximumRetryDelay { delay *= 2 }
        return min(delay, configuration.maximumRetryDelay)
    }

    /// Sleeps, unless shutdown comes first: then the remaining events each get one last try.
    private func pause(_ delay: Duration) async {
        let sleeper = Task { _ = try? await Task.sleep(for: delay) }
        retryPause = sleeper
        await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
        retryPause = nil
    }
}

import Foundation
import Hummingbird
public import Logging
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP endpoint on LIFEBOAT_LISTEN: `/healthz`, `/readyz`, `/metrics`, `/v1/status` and
/// `/v1/files?path=`. Runs in the same ServiceGroup as the daemon; it only reads (the journal,
/// the daemon's snapshot, the metrics), so it can never hold up mirroring.
public struct StatusServer: Service {
    public let address: ListenAddress
    private let routes: StatusRoutes
    private let logger: Logger
    private let onListening: @Sendable (_ port: Int) async -> Void

    /// `onListening` gets the bound port, useful with port 0.
    public init(
        address: ListenAddress, watches: [WatchRoot], locator: ObjectLocator, journal: Journal,
        agent: any AgentStatusSource, metrics: AgentMetrics, logger: Logger,
        onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) {
        self.address = address
        self.routes = StatusRoutes(resolver: WatchedPathResolver(watches: watches), locator: locator, journal: journal, agent: agent, metrics: metrics)
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until graceful shutdown. A failure to bind is thrown as `StatusServerError`.
    public func run() async throws {
        let router = Router()
        routes.register(on: router)
        // Hummingbird announces itself at info level; one line of ours says the same with the paths.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let listening = Mutex(false)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "lifeboat"),
            onServerRunning: { [address, logger, onListening] channel in
                listening.withLock { $0 = true }
                let port = channel.localAddress?.port ?? address.port
                logger.info("status endpoint on http://\(ListenAddress(host: address.host, port: port)): /healthz /readyz /metrics /v1/status /v1/files")
                await onListening(port)
            },
            logger: serverLogger)
        do {
            try await application.run()
        } catch {
            guard listening.withLock({ $0 }) else { throw StatusServerError(address: address, reason: Self.reason(error)) }
            throw error
        }
    }

    /// NIO words a bind failure as "bind(descriptor:ptr:bytes:): Address already in use (errno: 98)";
    /// an operator needs only the part after the function name.
    private static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if let range = text.range(of: "(errno: "), let code = Int32(text[range.upperBound...].prefix { $0.isNumber }) {
            return String(cString: strerror(code))
        }
        return text
    }
}

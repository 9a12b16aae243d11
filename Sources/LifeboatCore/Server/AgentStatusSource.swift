/// Whether the agent may be sent traffic: ready, or not yet and why.
public enum Readiness: Sendable, Equatable {
    case ready
    /// A short reason for people and probes ("start-up reconcile in progress").
    case notReady(String)
}

/// The running agent as the HTTP endpoint sees it at one moment.
public struct AgentSnapshot: Sendable, Equatable {
    /// The agent's loops are running (they may be draining after SIGTERM).
    public var isAlive: Bool
    public var readiness: Readiness
    /// Jobs waiting for an upload worker.
    public var queueDepth: Int
    public var uploadsInFlight: Int
    /// inotify watches in use.
    public var watches: Int

    public init(isAlive: Bool, readiness: Readiness, queueDepth: Int = 0, uploadsInFlight: Int = 0, watches: Int = 0) {
        self.isAlive = isAlive
        self.readiness = readiness
        self.queueDepth = queueDepth
        self.uploadsInFlight = uploadsInFlight
        self.watches = watches
    }
}

/// What the status endpoint asks the agent: implemented by `MirrorDaemon`, and by stand-ins in tests.
public protocol AgentStatusSource: Sendable {
    func snapshot() async -> AgentSnapshot
}

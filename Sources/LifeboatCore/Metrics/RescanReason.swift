/// Why the daemon rescanned: the `reason` label of `lifeboat_rescans_total`. A closed set, so
/// the label can never grow without bound.
public enum RescanReason: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The reconcile every start begins with.
    case startup
    /// The kernel's inotify queue overflowed: events were lost.
    case overflow
    /// LIFEBOAT_RESCAN_INTERVAL, the safety net for what inotify cannot see.
    case periodic
    /// A watch root that had vanished (deleted, unmounted) is back.
    case rootRestored = "root_restored"
    /// A subtree beyond the inotify watch limit, which only rescans can follow.
    case watchLimit = "watch_limit"

    /// As the daemon's log says it.
    public var description: String {
        switch self {
        case .startup: "start-up"
        case .overflow: "inotify overflow"
        case .periodic: "periodic rescan"
        case .rootRestored: "watch root restored"
        case .watchLimit: "beyond the watch limit"
        }
    }
}

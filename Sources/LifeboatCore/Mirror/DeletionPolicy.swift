/// What a local deletion does to the remote copy (LIFEBOAT_DELETE), and the guard that keeps an
/// unmounted volume or a wiped directory from deleting the backup it exists to protect
/// (guarantee 4).
public struct DeletionPolicy: Sendable {
    public var mode: AgentConfiguration.DeleteMode
    public var delay: Duration
    /// Refuse when more than this share of a root's mirrored files vanished in one scan...
    public var maximumShare: Double = 0.5
    /// ...and at least this many did (a folder of three files may well be emptied on purpose).
    public var minimumCountForShareGuard = 10

    public init(mode: AgentConfiguration.DeleteMode, delay: Duration) {
        self.mode = mode
        self.delay = delay
    }

    /// nil when the deletions may go ahead, else why they are refused.
    func refusal(vanished: Int, mirrored: Int, rootIsEmpty: Bool) -> String? {
        guard vanished > 0 else { return nil }
        if rootIsEmpty { return "the watch root is empty (unmounted, or wiped?)" }
        let share = Double(vanished) / Double(max(mirrored, 1))
        if vanished >= minimumCountForShareGuard, share > maximumShare {
            return "\(vanished) of \(mirrored) mirrored files vanished at once (more than \(Int(maximumShare * 100))%)"
        }
        return nil
    }
}

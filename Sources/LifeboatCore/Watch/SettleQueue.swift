/// Holds candidate files until they have been quiet for the settle time, so a file still being
/// written is not hashed half-done. Every new write to a waiting file pushes its deadline back.
/// The clock is a parameter so that tests control time.
public actor SettleQueue<C: Clock> where C.Duration == Duration {
    public struct Candidate: Hashable, Sendable {
        public var root: WatchRoot
        public var relativePath: String

        public init(root: WatchRoot, relativePath: String) {
            self.root = root
            self.relativePath = relativePath
        }
    }

    private let settle: Duration
    private let clock: C
    private var deadlines: [Candidate: C.Instant] = [:]
    private var waiter: CheckedContinuation<Void, Never>?
    private var finished = false

    public init(settle: Duration, clock: C) {
        self.settle = settle
        self.clock = clock
    }

    public var count: Int { deadlines.count }

    /// A file was closed or renamed into place: due `settle` from now (or from `notBefore`).
    public func add(_ candidate: Candidate, notBefore: C.Instant? = nil) {
        let due = clock.now.advanced(by: settle)
        deadlines[candidate] = notBefore.map { max($0, due) } ?? due
        wake()
    }

    /// The file was written to again: if it is waiting, its quiet period starts over.
    public func touch(_ candidate: Candidate) {
        guard deadlines[candidate] != nil else { return }
        deadlines[candidate] = clock.now.advanced(by: settle)
    }

    /// No more candidates: `next()` drains nothing further and returns nil.
    public func finish() {
        finished = true
        wake()
    }

    /// Waits for the next batch of settled candidates; nil once finished.
    public func next() async -> [Candidate]? {
        while !finished {
            let now = clock.now
            let due = deadlines.filter { $0.value <= now }.map(\.key)
            if !due.isEmpty {
                for candidate in due { deadlines[candidate] = nil }
                return due
            }
            if let earliest = deadlines.values.min() {
                // Sleep until the earliest deadline, or until something new arrives.
                let sleeper = Task { [clock] in try? await clock.sleep(until: earliest, tolerance: nil) }
                await withCheckedContinuation { continuation in
                    waiter = continuation
                    Task { await sleeper.value; self.wake() }
                }
                sleeper.cancel()
            } else {
                await withCheckedContinuation { waiter = $0 }
            }
        }
        return nil
    }

    private func wake() {
        waiter?.resume()
        waiter = nil
    }
}

/// The in-memory view of the journal's pending rows that upload workers take jobs from. The
/// journal stays the source of truth (a job is only an address; the worker reads the row), so
/// losing this queue in a crash loses nothing.
///
/// Two lanes keep small files moving: large files (at or above the multipart threshold) are
/// taken only by the workers allowed to, so a multi-gigabyte render never occupies every worker.
actor UploadQueue {
    struct Job: Hashable, Sendable {
        var root: WatchRoot
        var path: String
        var isLarge: Bool
    }

    struct Key: Hashable {
        var watch: String
        var path: String
    }

    enum Lane {
        case any
        case smallOnly
    }

    private var small = FIFO<Job>()
    private var large = FIFO<Job>()
    private var queued = Set<Key>()
    private var running = Set<Key>()
    /// Asked for again while running: queued again once the running attempt ends.
    private var again: [Key: Job] = [:]
    private var waiters: [(Lane, CheckedContinuation<Job?, Never>)] = []
    private var closed = false

    var depth: Int { queued.count }
    var inFlight: Int { running.count }

    func enqueue(_ job: Job) {
        guard !closed else { return }
        let key = Key(watch: job.root.name, path: job.path)
        if running.contains(key) {
            again[key] = job
            return
        }
        guard queued.insert(key).inserted else { return }
        if let index = waiters.firstIndex(where: { $0.0 == .any || !job.isLarge }) {
            let (_, continuation) = waiters.remove(at: index)
            queued.remove(key)
            running.insert(key)
            continuation.resume(returning: job)
            return
        }
        if job.isLarge { large.append(job) } else { small.append(job) }
    }

    /// The next job for a worker of this lane; nil once the queue is closed.
    func next(lane: Lane) async -> Job? {
        if closed { return nil }
        // Workers that may take large files serve them first so they do progress; the others
        // keep the small files flowing.
        if lane == .any, let job = large.popFirst() ?? small.popFirst() { return start(job) }
        if lane == .smallOnly, let job = small.popFirst() { return start(job) }
        return await withCheckedContinuation { waiters.append((lane, $0)) }
    }

    func done(_ job: Job) {
        let key = Key(watch: job.root.name, path: job.path)
        running.remove(key)
        if let repeated = again.removeValue(forKey: key) { enqueue(repeated) }
    }

    /// Stops handing out work: waiting workers get nil, running ones finish their job.
    func close() {
        closed = true
        for (_, continuation) in waiters { continuation.resume(returning: nil) }
        waiters.removeAll()
    }

    private func start(_ job: Job) -> Job {
        let key = Key(watch: job.root.name, path: job.path)
        queued.remove(key)
        running.insert(key)
        return job
    }
}

/// A first-in first-out queue with O(1) pops, for backlogs of hundreds of thousands of files.
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head > 1024, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

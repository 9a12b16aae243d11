/// What a `resync` did, for its summary line and exit status.
public struct ResyncReport: Sendable {
    public var scanned = 0
    public var uploaded = 0
    public var unchanged = 0
    public var bytesUploaded: Int64 = 0
    /// Remote copies deleted because their files were deleted locally (`mirror` delete mode).
    public var deleted = 0
    /// Files that are not durable remotely, each with the reason.
    public var failures: [Failure] = []
    /// With --dry-run: what would have been uploaded.
    public var wouldUpload: [Candidate] = []

    public struct Failure: Sendable {
        public var path: String
        public var reason: String
    }

    public struct Candidate: Sendable {
        public var path: String
        public var size: Int64
    }

    public var isComplete: Bool { failures.isEmpty }
}

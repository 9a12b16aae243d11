/// The journal's totals, as `status` and `/v1/status` report them.
public struct JournalSummary: Sendable, Equatable, Codable {
    /// Tracked files that still exist locally (every state but `gone`).
    public var files: Int
    public var mirrored: Int
    public var pending: Int
    public var failed: Int
    public var bytesMirrored: Int64
    public var bytesPending: Int64
    /// Age in seconds of the oldest file not yet mirrored: the recovery point.
    public var oldestPendingAgeSeconds: Double?
    public var lastError: String?
    public var lastErrorPath: String?

    /// An empty journal.
    public init() {
        files = 0
        mirrored = 0
        pending = 0
        failed = 0
        bytesMirrored = 0
        bytesPending = 0
    }

    enum CodingKeys: String, CodingKey {
        case files, mirrored, pending, failed
        case bytesMirrored = "bytes_mirrored"
        case bytesPending = "bytes_pending"
        case oldestPendingAgeSeconds = "oldest_pending_age_seconds"
        case lastError = "last_error"
        case lastErrorPath = "last_error_path"
    }
}

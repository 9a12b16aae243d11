/// Every setting Lifeboat reads. The names are the user-facing contract (DESIGN.md): the same
/// strings serve as environment variables, `agent.conf` keys and systemd `EnvironmentFile=` lines.
public enum SettingKey: String, CaseIterable, Sendable {
    case watch = "LIFEBOAT_WATCH"
    case remote = "LIFEBOAT_REMOTE"
    case s3Endpoint = "LIFEBOAT_S3_ENDPOINT"
    case s3Region = "LIFEBOAT_S3_REGION"
    case s3PathStyle = "LIFEBOAT_S3_PATH_STYLE"
    case s3AccessKeyIDFile = "LIFEBOAT_S3_ACCESS_KEY_ID_FILE"
    case s3SecretAccessKeyFile = "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"
    case s3Checksum = "LIFEBOAT_S3_CHECKSUM"
    case journal = "LIFEBOAT_JOURNAL"
    case exclude = "LIFEBOAT_EXCLUDE"
    case settle = "LIFEBOAT_SETTLE"
    case concurrency = "LIFEBOAT_CONCURRENCY"
    case multipartThreshold = "LIFEBOAT_MULTIPART_THRESHOLD"
    case partSize = "LIFEBOAT_PART_SIZE"
    case delete = "LIFEBOAT_DELETE"
    case deleteDelay = "LIFEBOAT_DELETE_DELAY"
    case restoreOnStart = "LIFEBOAT_RESTORE_ON_START"
    case rescanInterval = "LIFEBOAT_RESCAN_INTERVAL"
    case shutdownGrace = "LIFEBOAT_SHUTDOWN_GRACE"
    case listen = "LIFEBOAT_LISTEN"
    case logLevel = "LIFEBOAT_LOG_LEVEL"
    case logFormat = "LIFEBOAT_LOG_FORMAT"
    case notifyURL = "LIFEBOAT_NOTIFY_URL"
    case config = "LIFEBOAT_CONFIG"
    case awsAccessKeyID = "AWS_ACCESS_KEY_ID"
    case awsSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
    case awsSessionToken = "AWS_SESSION_TOKEN"
    case awsRegion = "AWS_REGION"

    /// Values that must never be echoed in logs, status output or error messages.
    public var isSecret: Bool {
        switch self {
        case .awsSecretAccessKey, .awsSessionToken: true
        default: false
        }
    }

    /// The closest known `LIFEBOAT_*` name to a misspelt one, for "did you mean" hints.
    static func suggestion(for unknown: String) -> SettingKey? {
        let candidates = allCases.map { ($0, editDistance($0.rawValue, unknown)) }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

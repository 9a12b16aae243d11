public import S3

/// Every setting, resolved and validated. Built once at start-up by `ConfigurationLoader`;
/// defaults are the contract's (DESIGN.md).
public struct AgentConfiguration: Sendable {
    public var watches: [WatchRoot]
    public var remote: RemoteLocation
    public var s3: S3Settings
    public var journalPath: String
    public var excludes: [String]
    public var settle: Duration
    public var concurrency: Int
    public var multipartThreshold: Int64
    public var partSize: Int64
    public var deleteMode: DeleteMode
    public var deleteDelay: Duration
    public var restoreOnStart: RestoreOnStart
    public var rescanInterval: Duration
    public var shutdownGrace: Duration
    /// nil when the HTTP endpoint is turned off.
    public var listen: String?
    public var logLevel: String
    public var logFormat: LogFormat
    public var notifyURL: String?

    public struct S3Settings: Sendable {
        public var endpoint: String?
        public var region: String
        public var pathStyle: Bool
        public var checksum: ChecksumMode
        /// nil when the remote is not S3.
        public var credentials: S3Credentials?
    }

    public enum ChecksumMode: String, Sendable {
        /// Send `x-amz-checksum-sha256` until the provider shows it does not understand it.
        case auto
        case sha256
        case off
    }

    public enum DeleteMode: String, Sendable {
        case keep
        case mirror
    }

    public enum RestoreOnStart: String, Sendable {
        case never
        case ifEmpty = "if-empty"
    }

    public enum LogFormat: String, Sendable {
        case text
        case json
    }

    public static let defaultExcludes = ["*.tmp", "*.part", "*.swp", "*~", ".#*"]
    public static let defaultJournalPath = "/var/lib/lifeboat/journal.db"
    public static let defaultConfigPath = "/etc/lifeboat/agent.conf"
}

import Foundation
import Testing
@testable import LifeboatCore

/// The configuration contract (DESIGN.md, "Configuration"): names, precedence, defaults, and
/// errors that name the key and where it came from without ever echoing a secret.
struct ConfigurationLoaderTests {
    /// A secret-looking value: if any error message contains it, a secret leaked.
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSECRETzKEY"

    /// A watch directory, a file remote and a journal inside `directory`: a configuration that loads.
    static func baseEnvironment(_ directory: TemporaryDirectory) throws -> [String: String] {
        try directory.makeDirectory("output")
        try directory.makeDirectory("remote")
        return [
            "LIFEBOAT_WATCH": directory.url("output"),
            "LIFEBOAT_REMOTE": "file://" + directory.url("remote"),
            "LIFEBOAT_JOURNAL": directory.url("journal.db"),
        ]
    }

    /// Loads with `file` (if any) written as `agent.conf` in `directory`.
    static func load(
        _ directory: TemporaryDirectory, file: String? = nil, environment: [String: String],
        overrides: [String: String] = [:], watches: ConfigurationLoader.WatchRequirement = .mustExist
    ) throws -> AgentConfiguration {
        var configPath: String?
        if let file { configPath = try directory.write("agent.conf", file) }
        return try ConfigurationLoader(environment: environment, overrides: overrides, configPath: configPath, workingDirectory: directory.path)
            .load(watches: watches)
    }

    /// The configuration error `body` throws (recording an issue when it throws none).
    static func failure(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            try body()
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            Issue.record("expected a ConfigurationError, got \(error)", sourceLocation: sourceLocation)
            return "\(error)"
        }
        Issue.record("expected a ConfigurationError, but the configuration loaded", sourceLocation: sourceLocation)
        return ""
    }

    // MARK: - The file

    @Test func unknownKeyInFileIsNamedWithItsLineAndTheRightKeySuggested() {
        let message = Self.failure {
            _ = try ConfigFile(path: "/etc/lifeboat/agent.conf", contents: "# comment\nLIFEBOAT_WATCH=/data\n\nLIFEBOAT_SETLE=2s\n")
        }
        #expect(message.contains("/etc/lifeboat/agent.conf line 4"))
        #expect(message.contains("LIFEBOAT_SETLE"))
        #expect(message.contains("did you mean LIFEBOAT_SETTLE?"))
    }

    @Test func unknownLifeboatEnvironmentVariableIsRejectedWithASuggestion() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_CONCURENCY"] = "8"
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_CONCURENCY"))
            #expect(message.contains("environment"))
            #expect(message.contains("did you mean LIFEBOAT_CONCURRENCY?"))
        }
    }

    @Test func foreignKeysInTheFileAreLeftForOtherTools() throws {
        // The same file is a Docker env_file: it may carry the application's own variables.
        let file = try ConfigFile(path: "agent.conf", contents: "TZ=UTC\nAPP_MODE=prod\nLIFEBOAT_SETTLE=2s\n")
        #expect(file.values["TZ"] == "UTC")
        #expect(file.values["LIFEBOAT_SETTLE"] == "2s")
    }

    @Test func lineWithoutEqualsSignIsNamedButNotEchoed() {
        let message = Self.failure {
            _ = try ConfigFile(path: "agent.conf", contents: "LIFEBOAT_WATCH=/data\nAWS_SECRET_ACCESS_KEY \(Self.secret)\n")
        }
        #expect(message.contains("agent.conf line 2"))
        #expect(!message.contains(Self.secret))
        #expect(!message.contains("wJalr"))
    }

    @Test func keyGivenTwiceNamesBothLines() {
        let message = Self.failure {
            _ = try ConfigFile(path: "agent.conf", contents: "LIFEBOAT_SETTLE=1s\n# again:\nLIFEBOAT_SETTLE=2s\n")
        }
        #expect(message.contains("agent.conf line 3"))
        #expect(message.contains("LIFEBOAT_SETTLE"))
        #expect(message.contains("line 1"))
    }

    @Test func commentsBlankLinesExportAndQuotesAreAccepted() throws {
        let file = try ConfigFile(path: "agent.conf", contents: """
            # Lifeboat

              # indented comment
            export LIFEBOAT_SETTLE="2s"
            LIFEBOAT_EXCLUDE='*.tmp,cache/**'
            LIFEBOAT_LOG_LEVEL = debug
            """)
        #expect(file.values["LIFEBOAT_SETTLE"] == "2s")
        #expect(file.values["LIFEBOAT_EXCLUDE"] == "*.tmp,cache/**")
        #expect(file.values["LIFEBOAT_LOG_LEVEL"] == "debug")
        #expect(file.entries["LIFEBOAT_LOG_LEVEL"]?.line == 6)
    }

    /// A file saved on Windows (a Docker env_file edited there) ends its lines with CRLF.
    /// In Swift "\r\n" is one Character, so it must not be missed when splitting lines.
    @Test func crlfLineEndingsAreReadAsSeparateLines() throws {
        let file = try ConfigFile(path: "agent.conf", contents: "# edited on Windows\r\nLIFEBOAT_SETTLE=2s\r\nLIFEBOAT_CONCURRENCY=3\r\n")
        #expect(file.values["LIFEBOAT_SETTLE"] == "2s")
        #expect(file.values["LIFEBOAT_CONCURRENCY"] == "3")
        #expect(file.entries["LIFEBOAT_CONCURRENCY"]?.line == 3)
    }

    // MARK: - Bad values

    struct BadValue: Sendable, CustomTestStringConvertible {
        var key: String
        var value: String
        var testDescription: String { "\(key)=\(value)" }
    }

    static let badValues: [BadValue] = [
        BadValue(key: "LIFEBOAT_SETTLE", value: "fast"),
        BadValue(key: "LIFEBOAT_RESCAN_INTERVAL", value: "5"),
        BadValue(key: "LIFEBOAT_PART_SIZE", value: "16MB"),
        BadValue(key: "LIFEBOAT_MULTIPART_THRESHOLD", value: "-1"),
        BadValue(key: "LIFEBOAT_S3_PATH_STYLE", value: "maybe"),
        BadValue(key: "LIFEBOAT_DELETE", value: "sometimes"),
        BadValue(key: "LIFEBOAT_RESTORE_ON_START", value: "always"),
        BadValue(key: "LIFEBOAT_LOG_LEVEL", value: "loud"),
        BadValue(key: "LIFEBOAT_LOG_FORMAT", value: "yaml"),
        BadValue(key: "LIFEBOAT_S3_CHECKSUM", value: "md5"),
        BadValue(key: "LIFEBOAT_CONCURRENCY", value: "many"),
        BadValue(key: "LIFEBOAT_LISTEN", value: "9464"),
    ]

    @Test(arguments: badValues)
    func badValueInFileNamesTheKeyAndItsLine(_ bad: BadValue) throws {
        try withTemporaryDirectory { directory in
            let file = "# settings\n\(bad.key)=\(bad.value)\n"
            let message = Self.failure { _ = try Self.load(directory, file: file, environment: Self.baseEnvironment(directory)) }
            #expect(message.contains(bad.key))
            #expect(message.contains("agent.conf line 2"), "\(message)")
        }
    }

    @Test(arguments: badValues)
    func badValueInEnvironmentNamesTheKeyAndTheEnvironment(_ bad: BadValue) throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment[bad.key] = bad.value
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains(bad.key))
            #expect(message.contains("environment"), "\(message)")
        }
    }

    @Test func partSizeOutsideS3LimitsIsRefused() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_PART_SIZE"] = "1MiB"
            #expect(Self.failure { _ = try Self.load(directory, environment: environment) }.contains("LIFEBOAT_PART_SIZE"))
        }
    }

    // MARK: - Precedence and defaults

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        try withTemporaryDirectory { directory in
            let base = try Self.baseEnvironment(directory)
            let file = "LIFEBOAT_SETTLE=3s\nLIFEBOAT_CONCURRENCY=3\n"
            var environment = base
            environment["LIFEBOAT_SETTLE"] = "2s"

            let all = try Self.load(directory, file: file, environment: environment, overrides: ["LIFEBOAT_SETTLE": "1500ms"])
            #expect(all.settle == .milliseconds(1500))
            #expect(all.concurrency == 3)

            let withoutFlag = try Self.load(directory, file: file, environment: environment)
            #expect(withoutFlag.settle == .seconds(2))

            let fileOnly = try Self.load(directory, file: file, environment: base)
            #expect(fileOnly.settle == .seconds(3))

            let defaults = try Self.load(directory, environment: base)
            #expect(defaults.settle == .seconds(1))
            #expect(defaults.concurrency == 4)
        }
    }

    @Test func configFileIsFoundThroughLifeboatConfig() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_CONFIG"] = try directory.write("elsewhere.conf", "LIFEBOAT_CONCURRENCY=7\n")
            let configuration = try Self.load(directory, environment: environment)
            #expect(configuration.concurrency == 7)
        }
    }

    @Test func defaultsAreTheContractsTable() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_JOURNAL"] = nil
            let configuration = try Self.load(directory, environment: environment)
            #expect(configuration.settle == .seconds(1))
            #expect(configuration.concurrency == 4)
            #expect(configuration.multipartThreshold == 64 * 1024 * 1024)
            #expect(configuration.partSize == 16 * 1024 * 1024)
            #expect(configuration.excludes == ["*.tmp", "*.part", "*.swp", "*~", ".#*"])
            #expect(configuration.listen == "127.0.0.1:9464")
            #expect(configuration.rescanInterval == .seconds(3600))
            #expect(configuration.shutdownGrace == .seconds(25))
            #expect(configuration.journalPath == "/var/lib/lifeboat/journal.db")
            #expect(configuration.deleteMode == .keep)
            #expect(configuration.restoreOnStart == .never)
            #expect(configuration.logLevel == "info")
            #expect(configuration.logFormat == .text)
            #expect(configuration.notifyURL == nil)
            #expect(configuration.s3.region == "us-east-1")
            #expect(configuration.s3.checksum == .auto)
            #expect(configuration.s3.endpoint == nil)
            #expect(configuration.s3.pathStyle == false)
            #expect(configuration.s3.credentials == nil)
        }
    }

    @Test func emptyListenTurnsTheEndpointOff() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            let fromFile = try Self.load(directory, file: "LIFEBOAT_LISTEN=\n", environment: environment)
            #expect(fromFile.listen == nil)

            environment["LIFEBOAT_LISTEN"] = ""
            let fromEnvironment = try Self.load(directory, environment: environment)
            #expect(fromEnvironment.listen == nil)
        }
    }

    @Test func emptyListenInEnvironmentOverridesTheFile() throws {
        // The environment outranks the file even when it says "off" by being empty.
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_LISTEN"] = ""
            let configuration = try Self.load(directory, file: "LIFEBOAT_LISTEN=0.0.0.0:9464\n", environment: environment)
            #expect(configuration.listen == nil)
        }
    }

    @Test func emptyEnvironmentVariableLeavesTheFilesValueInForce() throws {
        // `LIFEBOAT_SETTLE=${SETTLE:-}` in a compose file yields an empty variable: it means "not set".
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_SETTLE"] = ""
            let configuration = try Self.load(directory, file: "LIFEBOAT_SETTLE=5s\n", environment: environment)
            #expect(configuration.settle == .seconds(5))
        }
    }

    @Test func badFileValueUnderAnEmptyEnvironmentVariableIsBlamedOnTheFile() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_SETTLE"] = ""
            let message = Self.failure { _ = try Self.load(directory, file: "LIFEBOAT_SETTLE=soon\n", environment: environment) }
            #expect(message.contains("LIFEBOAT_SETTLE"))
            #expect(message.contains("agent.conf line 1"), "\(message)")
        }
    }

    @Test func excludeListIsSplitOnCommasAndTrimmed() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_EXCLUDE"] = " *.tmp , cache/** ,,**/node_modules/** "
            let configuration = try Self.load(directory, environment: environment)
            #expect(configuration.excludes == ["*.tmp", "cache/**", "**/node_modules/**"])
        }
    }

    @Test func relativeJournalPathIsResolvedAgainstTheWorkingDirectory() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_JOURNAL"] = "state/journal.db"
            let configuration = try Self.load(directory, environment: environment)
            #expect(configuration.journalPath == directory.url("state/journal.db"))
        }
    }

    // MARK: - Watches

    @Test func watchesTakeNameEqualsPathOrPathWithTheFolderAsName() throws {
        try withTemporaryDirectory { directory in
            try directory.makeDirectory("app/generated")
            try directory.makeDirectory("voice_clone")
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_WATCH"] = "output=\(directory.url("app/generated")), \(directory.url("voice_clone"))/, digital_human"
            try directory.makeDirectory("digital_human")
            let configuration = try Self.load(directory, environment: environment)
            #expect(configuration.watches == [
                WatchRoot(name: "output", path: directory.url("app/generated")),
                WatchRoot(name: "voice_clone", path: directory.url("voice_clone")),
                WatchRoot(name: "digital_human", path: directory.url("digital_human")),
            ])
        }
    }

    @Test func twoWatchesWithTheSameNameAreRefused() throws {
        try withTemporaryDirectory { directory in
            try directory.makeDirectory("a/output")
            try directory.makeDirectory("b/output")
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_WATCH"] = "\(directory.url("a/output")),\(directory.url("b/output"))"
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_WATCH"))
            #expect(message.contains("\"output\""))
        }
    }

    @Test func nestedWatchesAreRefused() throws {
        try withTemporaryDirectory { directory in
            try directory.makeDirectory("data/inner")
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_WATCH"] = "outer=\(directory.url("data")),inner=\(directory.url("data/inner"))"
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_WATCH"))
            #expect(message.contains("nest"))
        }
    }

    @Test func missingWatchDirectoryIsAnErrorOnlyWhenItMustExist() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_WATCH"] = directory.url("not-yet")
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_WATCH"))
            #expect(message.contains(directory.url("not-yet")))

            let configuration = try Self.load(directory, environment: environment, watches: .mayBeMissing)
            #expect(configuration.watches == [WatchRoot(name: "not-yet", path: directory.url("not-yet"))])
        }
    }

    @Test func watchIsRequired() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_WATCH"] = nil
            #expect(Self.failure { _ = try Self.load(directory, environment: environment) }.contains("LIFEBOAT_WATCH"))
        }
    }

    // MARK: - Remote

    @Test func s3RemotesParseBucketAndPrefix() throws {
        #expect(try RemoteLocation(parsing: "s3://media-backup") == .s3(bucket: "media-backup", prefix: ""))
        #expect(try RemoteLocation(parsing: "s3://media-backup/a/b/") == .s3(bucket: "media-backup", prefix: "a/b"))
        #expect(try RemoteLocation(parsing: "s3://media-backup/prod") == .s3(bucket: "media-backup", prefix: "prod"))
        #expect(try RemoteLocation(parsing: "file:///mnt/backup") == .directory(path: "/mnt/backup"))
        #expect(try RemoteLocation(parsing: "s3://media-backup/a/b/").description == "s3://media-backup/a/b")
    }

    @Test(arguments: ["ftp://host/x", "/mnt/backup", "s3://media-backup/a/../b", "s3://media-backup/../x", "s3://media-backup//x", "s3://x", "file://relative/path"])
    func unusableRemotesAreRefused(_ text: String) {
        let message = Self.failure { _ = try RemoteLocation(parsing: text) }
        #expect(message.contains("LIFEBOAT_REMOTE"))
    }

    @Test func fileRemoteDirectoryMustExist() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.baseEnvironment(directory)
            environment["LIFEBOAT_REMOTE"] = "file://" + directory.url("unmounted")
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_REMOTE"))
            #expect(message.contains(directory.url("unmounted")))
        }
    }

    // MARK: - S3 settings and credentials

    static func s3Environment(_ directory: TemporaryDirectory) throws -> [String: String] {
        var environment = try baseEnvironment(directory)
        environment["LIFEBOAT_REMOTE"] = "s3://media-backup/prod"
        return environment
    }

    @Test func credentialsComeFromTheStandardEnvironmentVariables() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secret
            environment["AWS_SESSION_TOKEN"] = "session-token"
            let credentials = try #require(try Self.load(directory, environment: environment).s3.credentials)
            #expect(credentials.accessKeyID == "AKIDEXAMPLE")
            #expect(credentials.secretAccessKey == Self.secret)
            #expect(credentials.sessionToken == "session-token")
        }
    }

    @Test func credentialsComeFromSecretFilesWithoutTheirTrailingNewline() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["LIFEBOAT_S3_ACCESS_KEY_ID_FILE"] = try directory.write("secrets/key-id", "AKIDFROMFILE\n")
            environment["LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"] = try directory.write("secrets/secret", Self.secret + "\n")
            let credentials = try #require(try Self.load(directory, environment: environment).s3.credentials)
            #expect(credentials.accessKeyID == "AKIDFROMFILE")
            #expect(credentials.secretAccessKey == Self.secret)
        }
    }

    @Test func s3RemoteWithoutCredentialsIsAnError() throws {
        try withTemporaryDirectory { directory in
            let environment = try Self.s3Environment(directory)
            #expect(Self.failure { _ = try Self.load(directory, environment: environment) }.contains("AWS_ACCESS_KEY_ID"))

            var keyOnly = environment
            keyOnly["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            #expect(Self.failure { _ = try Self.load(directory, environment: keyOnly) }.contains("AWS_SECRET_ACCESS_KEY"))
        }
    }

    @Test func pathStyleDefaultsToTrueOnlyWhenAnEndpointIsSet() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secret
            #expect(try Self.load(directory, environment: environment).s3.pathStyle == false)

            environment["LIFEBOAT_S3_ENDPOINT"] = "http://127.0.0.1:9000"
            let custom = try Self.load(directory, environment: environment)
            #expect(custom.s3.pathStyle == true)
            #expect(custom.s3.endpoint == "http://127.0.0.1:9000")

            environment["LIFEBOAT_S3_PATH_STYLE"] = "false"
            #expect(try Self.load(directory, environment: environment).s3.pathStyle == false)
        }
    }

    @Test func awsRegionIsHonouredWhenLifeboatRegionIsUnset() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secret
            environment["AWS_REGION"] = "eu-west-3"
            #expect(try Self.load(directory, environment: environment).s3.region == "eu-west-3")

            environment["LIFEBOAT_S3_REGION"] = "auto"
            #expect(try Self.load(directory, environment: environment).s3.region == "auto")
        }
    }

    // MARK: - Secrets stay out of error messages

    @Test func secretNeverAppearsInAnErrorAboutAnotherKey() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secret
            environment["AWS_SESSION_TOKEN"] = "token-" + Self.secret
            environment["LIFEBOAT_PART_SIZE"] = "sixteen"
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_PART_SIZE"))
            #expect(!message.contains(Self.secret))

            var fromFile = try Self.s3Environment(directory)
            fromFile["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            let file = "AWS_SECRET_ACCESS_KEY=\(Self.secret)\nLIFEBOAT_SETTLE=soon\n"
            let fileMessage = Self.failure { _ = try Self.load(directory, file: file, environment: fromFile) }
            #expect(fileMessage.contains("LIFEBOAT_SETTLE"))
            #expect(!fileMessage.contains(Self.secret))
        }
    }

    @Test func secretNeverAppearsWhenTheConfigurationIsPrinted() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secret
            environment["AWS_SESSION_TOKEN"] = "token-" + Self.secret
            let configuration = try Self.load(directory, environment: environment)
            var dumped = ""
            dump(configuration, to: &dumped)
            for text in [String(describing: configuration), String(reflecting: configuration), dumped] {
                #expect(!text.contains(Self.secret))
            }
        }
    }

    @Test func secretFileThatCannotBeReadIsNamedButNotRead() throws {
        try withTemporaryDirectory { directory in
            var environment = try Self.s3Environment(directory)
            environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
            environment["LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"] = directory.url("missing-secret")
            let message = Self.failure { _ = try Self.load(directory, environment: environment) }
            #expect(message.contains("LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"))
        }
    }

    /// A compose-style `KEY: value` line whose value holds "=" (base64 padding, for instance):
    /// the text before "=" is not a key name, and it contains the secret.
    @Test(arguments: [
        "AWS_SECRET_ACCESS_KEY: \(secret)==",
        "  - AWS_SECRET_ACCESS_KEY \(secret)=",
        "\(secret)=",
    ])
    func malformedLineHoldingASecretIsNotEchoed(_ line: String) {
        let message = Self.failure {
            _ = try ConfigFile(path: "agent.conf", contents: "LIFEBOAT_WATCH=/data\n\(line)\n")
        }
        #expect(message.contains("agent.conf line 2"))
        #expect(!message.contains(Self.secret))
        #expect(!message.contains("wJalrXUtnFEMI"))
    }
}

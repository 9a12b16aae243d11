import Configuration
public import Foundation
import S3

/// Resolves the configuration from its three sources, in the contract's order of precedence:
/// command-line flags, then the process environment, then the `agent.conf` file, then defaults.
public struct ConfigurationLoader: Sendable {
    /// What the command needs to exist on disk: `restore` creates missing watch directories,
    /// `status` reads only the journal.
    public enum WatchRequirement: Sendable {
        case mustExist
        case mayBeMissing
    }

    public var environment: [String: String]
    /// Settings given as command-line flags, by their key names.
    public var overrides: [String: String]
    /// `--config FILE`, if given.
    public var configPath: String?
    public var workingDirectory: String

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:],
        configPath: String? = nil,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.environment = environment
        self.overrides = overrides
        self.configPath = configPath
        self.workingDirectory = workingDirectory
    }

    /// `remoteMustExist`: a `file://` remote must be an existing directory (an unmounted volume is
    /// an error, not a silent write into the container). `status` reads only the journal and passes false.
    public func load(watches requirement: WatchRequirement = .mustExist, remoteMustExist: Bool = true) throws(ConfigurationError) -> AgentConfiguration {
        try checkEnvironmentNames()
        let file = try loadFile()
        let settings = ResolvedSettings(overrides: overrides, environment: environment, file: file)

        let watches = try parseWatches(settings.required(.watch), requirement: requirement, origin: settings.origin(of: .watch))
        let remote = try RemoteLocation(parsing: settings.required(.remote), origin: settings.origin(of: .remote))
        if remoteMustExist, case .directory(let path) = remote {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError("\(SettingKey.remote.rawValue) (\(settings.origin(of: .remote))): \(path) is not an existing directory (is the volume mounted?)")
            }
        }

        let endpoint = settings.value(.s3Endpoint)
        if let endpoint, !Self.isHTTPURL(endpoint) {
            throw settings.invalid(.s3Endpoint, "is not an http:// or https:// URL")
        }
        let partSize = try settings.size(.partSize, default: 16 << 20)
        guard (5 << 20...5 << 30).contains(partSize) else {
            throw settings.invalid(.partSize, "must be between 5MiB and 5GiB (S3's limits for a part)")
        }
        let threshold = try settings.size(.multipartThreshold, default: 64 << 20)
        guard threshold >= 5 << 20 else {
            throw settings.invalid(.multipartThreshold, "must be at least 5MiB, the smallest part S3 accepts")
        }
        let concurrency = try settings.integer(.concurrency, default: 4)
        guard (1...64).contains(concurrency) else {
            throw settings.invalid(.concurrency, "must be between 1 and 64")
        }
        let listen = settings.value(.listen, emptyIsUnset: false) ?? "127.0.0.1:9464"
        if !listen.isEmpty { try checkListenAddress(listen, settings: settings) }
        if let url = settings.value(.notifyURL), !Self.isHTTPURL(url) {
            throw settings.invalid(.notifyURL, "is not an http:// or https:// URL")
        }
        let logLevel = try settings.choice(.logLevel, among: ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info")

        let credentials: S3Credentials?
        if case .s3 = remote {
            credentials = try loadCredentials(settings)
        } else {
            credentials = nil
        }

        return AgentConfiguration(
            watches: watches,
            remote: remote,
            s3: .init(
                endpoint: endpoint,
                region: settings.value(.s3Region) ?? settings.value(.awsRegion) ?? "us-east-1",
                pathStyle: try settings.bool(.s3PathStyle) ?? (endpoint != nil),
                checksum: try settings.enumeration(.s3Checksum, default: .auto),
                credentials: credentials),
            journalPath: absolute(settings.value(.journal) ?? AgentConfiguration.defaultJournalPath),
            excludes: settings.value(.exclude, emptyIsUnset: false).map(Self.splitList) ?? AgentConfiguration.defaultExcludes,
            settle: try settings.duration(.settle, default: .seconds(1)),
            concurrency: concurrency,
            multipartThreshold: threshold,
            partSize: partSize,
            deleteMode: try settings.enumeration(.delete, default: .keep),
            deleteDelay: try settings.duration(.deleteDelay, default: .seconds(24 * 3600)),
            restoreOnStart: try settings.enumeration(.restoreOnStart, default: .never),
            rescanInterval: try settings.duration(.rescanInterval, default: .seconds(3600)),
            shutdownGrace: try settings.duration(.shutdownGrace, default: .seconds(25)),
            listen: listen.isEmpty ? nil : listen,
            logLevel: logLevel,
            logFormat: try settings.enumeration(.logFormat, default: .text),
            notifyURL: settings.value(.notifyURL))
    }

    /// A typo in an environment variable would otherwise be ignored without a word.
    private func checkEnvironmentNames() throws(ConfigurationError) {
        for name in environment.keys.sorted() where name.hasPrefix("LIFEBOAT_") && SettingKey(rawValue: name) == nil && !Self.isKubernetesServiceLink(name) {
            var message = "unknown environment variable \(name)"
            if let hint = SettingKey.suggestion(for: name) { message += " (did you mean \(hint.rawValue)?)" }
            throw ConfigurationError(message)
        }
    }

    /// Kubernetes injects `NAME_SERVICE_HOST`, `NAME_PORT_9464_TCP_ADDR` and friends for every
    /// Service in the namespace; a Service called "lifeboat" must not stop the agent.
    static func isKubernetesServiceLink(_ name: String) -> Bool {
        name.range(of: #"_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)$"#, options: .regularExpression) != nil
    }

    private func loadFile() throws(ConfigurationError) -> ConfigFile? {
        if let configPath { return try ConfigFile.load(path: absolute(configPath)) }
        if let path = environment[SettingKey.config.rawValue], !path.isEmpty { return try ConfigFile.load(path: absolute(path)) }
        if FileManager.default.fileExists(atPath: AgentConfiguration.defaultConfigPath) {
            return try ConfigFile.load(path: AgentConfiguration.defaultConfigPath)
        }
        return nil
    }

    private func parseWatches(_ text: String, requirement: WatchRequirement, origin: String) throws(ConfigurationError) -> [WatchRoot] {
        let key = SettingKey.watch.rawValue
        var roots: [WatchRoot] = []
        for item in Self.splitList(text) {
            var name: String?
            var path = item
            if let equals = item.firstIndex(of: "="), !item.hasPrefix("/") {
                name = String(item[..<equals]).trimmingCharacters(in: .whitespaces)
                path = String(item[item.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            }
            path = absolute(path)
            let folder = name ?? URL(fileURLWithPath: path).lastPathComponent
            guard !folder.isEmpty, folder != ".", folder != "..", folder != "/", !folder.contains("/") else {
                throw ConfigurationError("\(key) (\(origin)): \"\(item)\" needs a NAME= (the remote folder name cannot be \"\(folder)\")")
            }
            if let clash = roots.first(where: { $0.name == folder }) {
                throw ConfigurationError("\(key) (\(origin)): two watches are named \"\(folder)\" (\(clash.path) and \(path)); give one a different NAME=")
            }
            let root = WatchRoot(name: folder, path: path)
            if requirement == .mustExist, let problem = root.existenceProblem {
                throw ConfigurationError("\(key) (\(origin)): \(problem)")
            }
            roots.append(root)
        }
        guard !roots.isEmpty else { throw ConfigurationError("\(key) (\(origin)): no directory given") }
        for root in roots {
            if let outer = roots.first(where: { $0 != root && root.path.hasPrefix($0.path + "/") }) {
                throw ConfigurationError("\(key) (\(origin)): \(root.path) is inside \(outer.path); watches must not nest")
            }
        }
        return roots
    }

    private func loadCredentials(_ settings: ResolvedSettings) throws(ConfigurationError) -> S3Credentials {
        var accessKey = settings.value(.awsAccessKeyID)
        if accessKey == nil, let path = settings.value(.s3AccessKeyIDFile) {
            accessKey = try readSecretFile(path, key: .s3AccessKeyIDFile)
        }
        var secret = settings.value(.awsSecretAccessKey, isSecret: true)
        if secret == nil, let path = settings.value(.s3SecretAccessKeyFile) {
            secret = try readSecretFile(path, key: .s3SecretAccessKeyFile)
        }
        guard let accessKey, !accessKey.isEmpty else {
            throw ConfigurationError("no access key for the S3 remote: set AWS_ACCESS_KEY_ID or \(SettingKey.s3AccessKeyIDFile.rawValue)")
        }
        guard let secret, !secret.isEmpty else {
            throw ConfigurationError("no secret key for the S3 remote: set AWS_SECRET_ACCESS_KEY or \(SettingKey.s3SecretAccessKeyFile.rawValue)")
        }
        return S3Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: settings.value(.awsSessionToken, isSecret: true))
    }

    /// Docker and Kubernetes secrets are files that usually end in a newline, which is not part of the key.
    private func readSecretFile(_ path: String, key: SettingKey) throws(ConfigurationError) -> String {
        guard let contents = try? String(contentsOfFile: absolute(path), encoding: .utf8) else {
            throw ConfigurationError("\(key.rawValue): cannot read \(path)")
        }
        let value = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw ConfigurationError("\(key.rawValue): \(path) is empty") }
        return value
    }

    private func checkListenAddress(_ text: String, settings: ResolvedSettings) throws(ConfigurationError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port),
              !text[..<colon].isEmpty
        else {
            throw settings.invalid(.listen, "is not HOST:PORT (e.g. 127.0.0.1:9464; empty turns the endpoint off)")
        }
    }

    private func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true))
        var result = url.standardizedFileURL.path
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }

    private static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else { return false }
        return ["http", "https"].contains(scheme) && !host.isEmpty
    }

    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// The three sources merged through swift-configuration, plus where each value came from so that
/// an error can say "agent.conf line 7" or "environment".
private struct ResolvedSettings {
    /// One swift-configuration reader per source, highest precedence first. They are asked in
    /// turn rather than merged, because an empty value (`LIFEBOAT_SETTLE=` from a compose
    /// `${X:-}`) must fall through to the next source instead of hiding it.
    private let sources: [(label: String, reader: ConfigReader)]
    let overrides: [String: String]
    let environment: [String: String]
    let file: ConfigFile?

    init(overrides: [String: String], environment: [String: String], file: ConfigFile?) {
        self.overrides = overrides
        self.environment = environment
        self.file = file
        let secrets = SecretsSpecifier<String, String>.specific(Set(SettingKey.allCases.filter(\.isSecret).map(\.rawValue)))
        func reader(_ values: [String: String]) -> ConfigReader {
            ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values, secretsSpecifier: secrets))
        }
        sources = [
            ("command line", reader(overrides)),
            ("environment", reader(environment)),
            (file.map { $0.path } ?? "configuration file", reader(file?.values ?? [:])),
        ]
    }

    /// The value, or nil when unset. An empty value counts as unset (and the next source is
    /// asked) unless the key gives emptiness a meaning, as LIFEBOAT_LISTEN does.
    func value(_ key: SettingKey, isSecret: Bool = false, emptyIsUnset: Bool = true) -> String? {
        lookup(key, isSecret: isSecret, emptyIsUnset: emptyIsUnset)?.value
    }

    private func lookup(_ key: SettingKey, isSecret: Bool = false, emptyIsUnset: Bool) -> (value: String, source: Int)? {
        for (index, source) in sources.enumerated() {
            // swift-configuration reports an empty variable as absent; the raw maps tell the two apart.
            let raw = [overrides, environment, file?.values ?? [:]][index][key.rawValue]
            guard let text = source.reader.string(forKey: ConfigKey(key.rawValue), isSecret: isSecret || key.isSecret) ?? raw else { continue }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty && emptyIsUnset { continue }
            return (trimmed, index)
        }
        return nil
    }

    func required(_ key: SettingKey) throws(ConfigurationError) -> String {
        guard let text = value(key) else {
            throw ConfigurationError("\(key.rawValue) is required but not set (in the environment or the configuration file)")
        }
        return text
    }

    /// Where the value in force came from, for error messages: "environment", "agent.conf line 7".
    func origin(of key: SettingKey) -> String {
        switch lookup(key, emptyIsUnset: key != .listen && key != .exclude)?.source {
        case 0: return "command line"
        case 1: return "environment"
        case 2:
            guard let file, let entry = file.entries[key.rawValue] else { return "configuration file" }
            return "\(file.path) line \(entry.line)"
        default: return "default"
        }
    }

    func invalid(_ key: SettingKey, _ problem: String) -> ConfigurationError {
        let shown = key.isSecret ? "" : "=\(value(key, emptyIsUnset: false) ?? "")"
        return ConfigurationError("\(key.rawValue)\(shown) (\(origin(of: key))) \(problem)")
    }

    func duration(_ key: SettingKey, default fallback: Duration) throws(ConfigurationError) -> Duration {
        guard let text = value(key) else { return fallback }
        guard let duration = SettingValueParser.duration(text) else {
            throw invalid(key, "is not a duration; use a number with ms, s, m or h (e.g. 500ms, 1s, 5m, 1h)")
        }
        return duration
    }

    func size(_ key: SettingKey, default fallback: Int64) throws(ConfigurationError) -> Int64 {
        guard let text = value(key) else { return fallback }
        guard let size = SettingValueParser.size(text) else {
            throw invalid(key, "is not a size; use bytes or KiB, MiB, GiB (e.g. 16MiB)")
        }
        return size
    }

    func integer(_ key: SettingKey, default fallback: Int) throws(ConfigurationError) -> Int {
        guard let text = value(key) else { return fallback }
        guard let number = Int(text) else { throw invalid(key, "is not a whole number") }
        return number
    }

    func bool(_ key: SettingKey) throws(ConfigurationError) -> Bool? {
        guard let text = value(key) else { return nil }
        guard let flag = SettingValueParser.bool(text) else { throw invalid(key, "must be true or false") }
        return flag
    }

    func choice(_ key: SettingKey, among choices: [String], default fallback: String) throws(ConfigurationError) -> String {
        guard let text = value(key)?.lowercased() else { return fallback }
        guard choices.contains(text) else { throw invalid(key, "must be one of: \(choices.joined(separator: ", "))") }
        return text
    }

    func enumeration<Choice: RawRepresentable<String>>(_ key: SettingKey, default fallback: Choice) throws(ConfigurationError) -> Choice {
        guard let text = value(key) else { return fallback }
        guard let choice = Choice(rawValue: text.lowercased()) else {
            throw invalid(key, "is not a valid choice")
        }
        return choice
    }
}

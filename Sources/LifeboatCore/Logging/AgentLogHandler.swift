import Foundation
public import Logging

/// Writes log records to stderr, as text for people or as one JSON object per line for log
/// collectors (`LIFEBOAT_LOG_FORMAT`). stdout stays reserved for command output.
public struct AgentLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: AgentConfiguration.LogFormat

    public init(label: String, level: Logger.Level, format: AgentConfiguration.LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let line: String
        switch format {
        case .text:
            var text = "\(timestamp) \(event.level) \(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            line = text
        case .json:
            var object: [String: String] = ["ts": timestamp, "level": "\(event.level)", "logger": label, "msg": "\(event.message)"]
            for (key, value) in merged { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Installs the handler process-wide; call once, before the first logger is made.
    public static func bootstrap(level: String, format: AgentConfiguration.LogFormat) {
        let parsed = Logger.Level(rawValue: level == "warn" ? "warning" : level) ?? .info
        LoggingSystem.bootstrap { label in AgentLogHandler(label: label, level: parsed, format: format) }
    }
}

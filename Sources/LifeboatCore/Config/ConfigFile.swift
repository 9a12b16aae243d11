import Foundation

/// An `agent.conf`: `KEY=VALUE` lines, `#` comments and blank lines. Parsed strictly, because the
/// same file is also handed to systemd and Docker, which would silently ignore a typo.
public struct ConfigFile: Sendable {
    public struct Entry: Sendable {
        public var key: String
        public var value: String
        public var line: Int
    }

    public let path: String
    public let entries: [String: Entry]

    public init(path: String, contents: String) throws(ConfigurationError) {
        self.path = path
        var entries: [String: Entry] = [:]
        // "\r\n" is a single Character in Swift, so splitting on isNewline handles CRLF files too.
        for (index, rawLine) in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = index + 1
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            // Docker's env_file has no `export`, but shell-sourced files often do; accept it.
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                // The line itself is not echoed: a mangled line may well hold a secret.
                throw ConfigurationError("\(path) line \(lineNumber): expected KEY=VALUE (comments start with #)")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard Self.isValidName(key) else {
                throw ConfigurationError("\(path) line \(lineNumber): the text before \"=\" is not a key name (letters, digits and _)")
            }
            if key.hasPrefix("LIFEBOAT_"), SettingKey(rawValue: key) == nil {
                var message = "\(path) line \(lineNumber): unknown key \(key)"
                if let hint = SettingKey.suggestion(for: key) { message += " (did you mean \(hint.rawValue)?)" }
                throw ConfigurationError(message)
            }
            if let earlier = entries[key] {
                throw ConfigurationError("\(path) line \(lineNumber): \(key) is already set on line \(earlier.line)")
            }
            let value = Self.unquote(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            entries[key] = Entry(key: key, value: value, line: lineNumber)
        }
        self.entries = entries
    }

    public static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        return try ConfigFile(path: path, contents: contents)
    }

    public var values: [String: String] { entries.mapValues(\.value) }

    private static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// One layer of matching quotes is removed, as systemd and Docker Compose do.
    private static func unquote(_ value: String) -> String {
        for quote in ["\"", "'"] where value.count >= 2 && value.hasPrefix(quote) && value.hasSuffix(quote) {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}

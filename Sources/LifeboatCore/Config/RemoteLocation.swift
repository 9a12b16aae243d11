import Foundation

/// Where mirrored files go: `s3://BUCKET[/PREFIX]` or `file:///PATH`.
public enum RemoteLocation: Sendable, Equatable, CustomStringConvertible {
    case s3(bucket: String, prefix: String)
    case directory(path: String)

    /// `origin` says where the text came from ("environment", "agent.conf line 3") for errors.
    public init(parsing text: String, origin: String? = nil) throws(ConfigurationError) {
        let key = SettingKey.remote.rawValue + (origin.map { " (\($0))" } ?? "")
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard Self.isPlausibleBucket(bucket) else {
                throw ConfigurationError("\(key): \"\(bucket)\" is not a bucket name (3-63 characters: lowercase letters, digits, dots, hyphens)")
            }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            let segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
            if !prefix.isEmpty, segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                throw ConfigurationError("\(key): the prefix \"\(prefix)\" has an empty, \".\" or \"..\" segment")
            }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if text.hasPrefix("file://") {
            let path = String(text.dropFirst("file://".count))
            guard path.hasPrefix("/") else {
                throw ConfigurationError("\(key): file remotes need an absolute path, e.g. file:///mnt/backup")
            }
            self = .directory(path: URL(fileURLWithPath: path).standardizedFileURL.path)
        } else {
            throw ConfigurationError("\(key): \"\(text)\" is not a remote; use s3://BUCKET[/PREFIX] or file:///PATH")
        }
    }

    public var description: String {
        switch self {
        case .s3(let bucket, let prefix): prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        case .directory(let path): "file://\(path)"
        }
    }

    private static func isPlausibleBucket(_ name: String) -> Bool {
        // Ceph and older AWS buckets allow underscores and capitals; accept them rather than lock users out.
        (3...63).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
    }
}

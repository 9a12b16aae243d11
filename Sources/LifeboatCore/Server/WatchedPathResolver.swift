/// Maps an absolute path onto the watch root that holds it and the path relative to that root,
/// the journal's address for a file.
public struct WatchedPathResolver: Sendable {
    public let watches: [WatchRoot]

    public init(watches: [WatchRoot]) {
        self.watches = watches
    }

    public enum Resolution: Sendable, Equatable {
        case watched(WatchRoot, relativePath: String)
        /// Not under any watch root.
        case outside
        /// Not something to look up: relative, or escaping with "..".
        case invalid(String)
    }

    public func resolve(_ path: String) -> Resolution {
        guard !path.isEmpty else { return .invalid("give the file's absolute path: /v1/files?path=/ABSOLUTE/PATH") }
        guard path.hasPrefix("/") else { return .invalid("the path must be absolute (start with /)") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return .invalid("the path contains a control character")
        }
        var segments: [Substring] = []
        for segment in path.split(separator: "/") where segment != "." {
            if segment == ".." { return .invalid("the path must not contain \"..\"") }
            segments.append(segment)
        }
        let normalized = "/" + segments.joined(separator: "/")
        // The deepest root wins, should one watched tree sit inside another.
        let match = watches
            .filter { normalized.hasPrefix($0.path + "/") }
            .max { $0.path.count < $1.path.count }
        guard let root = match else { return .outside }
        return .watched(root, relativePath: String(normalized.dropFirst(root.path.count + 1)))
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Decides which paths are left alone: globs on the path relative to the watch root. A pattern
/// without "/" matches the file or folder name at any depth (`*.tmp` catches `a/b/c.tmp`), as in
/// .gitignore; a pattern with "/" (or starting with one) matches the whole relative path, with
/// `**` crossing folders.
public struct ExcludeMatcher: Sendable {
    private let patterns: [[String]]

    public init(_ globs: [String]) {
        patterns = globs.map { glob in
            let anchored = glob.hasPrefix("/")
            let segments = glob.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            return segments.count == 1 && !anchored ? ["**"] + segments : segments
        }
    }

    public func excludes(_ relativePath: String) -> Bool {
        let segments = relativePath.split(separator: "/").map(String.init)
        return patterns.contains { Self.match($0[...], segments[...]) }
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            // "**" takes zero or more whole folders.
            var candidate = path
            while true {
                if match(rest, candidate) { return true }
                guard !candidate.isEmpty else { return false }
                candidate = candidate.dropFirst()
            }
        }
        guard let name = path.first else { return false }
        // fnmatch does the per-name work: *, ? and [...] classes. Without FNM_PERIOD, * matches dotfiles too.
        return fnmatch(first, name, 0) == 0 && match(pattern.dropFirst(), path.dropFirst())
    }
}

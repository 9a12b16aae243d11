/// Rules for object keys that map onto file paths. Lifeboat never produces a key that breaks them,
/// and refuses any key from a remote that does (restore, the directory remote): such a key could
/// otherwise write outside its target.
public enum ObjectKey {
    /// nil when the key is safe as a relative path, else why not.
    public static func problem(with key: String) -> String? {
        if key.isEmpty { return "the key is empty" }
        if key.hasPrefix("/") { return "the key is absolute (starts with /)" }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "the key contains a control character" }
        if key.contains("\\") { return "the key contains a backslash" }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "the key has an empty path segment (//)" }
            if segment == "." || segment == ".." { return "the key has a \"\(segment)\" segment" }
        }
        return nil
    }

    /// `NAME/REL`, the key of a file relative to the remote's prefix.
    public static func make(watch: String, relativePath: String) -> String {
        "\(watch)/\(relativePath)"
    }
}

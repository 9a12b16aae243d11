/// What a restore did, for its summary line and exit status. The categories are disjoint: every
/// object listed under a restored watch lands in exactly one of them.
public struct RestoreReport: Sendable {
    /// Objects listed under the restored watches' folders (folder markers not counted).
    public var objects = 0
    /// Downloaded, checked against the object's `sha256` metadata and renamed into place.
    public var restored: [Entry] = []
    /// Downloaded and put in place, but the object carries no checksum to compare with.
    public var unverified: [Entry] = []
    /// A local file with the same content was already there.
    public var alreadyPresent: [Entry] = []
    /// A local file with different content was left alone (no `--force`).
    public var kept: [Entry] = []
    /// Keys that would land outside the target, or on a symlink or folder in it: never written.
    public var refused: [Problem] = []
    /// Keys that could not be restored (download, checksum or file-system errors).
    public var failed: [Problem] = []
    /// With --dry-run: what would be downloaded.
    public var wouldRestore: [Entry] = []

    public init() {}

    /// One object and the local file it corresponds to.
    public struct Entry: Sendable, Equatable {
        /// The key relative to the remote's prefix (`NAME/REL`).
        public var key: String
        public var path: String
        public var size: Int64
    }

    public struct Problem: Sendable, Equatable {
        public var key: String
        public var reason: String
    }

    /// Bytes written into the target (verified and unverified).
    public var bytesRestored: Int64 {
        restored.reduce(0) { $0 + $1.size } + unverified.reduce(0) { $0 + $1.size }
    }

    /// Everything that is now in place and verified, or already was.
    public var isComplete: Bool {
        unverified.isEmpty && kept.isEmpty && refused.isEmpty && failed.isEmpty
    }

    /// One line per problem, each naming the key or file, for stderr or a log. Keys are quoted
    /// and escaped: a hostile key may hold control characters meant to fool a terminal.
    public var problemLines: [String] {
        refused.map { "refused \($0.key.debugDescription): \($0.reason)" }
            + failed.map { "not restored \($0.key.debugDescription): \($0.reason)" }
            + kept.map { "kept \($0.path): it differs from the remote copy \($0.key.debugDescription); use --force to replace it" }
            + unverified.map { "unverified \($0.path): the object \($0.key.debugDescription) has no sha256 metadata, so its content could not be checked" }
    }

    /// `restore: N objects, R restored (X MiB), S already present, K kept (differ; use --force), U unverified, F failed`
    public var summary: String {
        "restore: \(objects) objects, \(restored.count) restored (\(ByteFormat.string(bytesRestored))), "
            + "\(alreadyPresent.count) already present, \(kept.count) kept (differ; use --force), "
            + "\(unverified.count) unverified, \(refused.count + failed.count) failed"
    }

    /// The dry-run form: nothing was written.
    public var dryRunSummary: String {
        let bytes = wouldRestore.reduce(Int64(0)) { $0 + $1.size }
        return "restore (dry run): \(objects) objects, \(wouldRestore.count) to restore (\(ByteFormat.string(bytes))), "
            + "\(alreadyPresent.count) already present, \(kept.count) kept (differ; use --force), "
            + "0 unverified, \(refused.count + failed.count) failed"
    }
}

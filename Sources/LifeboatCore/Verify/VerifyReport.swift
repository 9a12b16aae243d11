/// What `verify` found. Encodes as the contract's JSON object:
/// `{"checked":N,"ok":N,"missing":[...],"mismatched":[{"key","reason"}],"untracked":[...]}`.
public struct VerifyReport: Sendable, Equatable, Encodable {
    /// Journal rows checked (or, without a journal, remote objects checked).
    public var checked = 0
    public var ok = 0
    /// Keys the journal says are mirrored but the remote does not have.
    public var missing: [String] = []
    public var mismatched: [Mismatch] = []
    /// Objects under the watches' folders that the journal has no row for: information only.
    public var untracked: [String] = []
    /// Whether the journal was the reference (false on a fresh machine: the objects' own metadata).
    public var againstJournal = true

    public init() {}

    public struct Mismatch: Sendable, Equatable, Encodable {
        /// The key relative to the remote's prefix (`NAME/REL`).
        public var key: String
        public var reason: String
    }

    /// Everything checked matched.
    public var isClean: Bool { missing.isEmpty && mismatched.isEmpty }

    public var summary: String {
        "verify: \(checked) checked, \(ok) ok, \(missing.count) missing, \(mismatched.count) mismatched, \(untracked.count) untracked"
    }

    /// One line per problem, naming the key (quoted and escaped: keys may hold control characters).
    public var problemLines: [String] {
        missing.map { "missing \($0.debugDescription): the journal says it is mirrored but the remote has no such object" }
            + mismatched.map { "mismatch \($0.key.debugDescription): \($0.reason)" }
    }

    enum CodingKeys: String, CodingKey {
        case checked, ok, missing, mismatched, untracked
    }
}

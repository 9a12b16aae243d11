/// A regular file found under a watch root.
public struct ScannedFile: Sendable, Equatable {
    /// Relative to the watch root, "/"-separated.
    public var relativePath: String
    public var fingerprint: FileFingerprint
    public var mode: UInt32

    public init(relativePath: String, fingerprint: FileFingerprint, mode: UInt32) {
        self.relativePath = relativePath
        self.fingerprint = fingerprint
        self.mode = mode
    }
}

/// Something under a watch root that cannot be mirrored, with the reason.
public struct ScanProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "\(path): \(reason)" }
}

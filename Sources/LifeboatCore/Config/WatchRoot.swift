/// A watched directory and the folder name its files get in the remote.
public struct WatchRoot: Sendable, Equatable, Hashable {
    public var name: String
    /// Absolute, without a trailing slash.
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

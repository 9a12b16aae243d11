import Foundation

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

extension WatchRoot {
    /// nil when the root is an existing directory, else what is wrong with it.
    public var existenceProblem: String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "watch directory \(path) does not exist"
        }
        return isDirectory.boolValue ? nil : "\(path) is not a directory"
    }
}

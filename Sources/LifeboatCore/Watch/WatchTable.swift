#if canImport(Glibc)
import Glibc
#endif

/// The bookkeeping half of the watcher, free of system calls so that tests can feed it events
/// (an overflow, a root deleted and recreated): which watch descriptor is which directory, and
/// what each raw event means.
struct WatchTable {
    struct Directory: Equatable {
        var root: WatchRoot
        /// Relative to the root; empty for the root itself.
        var relative: String
    }

    private(set) var directories: [Int32: Directory] = [:]

    var count: Int { directories.count }

    mutating func add(descriptor: Int32, root: WatchRoot, relative: String) {
        directories[descriptor] = Directory(root: root, relative: relative)
    }

    /// Forgets a directory and, since inotify descriptors are per directory, everything below it.
    mutating func remove(root: WatchRoot, relative: String) {
        directories = directories.filter { _, directory in
            !(directory.root == root && (directory.relative == relative || relative.isEmpty || directory.relative.hasPrefix(relative + "/")))
        }
    }

    func descriptors(under root: WatchRoot, relative: String) -> [Int32] {
        directories.compactMap { descriptor, directory in
            directory.root == root && (relative.isEmpty || directory.relative == relative || directory.relative.hasPrefix(relative + "/")) ? descriptor : nil
        }
    }

    /// Interprets one raw event. Directory events are returned as `directoryAppeared`; the watcher
    /// adds watches for them before passing the event on.
    mutating func interpret(_ event: RawInotifyEvent) -> [WatchEvent] {
        if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { return [.overflow] }
        guard let directory = directories[event.descriptor] else { return [] }
        if event.mask & UInt32(IN_IGNORED) != 0 {
            // The kernel dropped this watch (directory deleted, or file system unmounted).
            directories[event.descriptor] = nil
            return directory.relative.isEmpty ? [.rootLost(directory.root)] : []
        }
        if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            return directory.relative.isEmpty ? [.rootLost(directory.root)] : []
        }
        guard let name = event.name, !name.isEmpty else { return [] }
        let path = directory.relative.isEmpty ? name : directory.relative + "/" + name
        let isDirectory = event.mask & UInt32(IN_ISDIR) != 0
        if isDirectory {
            if event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { return [.directoryAppeared(directory.root, path)] }
            if event.mask & UInt32(IN_MOVED_FROM | IN_DELETE) != 0 {
                remove(root: directory.root, relative: path)
            }
            return []
        }
        if event.mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 { return [.fileWritten(directory.root, path)] }
        if event.mask & UInt32(IN_MODIFY) != 0 { return [.fileModified(directory.root, path)] }
        return []
    }
}

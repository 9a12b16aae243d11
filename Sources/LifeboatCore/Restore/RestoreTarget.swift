import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The folder a watch is restored into, held open, with every path below it resolved one
/// component at a time from that descriptor: `openat(..., O_DIRECTORY | O_NOFOLLOW)` for each
/// folder, `O_CREAT | O_EXCL | O_NOFOLLOW` for the temporary file, `renameat` into place. A
/// symlink (or a file where a folder should be) anywhere below the root therefore stops the
/// restore of that key instead of redirecting it, and no name from the remote is ever handed to
/// a path-resolving call (guarantee 5).
///
/// The root itself is the user's configuration (a watch directory or `--to DIR/NAME`) and may
/// well be a symlink to a mounted volume; it is the one path that is resolved normally.
final class RestoreTarget: Sendable {
    let path: String
    /// -1 when the root does not exist and the restore is a dry run.
    private let descriptor: Int32

    /// Opens (with `create`, first creates) the root folder.
    init(path: String, create: Bool) throws(RestoreError) {
        self.path = path
        if create {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw RestoreError("cannot create the restore target \(path): \(error.localizedDescription)")
            }
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 {
            guard !create, errno == ENOENT else {
                throw RestoreError("cannot open the restore target \(path): \(String(cString: strerror(errno)))")
            }
        }
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// What the last name of a restored path currently is.
    enum Entry {
        case missing
        case regular(stat)
        /// A symlink, folder, FIFO, socket or device: never replaced, never followed.
        case other(String)
    }

    /// Opens the folder `components` below the root, creating missing folders when `create`.
    /// Returns an descriptor the caller closes, or nil when a folder is missing and `create` is
    /// false (a dry run: everything below would be new).
    func openFolder(_ components: some Collection<Substring>, create: Bool) throws(RestoreError) -> Int32? {
        guard descriptor >= 0 else { return nil }
        var current = dup(descriptor)
        guard current >= 0 else { throw RestoreError("\(path): \(String(cString: strerror(errno)))") }
        var walked = path
        for component in components {
            let name = String(component)
            walked += "/" + name
            var next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT {
                guard create else {
                    close(current)
                    return nil
                }
                // Another download may create the same folder at the same moment: EEXIST is fine.
                if mkdirat(current, name, 0o777) != 0, errno != EEXIST {
                    let code = errno
                    close(current)
                    throw RestoreError("cannot create the folder \(walked): \(String(cString: strerror(code)))")
                }
                next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                let code = errno
                // O_NOFOLLOW | O_DIRECTORY refuses a symlink (ELOOP or ENOTDIR) and a non-folder (ENOTDIR).
                if code == ELOOP || code == ENOTDIR {
                    let found = try? entry(in: current, name: name)
                    close(current)
                    if case .other(let what) = found {
                        throw RestoreError(refusing: "\(walked) is \(what) in the target; not following it")
                    }
                    throw RestoreError(refusing: "\(walked) is a file in the target, not a folder")
                }
                close(current)
                throw RestoreError("cannot open the folder \(walked): \(String(cString: strerror(code)))")
            }
            close(current)
            current = next
        }
        return current
    }

    func entry(in folder: Int32, name: String) throws(RestoreError) -> Entry {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return .missing }
            throw RestoreError("cannot inspect \(name): \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(info)
        case S_IFLNK: return .other("a symlink")
        case S_IFDIR: return .other("a folder")
        default: return .other("a special file")
        }
    }

    /// Hashes the regular file `name` in `folder` without following a symlink; nil when it is
    /// no longer a regular file.
    func digest(in folder: Int32, name: String, displayPath: String) throws -> (sha256: String, info: stat)? {
        // O_NONBLOCK: should a FIFO be swapped in after the stat, opening it must not hang.
        let file = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            if errno == ENOENT || errno == ELOOP { return nil }
            throw FileReadError(path: displayPath, errno: errno)
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0 else { throw FileReadError(path: displayPath, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        return (try DescriptorDigest.sha256(of: file, path: displayPath).sha256, info)
    }

    /// Creates a fresh temporary file in `folder`, readable and writable. Its name ends in
    /// `.part` so that a watcher running beside the restore (default excludes) ignores it.
    func createTemporary(in folder: Int32) throws(RestoreError) -> (descriptor: Int32, name: String) {
        for _ in 0..<8 {
            let name = ".lifeboat-restore-\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).part"
            let file = openat(folder, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if file >= 0 { return (file, name) }
            if errno != EEXIST { throw RestoreError("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        }
        throw RestoreError("cannot create a temporary file: every name tried exists")
    }

    func rename(_ temporary: String, to name: String, in folder: Int32) throws(RestoreError) {
        guard renameat(folder, temporary, folder, name) == 0 else {
            throw RestoreError("cannot rename into place: \(String(cString: strerror(errno)))")
        }
    }

    func remove(_ name: String, in folder: Int32) {
        _ = unlinkat(folder, name, 0)
    }

    /// Makes renames in the folder durable: the directory entry has to reach the disk too.
    func syncFolder(_ components: some Collection<Substring>) {
        guard let folder = try? openFolder(components, create: false) else { return }
        _ = fsync(folder)
        close(folder)
    }
}

/// A restore could not proceed for one key or one target; the message names it.
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The key was refused for safety (it would escape the target or go through a symlink),
    /// as opposed to failing.
    public let isRefusal: Bool

    public init(_ message: String) {
        self.message = message
        self.isRefusal = false
    }

    init(refusing message: String) {
        self.message = message
        self.isRefusal = true
    }

    public var description: String { message }
}

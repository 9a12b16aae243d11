import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Walks a watch root and reports every regular file with its stat fingerprint. Directories are
/// opened relative to their parent with O_NOFOLLOW, so a symlink (or a directory swapped for one
/// mid-walk) is never followed out of the tree; symlinks, sockets, FIFOs and devices are skipped.
public struct TreeScanner: Sendable {
    public let root: WatchRoot
    public let excludes: ExcludeMatcher

    public init(root: WatchRoot, excludes: ExcludeMatcher) {
        self.root = root
        self.excludes = excludes
    }

    public struct Result: Sendable {
        public var files: [ScannedFile] = []
        public var problems: [ScanProblem] = []
    }

    public func scan() -> Result {
        var result = Result()
        let descriptor = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            result.problems.append(ScanProblem(path: root.path, reason: "cannot open the watch directory: \(String(cString: strerror(errno)))"))
            return result
        }
        walk(directory: descriptor, relative: "", into: &result)
        return result
    }

    /// Scans one subtree (e.g. a directory that inotify just reported), relative to the root.
    public func scan(subtree relative: String) -> Result {
        guard !relative.isEmpty else { return scan() }
        var result = Result()
        let descriptor = open(root.path + "/" + relative, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return result }
        walk(directory: descriptor, relative: relative, into: &result)
        return result
    }

    /// Takes ownership of `descriptor` and closes it.
    private func walk(directory descriptor: Int32, relative: String, into result: inout Result) {
        guard let stream = fdopendir(descriptor) else {
            close(descriptor)
            return
        }
        defer { closedir(stream) }
        var subdirectories: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                let bytes = raw.prefix { $0 != 0 }
                return String(validating: bytes, as: UTF8.self)
            }
            guard let name else {
                result.problems.append(ScanProblem(path: displayPath(relative, "<non-UTF-8 name>"), reason: "the name is not valid UTF-8, so it cannot be an object key"))
                continue
            }
            if name == "." || name == ".." { continue }
            let path = relative.isEmpty ? name : relative + "/" + name
            if excludes.excludes(path) { continue }
            var info = stat()
            guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                // Deleted between readdir and stat: an ordinary race, nothing to report.
                if errno != ENOENT {
                    result.problems.append(ScanProblem(path: displayPath(relative, name), reason: String(cString: strerror(errno))))
                }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                result.files.append(ScannedFile(relativePath: path, fingerprint: FileFingerprint(stat: info), mode: UInt32(info.st_mode & 0o7777)))
            case S_IFDIR:
                subdirectories.append(name)
            default:
                continue
            }
        }
        for name in subdirectories {
            let path = relative.isEmpty ? name : relative + "/" + name
            let child = openat(dirfd(stream), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else {
                if errno != ENOENT {
                    result.problems.append(ScanProblem(path: displayPath(relative, name), reason: "cannot open: \(String(cString: strerror(errno)))"))
                }
                continue
            }
            walk(directory: child, relative: path, into: &result)
        }
    }

    private func displayPath(_ relative: String, _ name: String) -> String {
        relative.isEmpty ? "\(root.path)/\(name)" : "\(root.path)/\(relative)/\(name)"
    }
}

extension FileFingerprint {
    init(stat info: stat) {
        self.init(
            size: Int64(info.st_size),
            mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            ctimeNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec),
            inode: Int64(bitPattern: UInt64(info.st_ino)))
    }

    /// The fingerprint of the file at `path` now, without following a final symlink.
    public static func current(path: String) -> FileFingerprint? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return FileFingerprint(stat: info)
    }
}

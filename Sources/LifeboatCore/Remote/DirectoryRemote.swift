import CLinux
public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `file://` remote: the same tree as in S3, under a mounted directory. Each file is written
/// under a temporary name, fsynced, given its mtime and mode, and renamed into place, so a reader
/// (or a crash) never sees half a file. The digest is kept in the `user.lifeboat.sha256` extended
/// attribute where the file system supports one.
public struct DirectoryRemote: RemoteStore {
    public let root: String
    public var location: String { "file://\(root)" }

    static let temporaryMarker = ".lifeboat-tmp-"
    private static let digestAttribute = "user.lifeboat.sha256"

    public init(root: String) {
        self.root = root
    }

    public func put(_ object: LocalObject) async throws -> StoredObject {
        let destination = try path(for: object.key)
        let directory = (destination as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A short temporary name: the final name may already be near NAME_MAX (255 bytes).
        let temporary = "\(directory)/\(Self.temporaryMarker)\(UInt64.random(in: 0...UInt64.max))"

        let source = open(object.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard source >= 0 else { throw RemoteError.local(object.path, errno) }
        defer { close(source) }
        let target = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard target >= 0 else { throw RemoteError.local(temporary, errno) }
        var renamed = false
        defer {
            close(target)
            if !renamed { unlink(temporary) }
        }
        let copied = try Self.copy(from: source, to: target, path: object.path)
        guard copied == object.size else { throw FileChangedError(path: object.path) }
        _ = fchmod(target, mode_t(object.mode))
        let digestStored = object.sha256.withCString { lifeboat_fsetxattr(target, Self.digestAttribute, $0, strlen($0)) } == 0
        // Access time is left alone (UTIME_OMIT); only the modification time carries meaning.
        let times = [Glibc.timespec(tv_sec: 0, tv_nsec: lifeboat_utime_omit()), Self.timespec(nanoseconds: object.mtimeNanoseconds)]
        guard futimens(target, times) == 0, fsync(target) == 0 else { throw RemoteError.local(temporary, errno) }
        guard rename(temporary, destination) == 0 else { throw RemoteError.local(destination, errno) }
        renamed = true
        Self.syncDirectory(directory)
        // The same ETag a listing will show (see `describe`), so `verify` can compare the two
        // also on file systems without user extended attributes.
        return StoredObject(key: object.key, etag: digestStored ? object.sha256 : "\(object.size)-\(object.mtimeNanoseconds)")
    }

    public func head(key: String) async throws -> RemoteObject? {
        let path = try path(for: key)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw RemoteError.local(path, errno)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        return describe(key: key, path: path, info: info)
    }

    public func list(prefix: String, page: ([RemoteObject]) async throws -> Void) async throws {
        var objects: [RemoteObject] = []
        collect(directory: root, keyPrefix: "", into: &objects, matching: prefix)
        objects.sort { $0.key < $1.key }
        var start = 0
        while start < objects.count {
            let end = min(start + 1000, objects.count)
            try await page(Array(objects[start..<end]))
            start = end
        }
    }

    public func get(key: String, into descriptor: Int32) async throws -> RemoteObject {
        let path = try path(for: key)
        let source = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard source >= 0 else { throw errno == ENOENT ? RemoteError.notFound(key) : RemoteError.local(path, errno) }
        defer { close(source) }
        var info = stat()
        guard fstat(source, &info) == 0 else { throw RemoteError.local(path, errno) }
        _ = try Self.copy(from: source, to: descriptor, path: path)
        return describe(key: key, path: path, info: info)
    }

    public func delete(key: String) async throws {
        let path = try path(for: key)
        guard unlink(path) == 0 || errno == ENOENT else { throw RemoteError.local(path, errno) }
    }

    /// Temporary files of copies a crash interrupted. A copy in flight keeps writing its temporary
    /// file, so its modification time is after any cutoff taken before the copy began.
    public func removeIncompleteUploads(startedBefore cutoff: Date) async throws -> Int {
        var removed = 0
        guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
        while let relative = walker.nextObject() as? String {
            guard (relative as NSString).lastPathComponent.hasPrefix(Self.temporaryMarker) else { continue }
            var info = stat()
            guard lstat("\(root)/\(relative)", &info) == 0,
                  Double(FileFingerprint(stat: info).mtimeNanoseconds) / 1e9 < cutoff.timeIntervalSince1970 else { continue }
            if unlink("\(root)/\(relative)") == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: Helpers

    private func path(for key: String) throws -> String {
        if let problem = ObjectKey.problem(with: key) { throw RemoteError.unsafeKey(key, problem) }
        return "\(root)/\(key)"
    }

    private func describe(key: String, path: String, info: stat) -> RemoteObject {
        let digest = Self.storedDigest(path)
        let mtime = FileFingerprint(stat: info).mtimeNanoseconds
        return RemoteObject(
            key: key, size: Int64(info.st_size), etag: digest ?? "\(info.st_size)-\(mtime)", sha256: digest,
            mtimeNanoseconds: mtime, mode: UInt32(info.st_mode & 0o7777), contentType: ContentType.forPath(key))
    }

    private func collect(directory: String, keyPrefix: String, into objects: inout [RemoteObject], matching prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !name.hasPrefix(Self.temporaryMarker) {
            let key = keyPrefix + name
            // Prune folders that cannot hold a key with the wanted prefix.
            guard key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") || prefix.hasPrefix(key) else { continue }
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: collect(directory: path, keyPrefix: key + "/", into: &objects, matching: prefix)
            case S_IFREG where key.hasPrefix(prefix): objects.append(describe(key: key, path: path, info: info))
            default: continue
            }
        }
    }

    private static func storedDigest(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 80)
        let count = lifeboat_getxattr(path, digestAttribute, &buffer, buffer.count)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        return ObjectMetadata.isSHA256(text) ? text : nil
    }

    /// copy_file_range lets the kernel move the bytes (or share extents); plain read/write when it can't.
    private static func copy(from source: Int32, to target: Int32, path: String) throws -> Int64 {
        var total: Int64 = 0
        while true {
            let count = lifeboat_copy_file_range(source, target, 1 << 30)
            if count > 0 { total += Int64(count); continue }
            if count == 0 { return total }
            if errno == EINTR { continue }
            if [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF].contains(errno), total == 0 { break }
            throw RemoteError.local(path, errno)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(source, buffer.baseAddress, buffer.count)
            if count < 0 { if errno == EINTR { continue }; throw RemoteError.local(path, errno) }
            if count == 0 { return total }
            var offset = 0
            while offset < count {
                let written = write(target, buffer.baseAddress! + offset, count - offset)
                if written < 0 { if errno == EINTR { continue }; throw RemoteError.local(path, errno) }
                offset += written
            }
            total += Int64(count)
        }
    }

    /// The rename is durable only once the directory entry itself reaches the disk.
    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    static func timespec(nanoseconds: Int64) -> Glibc.timespec {
        var seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        if fraction < 0 { seconds -= 1; fraction += 1_000_000_000 }
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(fraction))
    }
}

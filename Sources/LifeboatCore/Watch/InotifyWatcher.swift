import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Recursive directory watching with the kernel's inotify API, read on a thread of its own so
/// that slow uploads can never hold it up: the kernel queue is drained as fast as events come.
///
/// A directory that appears gets its watches first and is reported afterwards, so the scan that
/// follows finds files written before the watch existed. Running out of watches is logged loudly
/// and the subtree is reported `unwatchable`, for the daemon to rescan instead.
public final class InotifyWatcher: Sendable {
    public let events: AsyncStream<WatchEvent>
    private let continuation: AsyncStream<WatchEvent>.Continuation
    private let inotify: Int32
    /// Written to wake the reader thread for shutdown.
    private let wakePipe: (read: Int32, write: Int32)
    private let table = Mutex(WatchTable())
    private let logger: Logger
    private let excludes: ExcludeMatcher

    static let directoryMask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    public init(excludes: ExcludeMatcher, logger: Logger) throws {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            throw WatchError("inotify_init1 failed: \(String(cString: strerror(errno))) (fs.inotify.max_user_instances may be exhausted)")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            close(descriptor)
            throw WatchError("pipe failed: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        inotify = descriptor
        wakePipe = (pipeEnds[0], pipeEnds[1])
        self.logger = logger
        self.excludes = excludes
        (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
    }

    deinit {
        close(inotify)
        close(wakePipe.read)
        close(wakePipe.write)
    }

    public var watchCount: Int { table.withLock { $0.count } }

    /// Starts the reader thread. Call after the initial `watch(root:)` calls.
    public func start() {
        let thread = Thread { [self] in readLoop() }
        thread.name = "lifeboat-inotify"
        thread.start()
    }

    /// Ends the event stream and the reader thread.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    /// Watches a root and every directory below it. Returns false when the root is missing.
    @discardableResult
    public func watch(root: WatchRoot) -> Bool {
        watchTree(root: root, relative: "")
    }

    /// Adds watches for a directory and its subdirectories, never following symlinks.
    @discardableResult
    func watchTree(root: WatchRoot, relative: String) -> Bool {
        let path = relative.isEmpty ? root.path : root.path + "/" + relative
        let descriptor = inotify_add_watch(inotify, path, Self.directoryMask)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOSPC {
                logger.error("inotify watch limit reached: \(path) and everything below it will be found by periodic rescans instead; raise fs.inotify.max_user_watches (now \(Self.watchLimit()))")
                continuation.yield(.unwatchable(root, relative))
            } else if code != ENOENT && code != ENOTDIR {
                logger.warning("cannot watch \(path): \(String(cString: strerror(code)))")
            }
            return false
        }
        table.withLock { $0.add(descriptor: descriptor, root: root, relative: relative) }
        for name in Self.subdirectories(of: path) {
            let child = relative.isEmpty ? name : relative + "/" + name
            if excludes.excludes(child) { continue }
            watchTree(root: root, relative: child)
        }
        return true
    }

    private func readLoop() {
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: MemoryLayout<inotify_event>.alignment)
        defer {
            buffer.deallocate()
            continuation.finish()
        }
        var descriptors = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        while true {
            // Blocks until there is something to read: an idle agent uses no CPU.
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("inotify poll failed: \(String(cString: strerror(errno)))")
                return
            }
            if descriptors[1].revents != 0 { return }
            while true {
                let count = read(inotify, buffer, capacity)
                if count <= 0 { break }
                handle(buffer: buffer, count: count)
            }
        }
    }

    private func handle(buffer: UnsafeMutableRawPointer, count: Int) {
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= count {
            let header = buffer.load(fromByteOffset: offset, as: inotify_event.self)
            var name: String?
            if header.len > 0 {
                let bytes = UnsafeRawBufferPointer(start: buffer + offset + headerSize, count: Int(header.len))
                name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            offset += headerSize + Int(header.len)
            dispatch(RawInotifyEvent(descriptor: header.wd, mask: header.mask, name: name))
        }
    }

    /// Interprets an event and passes it on; new directories get their watches before anyone hears of them.
    func dispatch(_ raw: RawInotifyEvent) {
        let interpreted = table.withLock { $0.interpret(raw) }
        for event in interpreted {
            switch event {
            case .directoryAppeared(let root, let relative):
                if excludes.excludes(relative) { continue }
                watchTree(root: root, relative: relative)
            case .fileWritten(_, let relative), .fileModified(_, let relative):
                if excludes.excludes(relative) { continue }
            case .overflow:
                logger.warning("inotify queue overflowed; rescanning every watch root")
            case .rootLost(let root):
                table.withLock { $0.remove(root: root, relative: "") }
                logger.warning("watch root \(root.path) disappeared; it will be watched again when it comes back")
            default:
                break
            }
            continuation.yield(event)
        }
    }

    /// Re-establishes a lost root once it exists again; returns whether it is watched now.
    public func rewatch(root: WatchRoot) -> Bool {
        var info = stat()
        guard stat(root.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
        let stale = table.withLock { $0.descriptors(under: root, relative: "") }
        for descriptor in stale { inotify_rm_watch(inotify, descriptor) }
        table.withLock { $0.remove(root: root, relative: "") }
        return watch(root: root)
    }

    private static func subdirectories(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            // d_type can be DT_UNKNOWN on some file systems; lstat settles it without following links.
            if entry.pointee.d_type == UInt8(DT_DIR) {
                names.append(name)
            } else if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                if lstat(path + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { names.append(name) }
            }
        }
        return names
    }

    private static func watchLimit() -> String {
        (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }
}

public struct WatchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

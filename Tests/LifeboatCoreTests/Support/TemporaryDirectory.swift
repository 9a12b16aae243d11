import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temporary directory, removed by `remove()`. Tests run in
/// parallel, so each one gets its own.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = "lifeboat-tests") throws {
        let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-XXXXXX")
        var bytes = Array(template.utf8CString)
        guard let created = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        // mkdtemp may hand back a path through a symlinked /tmp; resolve it so comparisons hold.
        path = URL(fileURLWithPath: String(cString: created)).resolvingSymlinksInPath().path
    }

    func remove() {
        // Make everything writable again first, in case a test took permissions away.
        if let enumerator = FileManager.default.enumerator(atPath: path) {
            while let name = enumerator.nextObject() as? String {
                _ = chmod("\(path)/\(name)", 0o755)
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The absolute path of `relative` inside this directory.
    func url(_ relative: String) -> String {
        relative.isEmpty ? path : "\(path)/\(relative)"
    }

    /// Writes `contents` at `relative`, creating folders on the way; returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ contents: String) throws -> String {
        try write(relative, Data(contents.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ contents: Data) throws -> String {
        let target = url(relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    func makeDirectory(_ relative: String) throws -> String {
        let target = url(relative)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        return target
    }

    func read(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: url(relative)))
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: url(relative))
    }

    /// Every entry below the directory (files, folders, links), relative and sorted.
    func allEntries() -> [String] {
        (FileManager.default.subpaths(atPath: path) ?? []).sorted()
    }
}

/// Runs `body` with a fresh temporary directory and removes it afterwards, whatever happens.
func withTemporaryDirectory<T>(_ label: String = "lifeboat-tests", _ body: (TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory(label)
    defer { directory.remove() }
    return try await body(directory)
}

/// `withTemporaryDirectory` for synchronous bodies.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    return try body(directory)
}

/// Deterministic pseudo-random bytes (a 64-bit LCG), so that a failing size or digest is reproducible.
func patternedData(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
    var state = seed
    var data = Data(count: count)
    data.withUnsafeMutableBytes { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
    }
    return data
}

/// `stat` of a path without following a final symlink.
func lstatInfo(_ path: String) throws -> stat {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return info
}

extension stat {
    var mtimeNanoseconds: Int64 { Int64(st_mtim.tv_sec) * 1_000_000_000 + Int64(st_mtim.tv_nsec) }
    var ctimeNanoseconds: Int64 { Int64(st_ctim.tv_sec) * 1_000_000_000 + Int64(st_ctim.tv_nsec) }
    var permissionBits: UInt32 { UInt32(st_mode & 0o7777) }
}

/// Sets a file's modification time to an exact nanosecond value (access time left alone).
func setModificationTime(_ path: String, nanoseconds: Int64) throws {
    let times = [
        timespec(tv_sec: 0, tv_nsec: utimeOmit),
        timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000)),
    ]
    guard utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
}

/// UTIME_OMIT from <sys/stat.h>: ((1l << 30) - 2l). Glibc does not export the macro to Swift.
private let utimeOmit = (1 << 30) - 2

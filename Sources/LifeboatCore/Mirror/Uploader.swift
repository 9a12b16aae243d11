import CLinux
public import Foundation
import S3

#if canImport(Glibc)
import Glibc
#endif

/// Takes one journal row from pending to mirrored: hash if needed, upload, then check that the
/// file did not change while it was being sent (guarantee 3). The journal row it returns says
/// what happened; the caller saves it.
public struct Uploader: Sendable {
    public let remote: any RemoteStore
    public let hasher: FileHasher

    public init(remote: any RemoteStore, hasher: FileHasher = FileHasher()) {
        self.remote = remote
        self.hasher = hasher
    }

    public enum Outcome: Sendable {
        case mirrored(FileRecord, bytes: Int64)
        /// Changed during hashing or upload: still pending, to be tried once it settles.
        case changed(FileRecord)
        /// Vanished before it could be mirrored.
        case gone(FileRecord)
        case failed(FileRecord, any Error)
    }

    public func mirror(_ record: FileRecord, root: WatchRoot, now: @Sendable () -> Date = Date.init) async -> Outcome {
        var record = record
        let path = "\(root.path)/\(record.path)"
        do {
            var info = stat()
            guard lstat(path, &info) == 0 else { throw FileReadError(path: path, errno: errno) }
            guard info.st_mode & S_IFMT == S_IFREG else { throw FileReadError(path: path, errno: ENOENT) }
            let current = FileFingerprint(stat: info)
            // A writer that keeps the file open and pauses longer than the settle time would
            // otherwise have its half-written file uploaded (guarantee 3).
            if lifeboat_open_for_writing(path) == 1 {
                record.markPending(reason: "still open for writing", at: now())
                return .changed(record)
            }
            if record.sha256 == nil || current != record.fingerprint {
                let digest = try hasher.hash(path: path)
                record.sha256 = digest.sha256
                record.apply(digest.fingerprint)
            }
            guard let sha256 = record.sha256 else { throw FileChangedError(path: path) }
            let object = LocalObject(
                key: ObjectKey.make(watch: record.watch, relativePath: record.path), path: path, size: record.size,
                sha256: sha256, mtimeNanoseconds: record.mtimeNanoseconds, mode: UInt32(info.st_mode & 0o7777))
            let stored = try await remote.put(object)
            guard FileFingerprint.current(path: path) == record.fingerprint else {
                record.markPending(reason: "changed while it was being uploaded", at: now())
                return .changed(record)
            }
            record.state = .mirrored
            record.remoteKey = stored.key
            record.etag = stored.etag
            record.attempts = 0
            record.lastError = nil
            record.nextAttemptAt = nil
            record.mirroredAt = now().timeIntervalSince1970
            record.updatedAt = record.mirroredAt ?? record.updatedAt
            return .mirrored(record, bytes: record.size)
        } catch let error as FileReadError where error.isMissing {
            record.state = .gone
            record.updatedAt = now().timeIntervalSince1970
            return .gone(record)
        } catch is FileChangedError {
            record.markPending(reason: "changed while it was being read", at: now())
            return .changed(record)
        } catch let error as S3Error where error.kind.isSourceChange {
            record.markPending(reason: "changed while it was being uploaded", at: now())
            return .changed(record)
        } catch {
            record.state = .failed
            record.attempts += 1
            record.lastError = "\(error)"
            record.updatedAt = now().timeIntervalSince1970
            return .failed(record, error)
        }
    }
}

extension FileRecord {
    /// Takes a new fingerprint; the digest belongs to the caller to set or clear.
    mutating func apply(_ fingerprint: FileFingerprint) {
        size = fingerprint.size
        mtimeNanoseconds = fingerprint.mtimeNanoseconds
        ctimeNanoseconds = fingerprint.ctimeNanoseconds
        inode = fingerprint.inode
    }

    mutating func markPending(reason: String, at date: Date) {
        state = .pending
        sha256 = nil
        lastError = reason
        updatedAt = date.timeIntervalSince1970
    }
}

extension S3Error.Kind {
    var isSourceChange: Bool {
        if case .source = self { return true }
        return false
    }
}

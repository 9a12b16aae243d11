import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Carries out a scheduled remote deletion (`mirror` delete mode) once it is due, after checking
/// one last time that the local file is still gone.
struct RemoteDeleter: Sendable {
    let journal: Journal
    let remote: any RemoteStore
    let logger: Logger

    /// Deletes the remote copy if the row is still due for deletion; returns whether it did.
    @discardableResult
    func deleteIfDue(watch: String, path: String, root: WatchRoot, now: Date = Date()) async -> Bool {
        do {
            guard var record = try await journal.record(watch: watch, path: path), record.state == .deleting,
                  (record.nextAttemptAt ?? 0) <= now.timeIntervalSince1970
            else { return false }
            var info = stat()
            if lstat("\(root.path)/\(path)", &info) == 0 {
                // Back again: the next scan decides whether it changed; nothing is deleted.
                return false
            }
            let key = record.remoteKey ?? ObjectKey.make(watch: watch, relativePath: path)
            do {
                try await remote.delete(key: key)
                record.state = .gone
                record.lastError = nil
                logger.info("deleted the remote copy of \(root.path)/\(path) (deleted locally)", metadata: ["key": "\(key)"])
            } catch {
                record.lastError = "remote delete failed: \(error)"
                record.nextAttemptAt = now.timeIntervalSince1970 + 60
                logger.error("deleting the remote copy of \(root.path)/\(path) failed: \(error); next attempt in 60s")
            }
            record.updatedAt = now.timeIntervalSince1970
            try await journal.save(record)
            return record.state == .gone
        } catch {
            logger.error("journal access failed while deleting \(root.path)/\(path): \(error)")
            return false
        }
    }
}

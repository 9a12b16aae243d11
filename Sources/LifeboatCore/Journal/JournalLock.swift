import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `JOURNAL.lock`, held for the life of the process. The kernel drops it
/// when the process dies, even by `kill -9`, so a crash never leaves a stale lock behind.
final class JournalLock: Sendable {
    private let descriptor: Int32

    init(journalPath: String) throws(JournalError) {
        let lockPath = journalPath + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw JournalError("cannot create the journal lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.recordedOwner(descriptor)
            close(descriptor)
            throw JournalError("the journal \(journalPath) is in use by another lifeboat process\(holder); only one agent may own a journal at a time")
        }
        let note = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func recordedOwner(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, 31, 0)
        guard count > 0 else { return "" }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : " (pid \(text))"
    }
}

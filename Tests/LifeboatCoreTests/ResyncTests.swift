import Foundation
import Logging
import S3
import Synchronization
import Testing
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// `lifeboat resync` against a directory remote: a watched tree lands byte for byte, a second
/// run has nothing to do, and the journal says what happened.
struct ResyncTests {
    /// A watch root `watched/` named "output", a file remote `remote/` and a journal, in `directory`.
    struct Setup {
        let directory: TemporaryDirectory
        let configuration: AgentConfiguration
        let journal: Journal

        init(_ directory: TemporaryDirectory) throws {
            self.directory = directory
            try directory.makeDirectory("watched")
            try directory.makeDirectory("remote")
            configuration = try ConfigurationLoader(
                environment: [
                    "LIFEBOAT_WATCH": "output=\(directory.url("watched"))",
                    "LIFEBOAT_REMOTE": "file://\(directory.url("remote"))",
                    "LIFEBOAT_JOURNAL": directory.url("state/journal.db"),
                    "LIFEBOAT_LISTEN": "",
                ],
                workingDirectory: directory.path
            ).load()
            journal = try Journal(path: configuration.journalPath, access: .owner)
        }

        func resync(dryRun: Bool = false) async throws -> ResyncReport {
            try await Resync(
                configuration: configuration, journal: journal, remote: DirectoryRemote(root: directory.url("remote")),
                logger: Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() }),
                progress: TransferProgress(verb: "mirroring", enabled: false)
            ).run(dryRun: dryRun)
        }

        /// Writes a watched file with a chosen mode and an exact mtime.
        @discardableResult
        func write(_ relative: String, _ data: Data, mode: mode_t = 0o644, mtime: Int64? = nil) throws -> String {
            let path = try directory.write("watched/" + relative, data)
            #expect(chmod(path, mode) == 0)
            if let mtime { try setModificationTime(path, nanoseconds: mtime) }
            return path
        }
    }

    static let tree: [(path: String, data: Data, mode: mode_t, mtime: Int64)] = [
        ("clip.mp4", patternedData(count: 150_000, seed: 1), 0o644, 1_700_000_000_111_111_111),
        ("voice/take one.wav", patternedData(count: 4_096, seed: 2), 0o600, 1_700_000_001_000_000_000),
        ("deep/er/still/frame 日本.png", patternedData(count: 17, seed: 3), 0o755, 1_600_000_000_999_999_999),
        ("empty.txt", Data(), 0o640, 1_500_000_000_000_000_001),
    ]

    @Test func treeLandsByteForByteWithModeAndMtime() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            for file in Self.tree { try setup.write(file.path, file.data, mode: file.mode, mtime: file.mtime) }
            try setup.write("render.tmp", Data("scratch".utf8))

            let report = try await setup.resync()
            #expect(report.failures.isEmpty, "\(report.failures.map { "\($0.path): \($0.reason)" })")
            #expect(report.scanned == Self.tree.count)
            #expect(report.uploaded == Self.tree.count)
            #expect(report.unchanged == 0)
            #expect(report.bytesUploaded == Self.tree.reduce(0) { $0 + Int64($1.data.count) })

            for file in Self.tree {
                let remotePath = "remote/output/" + file.path
                #expect(try directory.read(remotePath) == file.data, "\(file.path)")
                let info = try lstatInfo(directory.url(remotePath))
                #expect(info.permissionBits == UInt32(file.mode), "\(file.path)")
                #expect(info.mtimeNanoseconds == file.mtime, "\(file.path)")

                let record = try #require(try await setup.journal.record(watch: "output", path: file.path))
                #expect(record.state == .mirrored)
                #expect(record.remoteKey == "output/" + file.path)
                #expect(record.sha256 == FileHasherTests.hex(file.data))
                #expect(record.mirroredAt != nil)
            }
            #expect(!directory.exists("remote/output/render.tmp"))
            #expect(try await setup.journal.record(watch: "output", path: "render.tmp") == nil)
            let summary = try await setup.journal.summary()
            #expect(summary.files == Self.tree.count)
            #expect(summary.mirrored == Self.tree.count)
            #expect(summary.pending == 0)
        }
    }

    @Test func secondRunUploadsNothingAndReportsEverythingUnchanged() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            for file in Self.tree { try setup.write(file.path, file.data, mode: file.mode, mtime: file.mtime) }
            _ = try await setup.resync()

            let second = try await setup.resync()
            #expect(second.uploaded == 0)
            #expect(second.unchanged == Self.tree.count)
            #expect(second.bytesUploaded == 0)
            #expect(second.isComplete)
        }
    }

    @Test func modifiedFileIsTheOnlyOneUploadedAgain() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            for file in Self.tree { try setup.write(file.path, file.data, mode: file.mode, mtime: file.mtime) }
            _ = try await setup.resync()

            let changed = Data("a new take".utf8)
            try setup.write("voice/take one.wav", changed, mode: 0o600, mtime: 1_800_000_000_000_000_000)
            let report = try await setup.resync()
            #expect(report.uploaded == 1)
            #expect(report.unchanged == Self.tree.count - 1)
            #expect(try directory.read("remote/output/voice/take one.wav") == changed)
            let record = try #require(try await setup.journal.record(watch: "output", path: "voice/take one.wav"))
            #expect(record.state == .mirrored)
            #expect(record.sha256 == FileHasherTests.hex(changed))
            #expect(record.size == Int64(changed.count))
        }
    }

    @Test func newFileBesideMirroredOnesIsUploadedAlone() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            try setup.write("first.mp4", Data("one".utf8))
            _ = try await setup.resync()
            try setup.write("later/second.mp4", Data("two".utf8))
            let report = try await setup.resync()
            #expect(report.uploaded == 1)
            #expect(report.unchanged == 1)
            #expect(try directory.read("remote/output/later/second.mp4") == Data("two".utf8))
        }
    }

    @Test func pendingRowWhoseFileWasDeletedBecomesGone() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            try setup.write("kept.mp4", Data("kept".utf8))
            try await setup.journal.save([
                JournalTests.record("deleted-before-upload.mp4", state: .pending),
                JournalTests.record("failed-then-deleted.mp4", state: .failed, lastError: "HTTP 503"),
            ])

            let report = try await setup.resync()
            #expect(report.isComplete)
            #expect(report.uploaded == 1)
            #expect(try await setup.journal.record(watch: "output", path: "deleted-before-upload.mp4")?.state == .gone)
            #expect(try await setup.journal.record(watch: "output", path: "failed-then-deleted.mp4")?.state == .gone)
            let summary = try await setup.journal.summary()
            #expect(summary.files == 1)
            #expect(summary.pending == 0)
            #expect(summary.failed == 0)
            #expect(summary.lastError == nil)
        }
    }

    @Test func locallyDeletedMirroredFileKeepsItsRemoteCopy() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            let path = try setup.write("precious.mp4", Data("precious".utf8))
            _ = try await setup.resync()
            #expect(unlink(path) == 0)
            let report = try await setup.resync()
            #expect(report.isComplete)
            #expect(try directory.read("remote/output/precious.mp4") == Data("precious".utf8))
        }
    }

    @Test func dryRunWritesNothingAndListsWhatItWouldUpload() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            for file in Self.tree { try setup.write(file.path, file.data, mode: file.mode, mtime: file.mtime) }

            let report = try await setup.resync(dryRun: true)
            #expect(report.uploaded == 0)
            #expect(report.wouldUpload.map(\.path).sorted() == Self.tree.map { directory.url("watched/" + $0.path) }.sorted())
            #expect(report.wouldUpload.reduce(0) { $0 + $1.size } == Self.tree.reduce(0) { $0 + Int64($1.data.count) })
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url("remote")).isEmpty)
            #expect(try await setup.journal.records(watch: "output").isEmpty)
            #expect(try await setup.journal.summary() == JournalSummary())
        }
    }

    @Test func emptyWatchDirectoryUploadsNothingAndSucceeds() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            let report = try await setup.resync()
            #expect(report.isComplete)
            #expect(report.scanned == 0)
            #expect(report.uploaded == 0)
        }
    }
}

/// A directory remote with hooks: fails every put, or changes the local file mid-upload.
struct HookedRemote: RemoteStore {
    enum Behaviour: Sendable {
        case failWith503
        /// Appends to the local file during the first `count` puts, as a writer still at work would.
        case appendDuringFirstPuts(count: Int, counter: PutCounter)
    }

    final class PutCounter: Sendable {
        private let calls = Mutex(0)
        func next() -> Int { calls.withLock { $0 += 1; return $0 } }
        var count: Int { calls.withLock { $0 } }
    }

    let inner: DirectoryRemote
    let behaviour: Behaviour
    var location: String { inner.location }

    func put(_ object: LocalObject) async throws -> StoredObject {
        switch behaviour {
        case .failWith503:
            throw S3Error(operation: "PutObject", key: object.key, kind: .http(status: 503, code: "SlowDown", message: "Please reduce your request rate.", requestID: nil))
        case .appendDuringFirstPuts(let count, let counter):
            if counter.next() <= count {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: object.path))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(" and more".utf8))
                try handle.close()
            }
            return try await inner.put(object)
        }
    }

    func head(key: String) async throws -> RemoteObject? { try await inner.head(key: key) }
    func list(prefix: String, page: ([RemoteObject]) async throws -> Void) async throws { try await inner.list(prefix: prefix, page: page) }
    func get(key: String, into descriptor: Int32) async throws -> RemoteObject { try await inner.get(key: key, into: descriptor) }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func removeIncompleteUploads(startedBefore cutoff: Date) async throws -> Int { try await inner.removeIncompleteUploads(startedBefore: cutoff) }
}

extension ResyncTests {
    static func resync(_ setup: Setup, remote: any RemoteStore) async throws -> ResyncReport {
        try await Resync(
            configuration: setup.configuration, journal: setup.journal, remote: remote,
            logger: Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() }),
            progress: TransferProgress(verb: "mirroring", enabled: false)
        ).run(dryRun: false)
    }

    @Test func failedUploadsAreNamedInTheReportAndKeptInTheJournal() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            try setup.write("a.mp4", Data("a".utf8))
            try setup.write("sub/b.wav", Data("b".utf8))
            let remote = HookedRemote(inner: DirectoryRemote(root: directory.url("remote")), behaviour: .failWith503)

            let report = try await Self.resync(setup, remote: remote)
            #expect(!report.isComplete)
            #expect(report.uploaded == 0)
            #expect(report.failures.map(\.path).sorted() == [directory.url("watched/a.mp4"), directory.url("watched/sub/b.wav")])
            #expect(report.failures.allSatisfy { $0.reason.contains("SlowDown") })
            let record = try #require(try await setup.journal.record(watch: "output", path: "a.mp4"))
            #expect(record.state == .failed)
            #expect(record.attempts == 1)
            #expect(record.lastError?.contains("SlowDown") == true)
            let summary = try await setup.journal.summary()
            #expect(summary.failed == 2)
            #expect(summary.mirrored == 0)

            // Once the remote recovers, the next resync finishes the job.
            let retried = try await setup.resync()
            #expect(retried.isComplete)
            #expect(retried.uploaded == 2)
            #expect(try await setup.journal.summary().failed == 0)
        }
    }

    @Test func fileChangedDuringUploadIsSentAgainInItsFinalState() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            try setup.write("growing.mp4", Data("first part".utf8))
            let counter = HookedRemote.PutCounter()
            let remote = HookedRemote(inner: DirectoryRemote(root: directory.url("remote")), behaviour: .appendDuringFirstPuts(count: 1, counter: counter))

            let report = try await Self.resync(setup, remote: remote)
            #expect(report.isComplete, "\(report.failures.map(\.reason))")
            #expect(report.uploaded == 1)
            #expect(counter.count == 2)
            #expect(try directory.read("remote/output/growing.mp4") == Data("first part and more".utf8))
            let record = try #require(try await setup.journal.record(watch: "output", path: "growing.mp4"))
            #expect(record.state == .mirrored)
            #expect(record.sha256 == FileHasherTests.hex(Data("first part and more".utf8)))
        }
    }

    @Test func fileThatNeverSettlesIsReportedAndLeftPending() async throws {
        try await withTemporaryDirectory { directory in
            let setup = try Setup(directory)
            try setup.write("busy.mp4", Data("busy".utf8))
            let remote = HookedRemote(inner: DirectoryRemote(root: directory.url("remote")), behaviour: .appendDuringFirstPuts(count: 100, counter: HookedRemote.PutCounter()))

            let report = try await Self.resync(setup, remote: remote)
            #expect(!report.isComplete)
            #expect(report.failures.map(\.path) == [directory.url("watched/busy.mp4")])
            #expect(try await setup.journal.record(watch: "output", path: "busy.mp4")?.state == .pending)
            #expect(try await setup.journal.summary().mirrored == 0)
        }
    }
}

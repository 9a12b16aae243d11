import Foundation
import Logging
import Testing

@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// Guarantee 7: an inotify queue overflow means events were lost, and must trigger a rescan.
@Suite struct DaemonOverflowTests {
    @Test func overflowEventIsPassedOnAsARescanRequest() {
        var table = WatchTable()
        let root = WatchRoot(name: "output", path: "/nowhere")
        table.add(descriptor: 1, root: root, relative: "")
        #expect(table.interpret(RawInotifyEvent(descriptor: -1, mask: UInt32(IN_Q_OVERFLOW), name: nil)) == [.overflow])
    }

    @Test func rootDeletionIsReportedOnceAndForgotten() {
        var table = WatchTable()
        let root = WatchRoot(name: "output", path: "/nowhere")
        table.add(descriptor: 1, root: root, relative: "")
        table.add(descriptor: 2, root: root, relative: "a")
        #expect(table.interpret(RawInotifyEvent(descriptor: 1, mask: UInt32(IN_IGNORED), name: nil)) == [.rootLost(root)])
        #expect(table.interpret(RawInotifyEvent(descriptor: 1, mask: UInt32(IN_IGNORED), name: nil)) == [])
    }

    @Test func closeWriteAndRenameAreCandidatesButCreationAloneIsNot() {
        var table = WatchTable()
        let root = WatchRoot(name: "output", path: "/nowhere")
        table.add(descriptor: 3, root: root, relative: "sub")
        #expect(table.interpret(RawInotifyEvent(descriptor: 3, mask: UInt32(IN_CLOSE_WRITE), name: "a.mp4")) == [.fileWritten(root, "sub/a.mp4")])
        #expect(table.interpret(RawInotifyEvent(descriptor: 3, mask: UInt32(IN_MOVED_TO), name: "b.mp4")) == [.fileWritten(root, "sub/b.mp4")])
        #expect(table.interpret(RawInotifyEvent(descriptor: 3, mask: UInt32(IN_CREATE), name: "c.mp4")) == [])
        #expect(table.interpret(RawInotifyEvent(descriptor: 3, mask: UInt32(IN_CREATE | IN_ISDIR), name: "d")) == [.directoryAppeared(root, "sub/d")])
    }

    /// A hard link into the tree produces only IN_CREATE, which the watcher deliberately ignores
    /// (the file may not be complete). Such a file is invisible to the event path, so only the
    /// rescan that an overflow triggers can find it: the test feeds that overflow to the running daemon.
    @Test func overflowMakesTheDaemonFindFilesItWasNotToldAbout() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lifeboat-overflow-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for folder in ["watched", "remote", "outside"] {
            try FileManager.default.createDirectory(atPath: "\(scratch)/\(folder)", withIntermediateDirectories: true)
        }
        let configuration = try ConfigurationLoader(environment: [
            "LIFEBOAT_WATCH": "output=\(scratch)/watched",
            "LIFEBOAT_REMOTE": "file://\(scratch)/remote",
            "LIFEBOAT_JOURNAL": "\(scratch)/journal.db",
            "LIFEBOAT_SETTLE": "10ms",
        ]).load()
        let journal = try Journal(path: configuration.journalPath, access: .owner)
        let remote = DirectoryRemote(root: "\(scratch)/remote")
        let daemon = try MirrorDaemon(configuration: configuration, journal: journal, remote: remote, logger: Logger(label: "test"))
        let running = Task { try await daemon.run() }
        defer { running.cancel() }
        try await waitUntil { daemon.isReady }

        try Data("made elsewhere".utf8).write(to: URL(fileURLWithPath: "\(scratch)/outside/linked.bin"))
        #expect(link("\(scratch)/outside/linked.bin", "\(scratch)/watched/linked.bin") == 0)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await remote.head(key: "output/linked.bin") == nil, "without an overflow the link stays unseen")

        daemon.watcher.dispatch(RawInotifyEvent(descriptor: -1, mask: UInt32(IN_Q_OVERFLOW), name: nil))
        try await waitUntil { (try? await remote.head(key: "output/linked.bin")) != nil }
        let mirrored = try #require(try await remote.head(key: "output/linked.bin"))
        #expect(mirrored.size == 14)
    }

    private func waitUntil(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

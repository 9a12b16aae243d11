import Foundation
import Testing
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// `lifeboat restore`: the round trip, what is and is not overwritten, and guarantee 5 (nothing
/// written outside the target, whatever the keys say and whatever symlinks the target holds).
struct RestoreTests {
    static let tree: [(path: String, data: Data, mode: mode_t, mtime: Int64)] = [
        ("clip.mp4", patternedData(count: 150_000, seed: 11), 0o644, 1_700_000_000_111_111_111),
        ("voice/take one.wav", patternedData(count: 4_096, seed: 12), 0o600, 1_700_000_001_000_000_000),
        ("deep/er/still/frame 日本.png", patternedData(count: 17, seed: 13), 0o755, 1_600_000_000_999_999_999),
        ("empty.txt", Data(), 0o640, 1_500_000_000_000_000_001),
    ]

    // MARK: Round trip

    @Test func restoreRoundTripThroughDirectoryRemoteGivesBackTheTreeAndResyncUploadsNothing() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = DirectoryRemote(root: directory.url("remote"))
            for file in Self.tree {
                let path = try directory.write("watched/" + file.path, file.data)
                #expect(chmod(path, file.mode) == 0)
                try setModificationTime(path, nanoseconds: file.mtime)
            }
            do {
                let journal = try Journal(path: configuration.journalPath, access: .owner)
                let report = try await Resync(configuration: configuration, journal: journal, remote: remote, logger: quietLogger,
                                              progress: TransferProgress(verb: "mirroring", enabled: false)).run(dryRun: false)
                #expect(report.uploaded == Self.tree.count)
            }

            // The disaster: the watched folder and the journal are gone.
            try FileManager.default.removeItem(atPath: directory.url("watched"))
            try FileManager.default.removeItem(atPath: directory.url("state"))

            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let report = try await makeRestorer(configuration, journal: journal, remote: remote).run()
            #expect(report.objects == Self.tree.count)
            #expect(report.restored.count == Self.tree.count)
            #expect(report.isComplete)
            for file in Self.tree {
                let path = directory.url("watched/" + file.path)
                #expect(try directory.read("watched/" + file.path) == file.data, "\(file.path)")
                let info = try lstatInfo(path)
                #expect(info.permissionBits == UInt32(file.mode), "\(file.path)")
                #expect(info.mtimeNanoseconds == file.mtime, "\(file.path)")
            }
            #expect(!directory.allEntries().contains { $0.contains("lifeboat-restore") })

            let rows = try await journal.records(watch: "output")
            #expect(rows.count == Self.tree.count)
            #expect(rows.values.allSatisfy { $0.state == .mirrored && $0.sha256 != nil && $0.remoteKey == "output/\($0.path)" })

            let again = try await Resync(configuration: configuration, journal: journal, remote: remote, logger: quietLogger,
                                         progress: TransferProgress(verb: "mirroring", enabled: false)).run(dryRun: false)
            #expect(again.uploaded == 0)
            #expect(again.unchanged == Self.tree.count)

            let second = try await makeRestorer(configuration, journal: journal, remote: remote).run()
            #expect(second.alreadyPresent.count == Self.tree.count)
            #expect(second.restored.isEmpty)
        }
    }

    @Test func restoreIntoAnotherDirectoryLeavesTheWatchAndTheJournalAlone() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched")), ("voice", directory.url("vc"))])
            let remote = PlantedRemote()
            remote.plant("output/a.txt", Data("a\n".utf8))
            remote.plant("voice/b.wav", Data("b\n".utf8))
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let report = try await makeRestorer(configuration, journal: journal, remote: remote)
                .run(Restorer.Options(destination: directory.url("elsewhere"), only: "voice"))
            #expect(report.restored.map(\.key) == ["voice/b.wav"])
            #expect(try directory.read("elsewhere/voice/b.wav") == Data("b\n".utf8))
            #expect(!directory.exists("elsewhere/output"))
            #expect(!directory.exists("watched"))
            #expect(!directory.exists("vc"))
            #expect(try await journal.records(watch: "voice").isEmpty)
        }
    }

    @Test func restoreWithAnUnknownOnlyNameIsAConfigurationError() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            await #expect(throws: ConfigurationError.self) {
                try await makeRestorer(configuration, journal: nil, remote: PlantedRemote()).run(Restorer.Options(only: "nope"))
            }
        }
    }

    @Test func dryRunWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/a/b.txt", Data("b".utf8))
            remote.plant("output/c.txt", Data("c".utf8))
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let report = try await makeRestorer(configuration, journal: journal, remote: remote).run(Restorer.Options(dryRun: true))
            #expect(report.wouldRestore.map(\.key) == ["output/a/b.txt", "output/c.txt"])
            #expect(report.restored.isEmpty)
            #expect(!directory.exists("watched"))
            #expect(remote.gets == 0)
            #expect(try await journal.records(watch: "output").isEmpty)
        }
    }

    // MARK: What is kept

    @Test func restoreKeepsADifferingLocalFileUnlessForced() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/same.txt", Data("same".utf8))
            remote.plant("output/longer.txt", Data("remote version".utf8))
            remote.plant("output/equal-size.txt", Data("AAAA".utf8))
            try directory.write("watched/same.txt", "same")
            try directory.write("watched/longer.txt", "local")
            try directory.write("watched/equal-size.txt", "BBBB")

            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.alreadyPresent.map(\.key) == ["output/same.txt"])
            #expect(Set(report.kept.map(\.key)) == ["output/longer.txt", "output/equal-size.txt"])
            #expect(!report.isComplete)
            #expect(try directory.read("watched/longer.txt") == Data("local".utf8))
            #expect(try directory.read("watched/equal-size.txt") == Data("BBBB".utf8))

            let forced = try await makeRestorer(configuration, journal: nil, remote: remote).run(Restorer.Options(force: true))
            #expect(Set(forced.restored.map(\.key)) == ["output/longer.txt", "output/equal-size.txt"])
            #expect(forced.isComplete)
            #expect(try directory.read("watched/longer.txt") == Data("remote version".utf8))
            #expect(try directory.read("watched/equal-size.txt") == Data("AAAA".utf8))
        }
    }

    @Test func aLocalFileMatchingAnObjectWithoutChecksumIsComparedByDownloading() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/same.txt", Data("same".utf8), sha256: .some(nil))
            remote.plant("output/other.txt", Data("remote".utf8), sha256: .some(nil))
            try directory.write("watched/same.txt", "same")
            try directory.write("watched/other.txt", "locall")
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.alreadyPresent.map(\.key) == ["output/same.txt"])
            #expect(report.kept.map(\.key) == ["output/other.txt"])
            #expect(try directory.read("watched/other.txt") == Data("locall".utf8))
            #expect(!directory.allEntries().contains { $0.contains("lifeboat-restore") })
        }
    }

    // MARK: Checksums

    @Test func objectsWithoutChecksumAreRestoredAndReportedUnverified() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/foreign.jpg", Data("from another tool".utf8), sha256: .some(nil), mtime: nil, mode: nil)
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.unverified.map(\.key) == ["output/foreign.jpg"])
            #expect(report.restored.isEmpty)
            #expect(!report.isComplete)
            #expect(try directory.read("watched/foreign.jpg") == Data("from another tool".utf8))
            #expect(try lstatInfo(directory.url("watched/foreign.jpg")).permissionBits == 0o644)
        }
    }

    @Test func aDownloadThatDoesNotMatchItsChecksumIsNotPutInPlace() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/corrupt.bin", Data("corrupted".utf8), sha256: PlantedRemote.hex(Data("original!".utf8)))
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.failed.map(\.key) == ["output/corrupt.bin"])
            #expect(report.failed.first?.reason.contains("SHA-256") == true)
            #expect(directory.allEntries() == ["remote", "watched"])
        }
    }

    @Test func aDownloadInterruptedPartWayIsStartedAgainFromAnEmptyFile() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            let data = patternedData(count: 10_000, seed: 5)
            remote.plant("output/flaky.bin", data)
            remote.failNextGets(of: "output/flaky.bin", times: 2)
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.restored.map(\.key) == ["output/flaky.bin"])
            #expect(remote.gets == 3)
            #expect(try directory.read("watched/flaky.bin") == data)
        }
    }

    @Test func setIDBitsFromTheRemoteAreNotRestored() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/tool", Data("#!/bin/sh\n".utf8), mode: 0o6755)
            _ = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(try lstatInfo(directory.url("watched/tool")).permissionBits == 0o755)
        }
    }

    @Test func folderMarkersAreSkipped() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/", Data())
            remote.plant("output/folder/", Data())
            remote.plant("output/folder/a.txt", Data("a".utf8))
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.objects == 1)
            #expect(report.isComplete)
        }
    }

    // MARK: Guarantee 5

    /// A key as a test argument, shown escaped: raw control characters would garble the test log.
    struct HostileKey: Sendable, CustomTestStringConvertible {
        let key: String
        var testDescription: String { key.debugDescription }
    }

    @Test(arguments: [
        "output/../../escape.txt",
        "output/a/../../../evil.txt",
        "output//abs.txt",
        "output/./dot.txt",
        "output/ctl\u{01}name.txt",
        "output/nul\u{00}name.txt",
        "output/back\\..\\..\\slash.txt",
        "output/del\u{7F}.txt",
        "output/..",
    ].map(HostileKey.init))
    func restoreRefusesKeysThatEscapeTheTarget(_ hostile: HostileKey) async throws {
        let key = hostile.key
        try await withTemporaryDirectory { directory in
            let target = directory.url("a/b/watched")
            let configuration = try restoreConfiguration(directory, watches: [("output", target)])
            let remote = PlantedRemote()
            remote.plant(key, Data("EVIL".utf8))
            remote.plant("output/good.txt", Data("good".utf8))
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run()
            #expect(report.refused.map(\.key) == [key])
            #expect(report.restored.map(\.key) == ["output/good.txt"])
            #expect(!report.isComplete)
            #expect(directory.allEntries() == ["a", "a/b", "a/b/watched", "a/b/watched/good.txt", "remote"])
        }
    }

    @Test func restoreDoesNotFollowSymlinksInTheTarget() async throws {
        try await withTemporaryDirectory { directory in
            let target = try directory.makeDirectory("watched")
            try directory.makeDirectory("outside")
            try directory.write("outside/victim.txt", "untouched")
            #expect(symlink(directory.url("outside"), target + "/link") == 0)
            #expect(symlink(directory.url("outside/victim.txt"), target + "/victim.txt") == 0)
            try directory.write("watched/file", "a file where a folder should be")
            let configuration = try restoreConfiguration(directory, watches: [("output", target)])
            let remote = PlantedRemote()
            for key in ["output/link/evil.txt", "output/link/deeper/evil.txt", "output/victim.txt", "output/link", "output/file/below.txt"] {
                remote.plant(key, Data("EVIL".utf8))
            }
            let report = try await makeRestorer(configuration, journal: nil, remote: remote).run(Restorer.Options(force: true))
            #expect(report.refused.count == 5)
            #expect(report.restored.isEmpty)
            #expect(directory.allEntries() == ["outside", "outside/victim.txt", "remote", "watched", "watched/file", "watched/link", "watched/victim.txt"])
            #expect(try directory.read("outside/victim.txt") == Data("untouched".utf8))
            #expect(try lstatInfo(target + "/link").st_mode & S_IFMT == S_IFLNK)
        }
    }

    // MARK: Restore on start

    @Test func watchesAreEmptyOnlyWhenEveryWatchIsMissingOrEmpty() throws {
        try withTemporaryDirectorySync { directory in
            let empty = WatchRoot(name: "a", path: try directory.makeDirectory("empty"))
            let missing = WatchRoot(name: "b", path: directory.url("missing"))
            let full = WatchRoot(name: "c", path: try directory.makeDirectory("full"))
            try directory.write("full/.hidden", "x")
            #expect(Restorer.watchesAreEmpty([empty, missing]))
            #expect(!Restorer.watchesAreEmpty([empty, full]))
        }
    }
}

/// The synchronous twin of `withTemporaryDirectory`.
private func withTemporaryDirectorySync<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let directory = try TemporaryDirectory("lifeboat-restore-tests")
    defer { directory.remove() }
    return try body(directory)
}

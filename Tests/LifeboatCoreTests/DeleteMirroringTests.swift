import Foundation
import Logging
import Testing

@testable import LifeboatCore

/// `LIFEBOAT_DELETE=mirror` and its guard (guarantee 4): a local deletion removes the remote copy
/// after the delay, but an emptied root or a mass disappearance never deletes anything.
@Suite struct DeleteMirroringTests {
    struct Setup {
        let directory: TemporaryDirectory
        let configuration: AgentConfiguration
        let journal: Journal
        let remote: DirectoryRemote

        init(_ directory: TemporaryDirectory, mode: String = "mirror", delay: String = "0") throws {
            self.directory = directory
            try directory.makeDirectory("watched")
            try directory.makeDirectory("remote")
            configuration = try ConfigurationLoader(environment: [
                "LIFEBOAT_WATCH": "output=\(directory.url("watched"))",
                "LIFEBOAT_REMOTE": "file://\(directory.url("remote"))",
                "LIFEBOAT_JOURNAL": directory.url("journal.db"),
                "LIFEBOAT_DELETE": mode,
                "LIFEBOAT_DELETE_DELAY": delay,
            ]).load()
            journal = try Journal(path: configuration.journalPath, access: .owner)
            remote = DirectoryRemote(root: directory.url("remote"))
        }

        @discardableResult
        func resync() async throws -> ResyncReport {
            try await Resync(
                configuration: configuration, journal: journal, remote: remote,
                logger: Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() }),
                progress: TransferProgress(verb: "mirroring", enabled: false)
            ).run(dryRun: false)
        }

        func writeFiles(_ count: Int) throws {
            for index in 0..<count { try directory.write("watched/file-\(index).bin", Data("content \(index)".utf8)) }
        }

        func remove(_ relative: String) throws {
            try FileManager.default.removeItem(atPath: directory.url("watched/\(relative)"))
        }

        func remoteHas(_ relative: String) async throws -> Bool {
            try await remote.head(key: "output/\(relative)") != nil
        }
    }

    @Test func locallyDeletedFileLosesItsRemoteCopyOnceTheDelayHasPassed() async throws {
        let setup = try Setup(TemporaryDirectory())
        try setup.writeFiles(3)
        try await setup.resync()
        try setup.remove("file-1.bin")
        let report = try await setup.resync()
        #expect(report.deleted == 1)
        #expect(try await !setup.remoteHas("file-1.bin"))
        #expect(try await setup.remoteHas("file-0.bin"))
        #expect(try await setup.journal.summary().files == 2)
    }

    @Test func deletionWaitsForTheDelay() async throws {
        let setup = try Setup(TemporaryDirectory(), delay: "1h")
        try setup.writeFiles(3)
        try await setup.resync()
        try setup.remove("file-2.bin")
        let report = try await setup.resync()
        #expect(report.deleted == 0)
        #expect(try await setup.remoteHas("file-2.bin"))
        #expect(try await setup.journal.scheduledDeletions().map(\.path) == ["file-2.bin"])
    }

    @Test func fileThatComesBackBeforeTheDelayIsMirroredAgainNotDeleted() async throws {
        let setup = try Setup(TemporaryDirectory(), delay: "1h")
        try setup.writeFiles(2)
        try await setup.resync()
        let original = setup.directory.url("watched/file-0.bin")
        let aside = setup.directory.url("aside.bin")
        try FileManager.default.moveItem(atPath: original, toPath: aside)
        try await setup.resync()
        try FileManager.default.moveItem(atPath: aside, toPath: original)
        // The rename changed its ctime, so it may be uploaded again; what matters is that it is not deleted.
        let report = try await setup.resync()
        #expect(report.deleted == 0)
        #expect(try await setup.remoteHas("file-0.bin"))
        #expect(try await setup.journal.scheduledDeletions().isEmpty)
        #expect(try await setup.journal.record(watch: "output", path: "file-0.bin")?.state == .mirrored)
    }

    @Test func emptiedWatchRootDeletesNothing() async throws {
        let setup = try Setup(TemporaryDirectory())
        try setup.writeFiles(3)
        try await setup.resync()
        for index in 0..<3 { try setup.remove("file-\(index).bin") }
        let report = try await setup.resync()
        #expect(report.deleted == 0)
        for index in 0..<3 { #expect(try await setup.remoteHas("file-\(index).bin")) }
    }

    @Test func massDisappearanceDeletesNothing() async throws {
        let setup = try Setup(TemporaryDirectory())
        try setup.writeFiles(20)
        try await setup.resync()
        for index in 0..<15 { try setup.remove("file-\(index).bin") }
        let report = try await setup.resync()
        #expect(report.deleted == 0)
        #expect(try await setup.remoteHas("file-0.bin"))
        #expect(try await setup.journal.scheduledDeletions().isEmpty)
    }

    @Test func keepModeNeverDeletes() async throws {
        let setup = try Setup(TemporaryDirectory(), mode: "keep")
        try setup.writeFiles(3)
        try await setup.resync()
        try setup.remove("file-1.bin")
        let report = try await setup.resync()
        #expect(report.deleted == 0)
        #expect(try await setup.remoteHas("file-1.bin"))
    }
}

/// Kubernetes adds service-link variables for a Service named "lifeboat"; they are not typos.
@Suite struct KubernetesServiceLinkTests {
    @Test func serviceLinkVariablesAreNotUnknownKeys() throws {
        for name in ["LIFEBOAT_SERVICE_HOST", "LIFEBOAT_SERVICE_PORT", "LIFEBOAT_SERVICE_PORT_METRICS", "LIFEBOAT_PORT", "LIFEBOAT_PORT_9464_TCP", "LIFEBOAT_PORT_9464_TCP_ADDR"] {
            #expect(ConfigurationLoader.isKubernetesServiceLink(name), "\(name)")
        }
        #expect(!ConfigurationLoader.isKubernetesServiceLink("LIFEBOAT_WACH"))
        #expect(!ConfigurationLoader.isKubernetesServiceLink("LIFEBOAT_SETTLE"))
    }
}

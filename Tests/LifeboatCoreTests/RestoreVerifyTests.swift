import Foundation
import Testing
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// `lifeboat verify`: the journal against the remote, and on a fresh machine the objects against
/// their own checksums.
struct RestoreVerifyTests {
    /// Mirrors three files to `remote` through the real uploader, so the journal holds real rows.
    private func mirrored(_ directory: TemporaryDirectory, remote: PlantedRemote) async throws -> (AgentConfiguration, Journal) {
        let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
        try directory.write("watched/a.txt", "a\n")
        try directory.write("watched/b/b.bin", patternedData(count: 3_000, seed: 7))
        try directory.write("watched/c.txt", "c\n")
        let journal = try Journal(path: configuration.journalPath, access: .owner)
        let report = try await Resync(configuration: configuration, journal: journal, remote: remote, logger: quietLogger,
                                      progress: TransferProgress(verb: "mirroring", enabled: false)).run(dryRun: false)
        #expect(report.uploaded == 3)
        return (configuration, journal)
    }

    @Test func verifyPassesOnACleanMirrorAndListsUntrackedObjects() async throws {
        try await withTemporaryDirectory { directory in
            let remote = PlantedRemote()
            let (configuration, journal) = try await mirrored(directory, remote: remote)
            remote.plant("output/extra.txt", Data("extra".utf8))
            remote.plant("outputs/elsewhere.txt", Data("not under the watch".utf8))
            for deep in [false, true] {
                let report = try await makeVerifier(configuration, journal: journal, remote: remote).run(deep: deep)
                #expect(report.checked == 3)
                #expect(report.ok == 3)
                #expect(report.isClean)
                #expect(report.untracked == ["output/extra.txt"])
            }
        }
    }

    @Test func verifyCatchesMissingAndReplacedObjects() async throws {
        try await withTemporaryDirectory { directory in
            let remote = PlantedRemote()
            let (configuration, journal) = try await mirrored(directory, remote: remote)
            remote.remove("output/b/b.bin")
            remote.plant("output/a.txt", Data("replaced\n".utf8))
            let report = try await makeVerifier(configuration, journal: journal, remote: remote).run(deep: false)
            #expect(report.checked == 3)
            #expect(report.ok == 1)
            #expect(report.missing == ["output/b/b.bin"])
            #expect(report.mismatched.map(\.key) == ["output/a.txt"])
            #expect(!report.isClean)

            let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["checked", "ok", "missing", "mismatched", "untracked"])
        }
    }

    @Test func deepVerifyCatchesContentThatChangedUnderTheSameETag() async throws {
        try await withTemporaryDirectory { directory in
            let remote = PlantedRemote()
            let (configuration, journal) = try await mirrored(directory, remote: remote)
            // Same size, and the journal's ETag forged into the row: only the content tells.
            remote.plant("output/c.txt", Data("X\n".utf8), sha256: .some(nil))
            var row = try #require(try await journal.record(watch: "output", path: "c.txt"))
            row.etag = try #require(try await remote.head(key: "output/c.txt")).etag
            try await journal.save(row)
            let shallow = try await makeVerifier(configuration, journal: journal, remote: remote).run(deep: false)
            #expect(shallow.isClean)
            let deep = try await makeVerifier(configuration, journal: journal, remote: remote).run(deep: true)
            #expect(deep.mismatched.map(\.key) == ["output/c.txt"])
        }
    }

    @Test func withoutAJournalObjectsAreCheckedAgainstTheirOwnChecksums() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try restoreConfiguration(directory, watches: [("output", directory.url("watched"))])
            let remote = PlantedRemote()
            remote.plant("output/good.txt", Data("good".utf8))
            remote.plant("output/foreign.txt", Data("no checksum".utf8), sha256: .some(nil))
            remote.plant("output/tampered.txt", Data("tampered".utf8), sha256: PlantedRemote.hex(Data("original".utf8)))
            let shallow = try await makeVerifier(configuration, journal: nil, remote: remote).run(deep: false)
            #expect(shallow.checked == 3)
            #expect(shallow.mismatched.map(\.key) == ["output/foreign.txt"])
            #expect(remote.gets == 0)
            let deep = try await makeVerifier(configuration, journal: nil, remote: remote).run(deep: true)
            #expect(deep.mismatched.map(\.key) == ["output/foreign.txt", "output/tampered.txt"])
            #expect(deep.ok == 1)
        }
    }
}

import Foundation
import Testing
@testable import LifeboatCore

/// The SQLite journal: one owner at a time, readers beside it, rows that round-trip, and the
/// totals `status` reports.
struct JournalTests {
    static func record(
        _ path: String, watch: String = "output", state: FileState = .pending, size: Int64 = 100,
        discoveredAt: Double = 1_000, updatedAt: Double = 1_000, lastError: String? = nil
    ) -> FileRecord {
        FileRecord(
            id: nil, watch: watch, path: path, size: size, mtimeNanoseconds: 1_700_000_000_123_456_789,
            ctimeNanoseconds: 1_700_000_001_000_000_001, inode: 42, sha256: state == .mirrored ? String(repeating: "ab", count: 32) : nil,
            state: state, remoteKey: state == .mirrored ? "\(watch)/\(path)" : nil, etag: state == .mirrored ? "etag" : nil,
            attempts: state == .failed ? 2 : 0, lastError: lastError, nextAttemptAt: state == .failed ? 2_000 : nil,
            discoveredAt: discoveredAt, updatedAt: updatedAt, mirroredAt: state == .mirrored ? updatedAt : nil)
    }

    /// The start-up scan and an inotify event can both insert the same new file; the second
    /// insert must update the row instead of failing (and losing) the scan's whole batch.
    @Test func insertingAPathTwiceUpdatesTheRowInsteadOfFailing() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            let first = try await journal.save([Self.record("a.mp4", size: 1)])
            let second = try await journal.save([Self.record("b.mp4"), Self.record("a.mp4", size: 2)])
            let rows = try await journal.records(watch: "output")
            #expect(rows.count == 2)
            #expect(rows["a.mp4"]?.size == 2)
            #expect(second.last?.id == first.first?.id)
        }
    }

    @Test func ownerCreatesTheJournalAndItsFolder() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.url("var/lib/lifeboat/journal.db")
            let journal = try Journal(path: path, access: .owner)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try await journal.records(watch: "output").isEmpty)
        }
    }

    @Test func secondOwnerIsToldTheJournalIsInUse() throws {
        try withTemporaryDirectory { directory in
            let path = directory.url("journal.db")
            let owner = try Journal(path: path, access: .owner)
            let error = #expect(throws: JournalError.self) {
                _ = try Journal(path: path, access: .owner)
            }
            #expect(error?.description.contains("in use") == true)
            #expect(error?.description.contains(path) == true)
            withExtendedLifetime(owner) {}
        }
    }

    @Test func ownershipIsReleasedWhenTheOwnerGoesAway() throws {
        try withTemporaryDirectory { directory in
            let path = directory.url("journal.db")
            do {
                let first = try Journal(path: path, access: .owner)
                withExtendedLifetime(first) {}
            }
            let second = try Journal(path: path, access: .owner)
            withExtendedLifetime(second) {}
        }
    }

    @Test func readerOpensBesideAnOwnerAndSeesItsWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.url("journal.db")
            let owner = try Journal(path: path, access: .owner)
            try await owner.save(Self.record("a.mp4"))
            let reader = try Journal(path: path, access: .reader)
            #expect(try await reader.record(watch: "output", path: "a.mp4")?.state == .pending)
            try await owner.save(Self.record("b.mp4"))
            #expect(try await reader.records(watch: "output").keys.sorted() == ["a.mp4", "b.mp4"])
        }
    }

    @Test func savedRecordsRoundTripWithTheirIDs() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            let original = [Self.record("a/b c.mp4", state: .mirrored), Self.record("ü.wav", watch: "voice_clone", state: .failed, lastError: "HTTP 503")]
            let saved = try await journal.save(original)
            #expect(saved.allSatisfy { $0.id != nil })
            #expect(Set(saved.compactMap(\.id)).count == 2)

            let output = try await journal.records(watch: "output")
            #expect(output.count == 1)
            #expect(output["a/b c.mp4"] == saved[0])
            #expect(try await journal.record(watch: "voice_clone", path: "ü.wav") == saved[1])
            #expect(try await journal.record(watch: "output", path: "ü.wav") == nil)

            // Saving a row with its id updates it in place.
            var updated = saved[1]
            updated.state = .mirrored
            updated.lastError = nil
            try await journal.save(updated)
            #expect(try await journal.record(watch: "voice_clone", path: "ü.wav") == updated)
            #expect(try await journal.records(watch: "voice_clone").count == 1)
        }
    }

    @Test func unfinishedListsPendingAndFailedRowsInInsertionOrder() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            try await journal.save([
                Self.record("1", state: .failed), Self.record("2", state: .mirrored), Self.record("3", state: .pending),
                Self.record("4", state: .gone), Self.record("5", state: .pending),
            ])
            #expect(try await journal.unfinished().map(\.path) == ["1", "3", "5"])
        }
    }

    @Test func summaryCountsFilesBytesAndTheOldestPendingAge() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            try await journal.save([
                Self.record("m1", state: .mirrored, size: 1_000, discoveredAt: 10, updatedAt: 50),
                Self.record("m2", state: .mirrored, size: 2_000, discoveredAt: 5, updatedAt: 60),
                Self.record("p1", state: .pending, size: 30, discoveredAt: 900, updatedAt: 900),
                Self.record("p2", state: .pending, size: 40, discoveredAt: 400, updatedAt: 950, lastError: "changed while it was being read"),
                Self.record("f1", state: .failed, size: 50, discoveredAt: 700, updatedAt: 990, lastError: "PutObject output/f1: HTTP 503 SlowDown"),
                Self.record("g1", state: .gone, size: 60, discoveredAt: 1, updatedAt: 999, lastError: "old news"),
            ])
            let summary = try await journal.summary(now: Date(timeIntervalSince1970: 1_000))
            #expect(summary.files == 5)
            #expect(summary.mirrored == 2)
            #expect(summary.pending == 2)
            #expect(summary.failed == 1)
            #expect(summary.bytesMirrored == 3_000)
            #expect(summary.bytesPending == 120)
            #expect(summary.oldestPendingAgeSeconds == 600)
            #expect(summary.lastError == "PutObject output/f1: HTTP 503 SlowDown")
            #expect(summary.lastErrorPath == "output/f1")
        }
    }

    @Test func emptyJournalSummaryHasNoPendingAge() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            let summary = try await journal.summary()
            #expect(summary == JournalSummary())
            #expect(summary.oldestPendingAgeSeconds == nil)
        }
    }

    @Test func summaryEncodesTheStatusJSONFieldNames() throws {
        var summary = JournalSummary()
        summary.files = 3
        summary.bytesMirrored = 10
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any]
        for field in ["files", "mirrored", "pending", "failed", "bytes_mirrored"] {
            #expect(object?[field] is Int, "\(field)")
        }
    }

    @Test func reopeningMigratesNothingTwiceAndKeepsTheRows() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.url("journal.db")
            do {
                let journal = try Journal(path: path, access: .owner)
                try await journal.save(Self.record("kept.mp4", state: .mirrored))
            }
            for _ in 0..<2 {
                let journal = try Journal(path: path, access: .owner)
                #expect(try await journal.records(watch: "output").keys.sorted() == ["kept.mp4"])
            }
            let reader = try Journal(path: path, access: .reader)
            #expect(try await reader.summary().mirrored == 1)
        }
    }

    @Test func uniqueWatchAndPathMeansOneRowPerFile() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal(path: directory.url("journal.db"), access: .owner)
            try await journal.save(Self.record("same.mp4"))
            try await journal.save(Self.record("same.mp4"))
            #expect(try await journal.records(watch: "output").count == 1)
        }
    }
}

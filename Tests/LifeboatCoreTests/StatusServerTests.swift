import Foundation
import Logging
import S3
import Synchronization
import Testing

@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP endpoint on LIFEBOAT_LISTEN, served for real on a loopback port and asked with curl.
@Suite struct StatusServerTests {
    /// An agent whose snapshot the test sets.
    final class StandInAgent: AgentStatusSource {
        let current: Mutex<AgentSnapshot>
        init(_ snapshot: AgentSnapshot) { current = Mutex(snapshot) }
        func snapshot() async -> AgentSnapshot { current.withLock { $0 } }
        func set(_ change: (inout AgentSnapshot) -> Void) { current.withLock { change(&$0) } }
    }

    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    /// An S3 configuration with a real-looking secret, a prefix and two watches under `directory`.
    static func configuration(_ directory: TemporaryDirectory) throws -> AgentConfiguration {
        try ConfigurationLoader(environment: [
            "LIFEBOAT_WATCH": "output=\(directory.url("out")),voice_clone=\(directory.url("vc"))",
            "LIFEBOAT_REMOTE": "s3://media-bucket/backups",
            "LIFEBOAT_S3_ENDPOINT": "http://127.0.0.1:9000",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": secret,
            "LIFEBOAT_JOURNAL": directory.url("journal.db"),
        ]).load(watches: .mayBeMissing, remoteMustExist: false)
    }

    @Test func healthzAndReadyzFollowTheAgent() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try Self.configuration(directory)
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let agent = StandInAgent(AgentSnapshot(isAlive: true, readiness: .notReady("start-up reconcile in progress")))
            try await withStatusServer(journal: journal, agent: agent, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                #expect(try await fetch(port: port, "/healthz").status == 200)
                let starting = try await fetch(port: port, "/readyz")
                #expect(starting.status == 503)
                #expect(starting.body.contains("start-up reconcile in progress"))

                agent.set { $0.readiness = .ready }
                #expect(try await fetch(port: port, "/readyz").status == 200)

                agent.set {
                    $0.isAlive = false
                    $0.readiness = .notReady("not running")
                }
                #expect(try await fetch(port: port, "/healthz").status == 503)
                #expect(try await fetch(port: port, "/readyz").status == 503)
            }
        }
    }

    @Test func metricsNameEveryMetricAndCarryNoSecret() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try Self.configuration(directory)
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            try await journal.save([
                JournalTests.record("done.mp4", state: .mirrored, size: 2048),
                JournalTests.record("waiting.mp4", state: .pending, discoveredAt: Date().timeIntervalSince1970 - 90),
                JournalTests.record("broken.mp4", state: .failed),
            ])
            let metrics = AgentMetrics()
            metrics.mirrored(bytes: 2048, duration: .milliseconds(300))
            // A provider that echoes a request back must not smuggle anything into a label.
            metrics.uploadFailed(S3Error(operation: "PutObject", key: "output/a.mp4", kind: .http(status: 503, code: "SlowDown", message: "echo \(Self.secret)", requestID: nil)))
            // A code is the provider's word, but it ends up in a label: only a safe alphabet survives.
            metrics.uploadFailed(S3Error(operation: "PutObject", key: "output/a.mp4", kind: .http(status: 400, code: "Bad\"}\nInjected 1", message: "", requestID: nil)))
            metrics.rescanned(reason: .overflow)
            metrics.inotifyOverflowed()
            let agent = StandInAgent(AgentSnapshot(isAlive: true, readiness: .ready, queueDepth: 7, uploadsInFlight: 2, watches: 12))
            try await withStatusServer(journal: journal, agent: agent, metrics: metrics, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                let scrape = try await fetch(port: port, "/metrics")
                #expect(scrape.status == 200)
                #expect(scrape.contentType?.hasPrefix("text/plain") == true)
                let text = scrape.body
                for name in [
                    "lifeboat_files_mirrored_total 1", "lifeboat_bytes_mirrored_total 2048",
                    "lifeboat_upload_errors_total{code=\"SlowDown\"} 1", "lifeboat_queue_depth 7", "lifeboat_uploads_in_flight 2",
                    "lifeboat_watches 12", "lifeboat_rescans_total{reason=\"overflow\"} 1", "lifeboat_rescans_total{reason=\"startup\"} 0",
                    "lifeboat_inotify_overflows_total 1", "lifeboat_upload_duration_seconds_bucket{le=\"0.5\"} 1",
                    "lifeboat_upload_duration_seconds_count 1", "lifeboat_files_pending 1", "lifeboat_files_failed 1",
                    "lifeboat_oldest_pending_age_seconds", "# HELP lifeboat_oldest_pending_age_seconds",
                    "lifeboat_upload_errors_total{code=\"BadInjected1\"} 1",
                ] {
                    #expect(text.contains(name), "\(name) missing from:\n\(text)")
                }
                let age = text.split(separator: "\n").first { $0.hasPrefix("lifeboat_oldest_pending_age_seconds ") }
                    .flatMap { Double($0.split(separator: " ")[1]) }
                #expect((age ?? 0) >= 89, "the oldest pending file was discovered 90 s ago")
                for fragment in [Self.secret, "wJalrXUtnFEMI", "AKIAIOSFODNN7EXAMPLE", "echo", "\nInjected"] {
                    #expect(!text.contains(fragment), "metrics leak \(fragment)")
                }
            }
        }
    }

    @Test func statusIsTheSameObjectAsStatusJSON() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try Self.configuration(directory)
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            try await journal.save([
                JournalTests.record("a.mp4", state: .mirrored, size: 10),
                JournalTests.record("b/c.wav", watch: "voice_clone", state: .mirrored, size: 32),
            ])
            let agent = StandInAgent(AgentSnapshot(isAlive: true, readiness: .ready))
            try await withStatusServer(journal: journal, agent: agent, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                let answer = try await fetch(port: port, "/v1/status")
                #expect(answer.status == 200)
                #expect(answer.contentType == "application/json")
                let expected = String(decoding: try await journal.summary().jsonData(), as: UTF8.self) + "\n"
                #expect(answer.body == expected)
                #expect(answer.body.contains("\"bytes_mirrored\":42"))
            }
        }
    }

    @Test func filesAnswersForTrackedUntrackedAndBadPaths() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try Self.configuration(directory)
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            var pending = JournalTests.record("drafts/take two.mp4", state: .pending)
            pending.lastError = "changed while it was being uploaded"
            try await journal.save([
                JournalTests.record("renders/final.mp4", state: .mirrored, size: 4096, updatedAt: 1_764_000_000.5),
                pending,
                JournalTests.record("vanished.mp4", state: .gone),
            ])
            let agent = StandInAgent(AgentSnapshot(isAlive: true, readiness: .ready))
            let out = directory.url("out")
            try await withStatusServer(journal: journal, agent: agent, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                func ask(_ path: String) async throws -> FetchedResponse {
                    try await fetch(port: port, "/v1/files?path=" + SigV4Signer.percentEncode(path, keepSlash: true))
                }
                let mirrored = try await ask("\(out)/renders/final.mp4")
                #expect(mirrored.status == 200)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(mirrored.body.utf8)) as? [String: Any])
                #expect(object["state"] as? String == "mirrored")
                #expect(object["path"] as? String == "\(out)/renders/final.mp4")
                #expect(object["key"] as? String == "backups/output/renders/final.mp4")
                #expect(object["sha256"] as? String == String(repeating: "ab", count: 32))
                #expect(object["size"] as? Int == 4096)
                #expect(object["mirrored_at"] as? String == "2025-11-24T16:00:00.500Z")
                #expect(object["url"] as? String == "http://127.0.0.1:9000/media-bucket/backups/output/renders/final.mp4")

                // Same file, spelled with "." and doubled slashes.
                #expect(try await ask("\(out)/./renders//final.mp4").status == 200)

                let waiting = try await ask("\(out)/drafts/take two.mp4")
                #expect(waiting.status == 200)
                let pendingObject = try #require(try JSONSerialization.jsonObject(with: Data(waiting.body.utf8)) as? [String: Any])
                #expect(pendingObject["state"] as? String == "pending")
                #expect(pendingObject["mirrored_at"] is NSNull)
                #expect(pendingObject["sha256"] is NSNull)
                #expect(pendingObject["key"] as? String == "backups/output/drafts/take two.mp4")
                #expect(pendingObject["last_error"] as? String == "changed while it was being uploaded")

                #expect(try await ask("\(out)/never-seen.mp4").status == 404)
                #expect(try await ask("\(out)/vanished.mp4").status == 404)
                #expect(try await ask("/etc/passwd").status == 404)
                #expect(try await ask("\(out)").status == 404)

                let relative = try await ask("out/renders/final.mp4")
                #expect(relative.status == 400)
                #expect(relative.body.contains("absolute"))
                #expect(try await ask("\(out)/../out/renders/final.mp4").status == 400)
                #expect(try await fetch(port: port, "/v1/files").status == 400)
            }
        }
    }

    @Test func daemonBecomesReadyOnceReconciledAndTheRemoteAnswered() async throws {
        try await withTemporaryDirectory { directory in
            try directory.makeDirectory("watched")
            try directory.makeDirectory("remote")
            try directory.write("watched/before.txt", "written before start")
            let configuration = try ConfigurationLoader(environment: [
                "LIFEBOAT_WATCH": "output=\(directory.url("watched"))",
                "LIFEBOAT_REMOTE": "file://\(directory.url("remote"))",
                "LIFEBOAT_JOURNAL": directory.url("journal.db"),
                "LIFEBOAT_SETTLE": "10ms",
            ]).load()
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let metrics = AgentMetrics()
            let daemon = try MirrorDaemon(
                configuration: configuration, journal: journal, remote: DirectoryRemote(root: directory.url("remote")),
                logger: Logger(label: "test"), metrics: metrics)
            try await withStatusServer(journal: journal, agent: daemon, metrics: metrics, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                let before = try await fetch(port: port, "/readyz")
                #expect(before.status == 503, "not started yet")
                #expect(try await fetch(port: port, "/healthz").status == 503)

                let running = Task { try await daemon.run() }
                defer { running.cancel() }
                try await eventually("ready") { try await fetch(port: port, "/readyz").status == 200 }
                #expect(try await fetch(port: port, "/healthz").status == 200)
                try await eventually("before.txt mirrored") {
                    try await fetch(port: port, "/v1/files?path=\(directory.url("watched"))/before.txt").body.contains("\"mirrored\"")
                }
                let scrape = try await fetch(port: port, "/metrics").body
                #expect(scrape.contains("lifeboat_files_mirrored_total 1"))
                #expect(scrape.contains("lifeboat_rescans_total{reason=\"startup\"} 1"))
                #expect(scrape.contains("lifeboat_watches 1"))
            }
        }
    }

    @Test func portInUseIsAnErrorNamingTheSetting() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = try Self.configuration(directory)
            let journal = try Journal(path: configuration.journalPath, access: .owner)
            let agent = StandInAgent(AgentSnapshot(isAlive: true, readiness: .ready))
            try await withStatusServer(journal: journal, agent: agent, watches: configuration.watches, locator: ObjectLocator(configuration: configuration)) { port in
                let second = StatusServer(
                    address: ListenAddress(host: "127.0.0.1", port: port), watches: configuration.watches,
                    locator: ObjectLocator(configuration: configuration), journal: journal, agent: agent, metrics: AgentMetrics(),
                    logger: Logger(label: "test"))
                let error = await #expect(throws: StatusServerError.self) { try await second.run() }
                #expect(error?.description.contains("LIFEBOAT_LISTEN") == true)
                #expect(error?.description.contains("127.0.0.1:\(port)") == true)
                #expect(error?.description.contains("in use") == true)
            }
        }
    }

    @Test func listenAddressesParseLikeTheSetting() {
        #expect(ListenAddress("127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(ListenAddress("[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(ListenAddress("[::1]:9464")?.description == "[::1]:9464")
        #expect(ListenAddress("0.0.0.0:0")?.port == 0)
        #expect(ListenAddress("9464") == nil)
        #expect(ListenAddress(":9464") == nil)
        #expect(ListenAddress("host:99999") == nil)
    }

    @Test func pathsResolveToTheirWatchRoot() {
        let resolver = WatchedPathResolver(watches: [
            WatchRoot(name: "output", path: "/srv/app/output"),
            WatchRoot(name: "thumbs", path: "/srv/app/output/thumbs"),
            WatchRoot(name: "voice", path: "/srv/app/voice"),
        ])
        #expect(resolver.resolve("/srv/app/output/a/b.mp4") == .watched(WatchRoot(name: "output", path: "/srv/app/output"), relativePath: "a/b.mp4"))
        #expect(resolver.resolve("/srv/app/output/thumbs/t.png") == .watched(WatchRoot(name: "thumbs", path: "/srv/app/output/thumbs"), relativePath: "t.png"))
        #expect(resolver.resolve("/srv/app/voiceover/x.wav") == .outside)
        #expect(resolver.resolve("/srv/app/output") == .outside)
        guard case .invalid = resolver.resolve("srv/app/output/a.mp4") else { Issue.record("relative path accepted"); return }
        guard case .invalid = resolver.resolve("/srv/app/output/../../etc/passwd") else { Issue.record("\"..\" accepted"); return }
        guard case .invalid = resolver.resolve("") else { Issue.record("empty path accepted"); return }
    }
}

import Foundation
import Hummingbird
import Logging
import Testing

@testable import LifeboatCore

/// LIFEBOAT_NOTIFY_URL: each durable file is POSTed to a receiver, retried while it fails,
/// never blocking the caller.
@Suite struct DurableFileNotifierTests {
    static func event(_ name: String) -> DurableFileEvent {
        DurableFileEvent(
            path: "/srv/output/\(name)", key: "backups/output/\(name)", sha256: String(repeating: "0f", count: 32), size: 1234,
            url: "https://media.s3.eu-west-1.amazonaws.com/backups/output/\(name)")
    }

    static func quickRetries(_ url: String, attempts: Int = 5, capacity: Int = 100) -> DurableFileNotifier.Configuration {
        .init(url: url, capacity: capacity, attempts: attempts, firstRetryDelay: .milliseconds(50), maximumRetryDelay: .milliseconds(200))
    }

    /// Runs the notifier's service loop during `body`.
    static func running<T: Sendable>(_ notifier: DurableFileNotifier, _ body: () async throws -> T) async throws -> T {
        let service = Task { try await notifier.run() }
        defer { service.cancel() }
        return try await body()
    }

    @Test func eventIsPostedAsJSONAndRetriedAfterAServerError() async throws {
        let receiver = WebhookReceiver(answering: [.internalServerError, .ok])
        try await receiver.run { url in
            let metrics = AgentMetrics()
            let notifier = DurableFileNotifier(configuration: Self.quickRetries(url), metrics: metrics, logger: Logger(label: "test"))
            try await Self.running(notifier) {
                await notifier.notify(Self.event("video one.mp4"))
                try await eventually("a second delivery") { receiver.deliveries.count >= 2 }
                try await eventually("delivered counted") { metrics.exposition().contains("lifeboat_notifications_total{outcome=\"delivered\"} 1") }
            }
            let deliveries = receiver.deliveries
            #expect(deliveries.count == 2, "delivered once, so not sent again")
            for delivery in deliveries {
                #expect(delivery.contentType == "application/json")
                #expect(try JSONDecoder().decode(DurableFileEvent.self, from: delivery.body) == Self.event("video one.mp4"))
            }
            let object = try #require(try JSONSerialization.jsonObject(with: deliveries[0].body) as? [String: Any])
            #expect(Set(object.keys) == ["path", "key", "sha256", "size", "url"])
        }
    }

    @Test func refusedEventIsNotRetried() async throws {
        let receiver = WebhookReceiver(answering: [.badRequest])
        try await receiver.run { url in
            let metrics = AgentMetrics()
            let notifier = DurableFileNotifier(configuration: Self.quickRetries(url), metrics: metrics, logger: Logger(label: "test"))
            try await Self.running(notifier) {
                await notifier.notify(Self.event("a.mp4"))
                await notifier.notify(Self.event("b.mp4"))
                try await eventually("both tried") { receiver.deliveries.count >= 2 }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(receiver.deliveries.count == 2)
            #expect(metrics.exposition().contains("lifeboat_notifications_total{outcome=\"abandoned\"} 2"))
        }
    }

    @Test func eventIsGivenUpAfterItsAttempts() async throws {
        let receiver = WebhookReceiver(answering: [.serviceUnavailable])
        try await receiver.run { url in
            let notifier = DurableFileNotifier(configuration: Self.quickRetries(url, attempts: 3), logger: Logger(label: "test"))
            try await Self.running(notifier) {
                await notifier.notify(Self.event("a.mp4"))
                try await eventually("three attempts") { receiver.deliveries.count >= 3 }
                try await eventually("queue empty") { await notifier.backlog == 0 }
                try await Task.sleep(for: .milliseconds(400))
            }
            #expect(receiver.deliveries.count == 3)
        }
    }

    @Test func fullQueueDropsTheOldestEvents() async throws {
        let receiver = WebhookReceiver(answering: [.ok])
        try await receiver.run { url in
            let metrics = AgentMetrics()
            let notifier = DurableFileNotifier(configuration: Self.quickRetries(url, capacity: 2), metrics: metrics, logger: Logger(label: "test"))
            // Not yet running: every event waits in the queue.
            for name in ["1.mp4", "2.mp4", "3.mp4", "4.mp4"] { await notifier.notify(Self.event(name)) }
            #expect(await notifier.backlog == 2)
            #expect(metrics.exposition().contains("lifeboat_notifications_total{outcome=\"dropped\"} 2"))
            try await Self.running(notifier) {
                try await eventually("the two newest delivered") { receiver.deliveries.count >= 2 }
            }
            let paths = try receiver.deliveries.map { try JSONDecoder().decode(DurableFileEvent.self, from: $0.body).path }
            #expect(paths == ["/srv/output/3.mp4", "/srv/output/4.mp4"])
        }
    }

    @Test func unreachableReceiverNeverBlocksTheCaller() async throws {
        // Port 9 (discard) is closed on a test machine: every POST fails to connect.
        let notifier = DurableFileNotifier(configuration: Self.quickRetries("http://127.0.0.1:9/hook", attempts: 100), logger: Logger(label: "test"))
        try await Self.running(notifier) {
            let started = ContinuousClock.now
            for index in 0..<200 { await notifier.notify(Self.event("\(index).mp4")) }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test func missingURLIsSentAsNull() throws {
        var event = Self.event("a.mp4")
        event.url = nil
        let text = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        #expect(text.contains("\"url\":null"))
    }

    @Test func notifyURLIsRedactedToSchemeHostAndPort() {
        #expect(NotifyTarget.redacted("https://user:hunter2@hooks.example.com:8443/services/T000/B000/XXXX?token=abc") == "https://hooks.example.com:8443")
        #expect(NotifyTarget.redacted("http://app/hook") == "http://app")
    }
}

/// Keys and URLs as an application receives them.
@Suite struct ObjectLocatorTests {
    static func locator(_ environment: [String: String]) throws -> ObjectLocator {
        var settings = ["LIFEBOAT_WATCH": "output=/srv/output", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
        settings.merge(environment) { $1 }
        return ObjectLocator(configuration: try ConfigurationLoader(environment: settings).load(watches: .mayBeMissing, remoteMustExist: false))
    }

    @Test func awsUsesTheVirtualHostedRegionalURL() throws {
        let locator = try Self.locator(["LIFEBOAT_REMOTE": "s3://media/backups", "LIFEBOAT_S3_REGION": "eu-west-1"])
        #expect(locator.fullKey("output/a b+c.mp4") == "backups/output/a b+c.mp4")
        #expect(locator.url(forKey: "output/a b+c.mp4") == "https://media.s3.eu-west-1.amazonaws.com/backups/output/a%20b%2Bc.mp4")
    }

    @Test func endpointUsesPathStyleWithoutCredentials() throws {
        let locator = try Self.locator(["LIFEBOAT_REMOTE": "s3://media", "LIFEBOAT_S3_ENDPOINT": "https://acct.r2.cloudflarestorage.com/"])
        #expect(locator.fullKey("output/ü.wav") == "output/ü.wav")
        #expect(locator.url(forKey: "output/ü.wav") == "https://acct.r2.cloudflarestorage.com/media/output/%C3%BC.wav")
        let withUser = try Self.locator(["LIFEBOAT_REMOTE": "s3://media", "LIFEBOAT_S3_ENDPOINT": "http://minio:pw@127.0.0.1:9000"])
        #expect(withUser.url(forKey: "output/a.mp4") == "http://127.0.0.1:9000/media/output/a.mp4")
    }

    @Test func directoryRemoteGivesAFileURL() throws {
        let locator = try Self.locator(["LIFEBOAT_REMOTE": "file:///mnt/back up"])
        #expect(locator.fullKey("output/a.mp4") == "output/a.mp4")
        #expect(locator.url(forKey: "output/a.mp4") == "file:///mnt/back%20up/output/a.mp4")
    }
}

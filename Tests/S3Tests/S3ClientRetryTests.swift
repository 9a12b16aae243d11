import Foundation
import Logging
import Testing
@testable import S3

/// Transient failures are retried per the policy, then reported as retryable transport errors.
struct S3ClientRetryTests {
    static func unreachableClient(maxAttempts: Int) -> S3Client {
        S3Client(
            configuration: S3Configuration(
                bucket: "lifeboat-test", endpoint: "http://127.0.0.1:1", region: "us-east-1",
                credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
            transport: CurlTransport(configuration: .init(connectTimeoutSeconds: 2)),
            retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(1)),
            logger: Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func refusedConnectionIsARetryableTransportErrorAfterTheLastAttempt() async throws {
        let client = Self.unreachableClient(maxAttempts: 2)
        let error = await #expect(throws: S3Error.self) {
            _ = try await client.headObject(key: "output/a.mp4")
        }
        let failure = try #require(error)
        guard case .transport(let transport) = failure.kind else {
            Issue.record("expected a transport error, got \(failure)")
            return
        }
        #expect(transport.curlCode == 7)
        #expect(failure.isRetryable)
        #expect(failure.code == "NetworkError")
        #expect(failure.operation == "HeadObject")
        #expect(failure.key == "output/a.mp4")
        #expect(!failure.description.contains("wJalrXUtnFEMI"))
    }

    @Test func everyOperationReportsTheRefusedConnection() async throws {
        let client = Self.unreachableClient(maxAttempts: 1)
        await #expect(throws: S3Error.self) { try await client.deleteObject(key: "a") }
        await #expect(throws: S3Error.self) { try await client.listObjects(prefix: "a/") { _ in } }
        await #expect(throws: S3Error.self) { _ = try await client.createMultipartUpload(key: "a", headers: [], sendChecksum: false) }
    }

    @Test func retryDelaysGrowExponentiallyUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        #expect(policy.delay(afterAttempt: 1, random: 1) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 2, random: 1) == .milliseconds(200))
        #expect(policy.delay(afterAttempt: 4, random: 1) == .milliseconds(800))
        #expect(policy.delay(afterAttempt: 5, random: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 60, random: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 3, random: 0) == .zero)
        #expect(policy.allowsAttempt(5))
        #expect(!policy.allowsAttempt(6))
        #expect(RetryPolicy(maxAttempts: nil).allowsAttempt(1_000_000))
    }
}

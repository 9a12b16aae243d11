import Foundation
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif
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

/// A task that is cancelled stops its transfer instead of waiting out curl's timeouts.
struct S3ClientCancellationTests {
    /// A TCP port that accepts connections (the kernel completes them from the backlog) and
    /// never answers: a request to it hangs until something stops it.
    final class SilentServer: Sendable {
        let descriptor: Int32
        let port: UInt16

        init() throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
            }
            guard listener >= 0, bound, listen(listener, 16) == 0 else {
                if listener >= 0 { close(listener) }
                throw POSIXError(.EADDRNOTAVAIL)
            }
            descriptor = listener
            port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(descriptor) }
    }

    @Test func cancellingTheTaskAbortsAHangingRequestPromptly() async throws {
        let server = try SilentServer()
        let client = S3Client(
            configuration: S3Configuration(
                bucket: "lifeboat-test", endpoint: "http://127.0.0.1:\(server.port)", region: "us-east-1",
                credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")),
            retry: RetryPolicy(maxAttempts: 1),
            logger: Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let started = ContinuousClock.now
        let request = Task { try await client.headObject(key: "hangs") }
        try await Task.sleep(for: .milliseconds(300))
        request.cancel()
        let outcome = await request.result
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(throws: CancellationError.self) { try outcome.get() }
        withExtendedLifetime(server) {}
    }
}

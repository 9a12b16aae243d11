import Foundation
import Logging
import S3
import ServiceLifecycle
import Synchronization
import Testing

@testable import LifeboatCore

/// One answer from a server under test.
struct FetchedResponse: Sendable {
    let status: Int
    let body: String
    let contentType: String?
}

/// GET http://127.0.0.1:PORT/PATH with the agent's own curl transport.
func fetch(port: Int, _ pathAndQuery: String) async throws -> FetchedResponse {
    let response = try await CurlTransport().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(pathAndQuery)", headers: []))
    return FetchedResponse(status: response.status, body: String(decoding: response.body, as: UTF8.self), contentType: response.header("content-type"))
}

/// Runs a `StatusServer` on a free loopback port for the duration of `body`, then stops it.
func withStatusServer<T: Sendable>(
    journal: Journal, agent: any AgentStatusSource, metrics: AgentMetrics = AgentMetrics(),
    watches: [WatchRoot], locator: ObjectLocator,
    _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, announce) = AsyncStream.makeStream(of: Int.self)
    let server = StatusServer(
        address: ListenAddress(host: "127.0.0.1", port: 0), watches: watches, locator: locator, journal: journal,
        agent: agent, metrics: metrics, logger: Logger(label: "test"), onListening: { announce.yield($0) })
    return try await whileRunning(server, logger: Logger(label: "test"), onExit: { announce.finish() }) {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the status server stopped before it listened") }
        return try await body(port)
    }
}

/// Runs `service` in its own ServiceGroup during `body`, then shuts it down gracefully, as
/// SIGTERM would (cancelling a Hummingbird server instead makes it log errors).
/// `onExit` runs when the service stops, however it stops.
func whileRunning<T: Sendable>(
    _ service: any Service, logger: Logger, onExit: @escaping @Sendable () -> Void = {}, _ body: () async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: logger))
    let running = Task {
        defer { onExit() }
        try await group.run()
    }
    let result: Result<T, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    await group.triggerGracefulShutdown()
    _ = await running.result
    return try result.get()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes (then records an issue).
func eventually(timeout: Duration = .seconds(10), _ what: String = "condition", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("\(what) did not hold within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

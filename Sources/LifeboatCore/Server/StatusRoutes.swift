import Foundation
import Hummingbird

/// The endpoint's answers. Every body is small and built per request from live state.
struct StatusRoutes: Sendable {
    let resolver: WatchedPathResolver
    let locator: ObjectLocator
    let journal: Journal
    let agent: any AgentStatusSource
    let metrics: AgentMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in await health() }
        router.get("/readyz") { _, _ in await readiness() }
        router.get("/metrics") { _, _ in await prometheus() }
        router.get("/v1/status") { _, _ in await status() }
        router.get("/v1/files") { request, _ in await file(request.uri.queryParameters.get("path") ?? "") }
    }

    /// Alive while the daemon's loops run, draining included: restarting a pod mid-drain would
    /// only cut uploads short.
    func health() async -> Response {
        await agent.snapshot().isAlive ? .text("ok\n") : .text("not running\n", status: .serviceUnavailable)
    }

    func readiness() async -> Response {
        switch await agent.snapshot().readiness {
        case .ready: .text("ready\n")
        case .notReady(let reason): .text("not ready: \(reason)\n", status: .serviceUnavailable)
        }
    }

    /// The journal-derived gauges are computed now, so a scrape sees the current recovery point.
    func prometheus() async -> Response {
        metrics.observe(await agent.snapshot())
        do {
            metrics.observe(try await journal.summary())
        } catch {
            return .text("cannot read the journal: \(error)\n", status: .internalServerError)
        }
        return .text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    func status() async -> Response {
        do {
            return .json(try await journal.summary().jsonData())
        } catch {
            return .problem("cannot read the journal: \(error)", status: .internalServerError)
        }
    }

    func file(_ path: String) async -> Response {
        switch resolver.resolve(path) {
        case .invalid(let reason):
            return .problem(reason, status: .badRequest)
        case .outside:
            return .problem("\(path) is not under any watched directory", status: .notFound)
        case .watched(let root, let relativePath):
            let record: FileRecord?
            do {
                record = try await journal.record(watch: root.name, path: relativePath)
            } catch {
                return .problem("cannot read the journal: \(error)", status: .internalServerError)
            }
            // A `gone` row is a file that vanished before it was mirrored: nothing is tracked any more.
            guard let record, record.state != .gone else {
                return .problem("\(path) is not tracked (not seen yet, excluded, or gone)", status: .notFound)
            }
            let status = FileStatus(path: "\(root.path)/\(relativePath)", record: record, locator: locator)
            do {
                return .json(try Self.encoder.encode(status))
            } catch {
                return .problem("cannot encode the answer: \(error)", status: .internalServerError)
            }
        }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension Response {
    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        var body = data
        body.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `{"error": "..."}` with the status.
    static func problem(_ message: String, status: HTTPResponse.Status) -> Response {
        let data = (try? StatusRoutes.encoder.encode(["error": message])) ?? Data()
        return json(data, status: status)
    }
}

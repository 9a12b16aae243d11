import Foundation
import Hummingbird
import Logging
import Synchronization

/// A webhook receiver on a free loopback port: records every POST and answers with the next
/// status of `script` (the last one repeats).
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let body: Data
        let contentType: String?
    }

    private let script: [HTTPResponse.Status]
    private let received = Mutex<[Delivery]>([])

    init(answering script: [HTTPResponse.Status]) {
        self.script = script
    }

    var deliveries: [Delivery] { received.withLock { $0 } }

    func run<T: Sendable>(_ body: (_ url: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let delivery = Delivery(body: Data(bytes.readableBytesView), contentType: request.headers[.contentType])
            let count = self.received.withLock { received in
                received.append(delivery)
                return received.count
            }
            return Response(status: self.script[min(count, self.script.count) - 1])
        }
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { announce.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "receiver"))
        return try await whileRunning(application, logger: Logger(label: "receiver"), onExit: { announce.finish() }) {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the webhook receiver did not start") }
            return try await body("http://127.0.0.1:\(port)/hook")
        }
    }
}

import Crypto
import Foundation
import Logging
import S3
import Synchronization
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// A remote held in memory whose objects the test plants directly, with any key and any metadata:
/// the way to hand restore keys no well-behaved uploader would produce. It can also fail a GET
/// part-way, after writing some bytes, as a dropped connection does.
final class PlantedRemote: RemoteStore {
    struct Object: Sendable {
        var data: Data
        var sha256: String?
        var mtimeNanoseconds: Int64?
        var mode: UInt32?
        var etag: String
    }

    let location = "memory://planted"
    private let objects = Mutex<[String: Object]>([:])
    /// Per key: how many GETs still fail (after writing half the body) before one succeeds.
    private let failingGets = Mutex<[String: Int]>([:])
    private let counters = Mutex<(gets: Int, heads: Int)>((0, 0))

    var gets: Int { counters.withLock { $0.gets } }
    var heads: Int { counters.withLock { $0.heads } }

    /// Stores `data` at `key`. `sha256` nil means "the right digest"; pass `.some(nil)` for none.
    func plant(_ key: String, _ data: Data, sha256: String?? = .none, mtime: Int64? = 1_700_000_000_123_456_789, mode: UInt32? = 0o640) {
        let digest = sha256 ?? Self.hex(data)
        let etag = Self.hex(data + Data(key.utf8)).prefix(32)
        objects.withLock { $0[key] = Object(data: data, sha256: digest, mtimeNanoseconds: mtime, mode: mode, etag: String(etag)) }
    }

    func failNextGets(of key: String, times: Int) {
        failingGets.withLock { $0[key] = times }
    }

    func remove(_ key: String) {
        _ = objects.withLock { $0.removeValue(forKey: key) }
    }

    static func hex(_ data: Data) -> String {
        Hex.encode(SHA256.hash(data: data))
    }

    func put(_ object: LocalObject) async throws -> StoredObject {
        let data = try Data(contentsOf: URL(fileURLWithPath: object.path))
        plant(object.key, data, sha256: object.sha256, mtime: object.mtimeNanoseconds, mode: object.mode)
        return StoredObject(key: object.key, etag: objects.withLock { $0[object.key]!.etag })
    }

    func head(key: String) async throws -> RemoteObject? {
        counters.withLock { $0.heads += 1 }
        return objects.withLock { $0[key] }.map { describe(key, $0) }
    }

    func list(prefix: String, page: ([RemoteObject]) async throws -> Void) async throws {
        let listed = objects.withLock { objects in
            objects.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
                .map { RemoteObject(key: $0.key, size: Int64($0.value.data.count), etag: $0.value.etag) }
        }
        try await page(listed)
    }

    func get(key: String, into descriptor: Int32) async throws -> RemoteObject {
        counters.withLock { $0.gets += 1 }
        guard let object = objects.withLock({ $0[key] }) else { throw RemoteError.notFound(key) }
        let fail = failingGets.withLock { failing -> Bool in
            guard let left = failing[key], left > 0 else { return false }
            failing[key] = left - 1
            return true
        }
        let body = fail ? object.data.prefix(object.data.count / 2) : object.data
        body.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        if fail {
            throw S3Error(operation: "GetObject", key: key, kind: .http(status: 503, code: "SlowDown", message: "please slow down", requestID: nil))
        }
        return describe(key, object)
    }

    func delete(key: String) async throws {
        remove(key)
    }

    func removeIncompleteUploads(startedBefore cutoff: Date) async throws -> Int { 0 }

    private func describe(_ key: String, _ object: Object) -> RemoteObject {
        RemoteObject(key: key, size: Int64(object.data.count), etag: object.etag, sha256: object.sha256,
                     mtimeNanoseconds: object.mtimeNanoseconds, mode: object.mode)
    }
}

/// A configuration with the given watches (name → path), a journal and a file remote in `directory`.
func restoreConfiguration(_ directory: TemporaryDirectory, watches: [(String, String)], remote: String = "remote") throws -> AgentConfiguration {
    try directory.makeDirectory(remote)
    return try ConfigurationLoader(
        environment: [
            "LIFEBOAT_WATCH": watches.map { "\($0.0)=\($0.1)" }.joined(separator: ","),
            "LIFEBOAT_REMOTE": "file://\(directory.url(remote))",
            "LIFEBOAT_JOURNAL": directory.url("state/journal.db"),
            "LIFEBOAT_LISTEN": "",
        ],
        workingDirectory: directory.path
    ).load(watches: .mayBeMissing)
}

let quietLogger = Logger(label: "lifeboat.tests", factory: { _ in SwiftLogNoOpLogHandler() })

func makeRestorer(_ configuration: AgentConfiguration, journal: Journal?, remote: any RemoteStore) -> Restorer {
    Restorer(
        configuration: configuration, journal: journal, remote: remote, logger: quietLogger,
        progress: TransferProgress(verb: "restoring", enabled: false),
        retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)))
}

func makeVerifier(_ configuration: AgentConfiguration, journal: Journal?, remote: any RemoteStore) -> Verifier {
    Verifier(
        configuration: configuration, journal: journal, remote: remote, logger: quietLogger,
        progress: TransferProgress(verb: "verifying", enabled: false),
        retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)))
}

import Foundation
public import Logging
public import S3

#if canImport(Glibc)
import Glibc
#endif

/// Compares what the journal says is mirrored with what the remote holds: each mirrored row
/// against the listing (missing object, size, ETag as the upload returned it), and with `deep`
/// against the downloaded content's SHA-256. Remote objects under the watches' folders that the
/// journal has no row for are listed as untracked.
///
/// Without a journal (a fresh machine) the remote objects are checked against their own metadata:
/// a HEAD each for the `sha256` metadata and the size, or with `deep` a download and re-hash.
public struct Verifier: Sendable {
    /// nil: no journal exists; check the objects against their own checksum metadata.
    public let journal: Journal?
    public let configuration: AgentConfiguration
    public let remote: any RemoteStore
    public let logger: Logger
    public let progress: TransferProgress
    public let retry: RetryPolicy

    public init(
        configuration: AgentConfiguration, journal: Journal?, remote: any RemoteStore, logger: Logger,
        progress: TransferProgress = TransferProgress(verb: "verifying"), retry: RetryPolicy = RetryPolicy()
    ) {
        self.configuration = configuration
        self.journal = journal
        self.remote = remote
        self.logger = logger
        self.progress = progress
        self.retry = retry
    }

    /// One object that needs a request (HEAD or GET) to be judged.
    private struct Check: Sendable {
        var object: RemoteObject
        /// The journal's digest, or nil to compare with the object's own metadata.
        var expectedSHA256: String?
    }

    private enum Verdict: Sendable {
        case ok
        case missing(String)
        case mismatched(VerifyReport.Mismatch)
    }

    public func run(deep: Bool) async throws -> VerifyReport {
        var report = VerifyReport()
        report.againstJournal = journal != nil
        var checks: [Check] = []

        for root in configuration.watches {
            let listing = try await list(root)
            guard let journal else {
                for object in listing.values where !Restorer.isFolderMarker(object, under: root.name + "/") {
                    report.checked += 1
                    checks.append(Check(object: object, expectedSHA256: nil))
                }
                continue
            }
            let rows = try await journal.records(watch: root.name)
            var known = Set<String>()
            for row in rows.values {
                let key = row.remoteKey ?? ObjectKey.make(watch: row.watch, relativePath: row.path)
                known.insert(key)
                guard row.state == .mirrored else { continue }
                report.checked += 1
                guard let object = listing[key] else {
                    report.missing.append(key)
                    continue
                }
                if object.size != row.size {
                    report.mismatched.append(.init(key: key, reason: "the remote object is \(object.size) bytes but \(row.size) were uploaded"))
                } else if let etag = row.etag, etag != object.etag {
                    report.mismatched.append(.init(key: key, reason: "the remote ETag is \(object.etag) but the upload returned \(etag): the object was replaced after it was mirrored"))
                } else if deep {
                    checks.append(Check(object: object, expectedSHA256: row.sha256))
                } else {
                    report.ok += 1
                }
            }
            report.untracked += listing.values
                .filter { !known.contains($0.key) && !Restorer.isFolderMarker($0, under: root.name + "/") }
                .map(\.key)
        }

        progress.expect(files: checks.count, bytes: deep ? checks.reduce(0) { $0 + $1.object.size } : 0)
        try await perform(checks, deep: deep, into: &report)
        progress.end()
        report.missing.sort()
        report.mismatched.sort { $0.key < $1.key }
        report.untracked.sort()
        return report
    }

    /// The objects under the watch's folder, by key. Listed as "NAME" and filtered, as restore does.
    private func list(_ root: WatchRoot) async throws -> [String: RemoteObject] {
        let folder = root.name + "/"
        var objects: [String: RemoteObject] = [:]
        try await remote.list(prefix: root.name) { page in
            for object in page where object.key.hasPrefix(folder) { objects[object.key] = object }
        }
        return objects
    }

    private func perform(_ checks: [Check], deep: Bool, into report: inout VerifyReport) async throws {
        let progress = progress
        try await withThrowingTaskGroup(of: (Verdict, Int64).self) { group in
            var next = checks.makeIterator()
            func startNext() {
                guard let check = next.next() else { return }
                group.addTask {
                    let verdict = deep ? await self.download(check) : await self.head(check)
                    return (verdict, deep ? check.object.size : 0)
                }
            }
            for _ in 0..<configuration.concurrency { startNext() }
            while let (verdict, bytes) = try await group.next() {
                switch verdict {
                case .ok: report.ok += 1
                case .missing(let key): report.missing.append(key)
                case .mismatched(let mismatch): report.mismatched.append(mismatch)
                }
                progress.finished(bytes: bytes)
                startNext()
            }
        }
    }

    /// Without --deep and without a journal: the object must carry a checksum and have the listed size.
    private func head(_ check: Check) async -> Verdict {
        let key = check.object.key
        do {
            guard let head = try await remote.head(key: key) else { return .missing(key) }
            if head.size != check.object.size {
                return .mismatched(.init(key: key, reason: "the object is \(head.size) bytes but was listed with \(check.object.size)"))
            }
            guard head.sha256 != nil else {
                return .mismatched(.init(key: key, reason: "the object has no sha256 metadata, so its content cannot be verified"))
            }
            return .ok
        } catch {
            return .mismatched(.init(key: key, reason: "could not be checked: \(error)"))
        }
    }

    /// --deep: downloads into an unlinked temporary file and re-hashes what arrived.
    private func download(_ check: Check) async -> Verdict {
        let key = check.object.key
        do {
            let sink = try Self.temporarySink()
            defer { close(sink) }
            let fetched: RemoteObject
            do {
                fetched = try await remote.download(key: key, into: sink, path: "(download of \(key))", retry: retry)
            } catch let error as S3Error where error.httpStatus == 404 {
                return .missing(key)
            } catch RemoteError.notFound {
                return .missing(key)
            }
            let (digest, bytes) = try DescriptorDigest.sha256(of: sink, path: "(download of \(key))")
            if bytes != fetched.size {
                return .mismatched(.init(key: key, reason: "the download ended after \(bytes) of \(fetched.size) bytes"))
            }
            if let expected = check.expectedSHA256 {
                if digest != expected {
                    return .mismatched(.init(key: key, reason: "the content's SHA-256 is \(digest) but \(expected) was uploaded"))
                }
            } else if fetched.sha256 == nil {
                return .mismatched(.init(key: key, reason: "the object has no sha256 metadata, so its content cannot be verified"))
            }
            if let metadata = fetched.sha256, metadata != digest {
                return .mismatched(.init(key: key, reason: "the content's SHA-256 is \(digest) but its sha256 metadata says \(metadata)"))
            }
            return .ok
        } catch {
            return .mismatched(.init(key: key, reason: "could not be checked: \(error)"))
        }
    }

    /// A file with no name in the temporary directory: the download only needs to be hashed.
    private static func temporarySink() throws -> Int32 {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("lifeboat-verify-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw RemoteError.local(NSTemporaryDirectory(), errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return descriptor
    }
}

public import Foundation
public import S3
import Synchronization

/// An `s3://BUCKET/PREFIX` remote. Small files go up in one PutObject; files above the multipart
/// threshold in equal-size parts (Cloudflare R2 rejects unequal ones), aborted if anything fails
/// so no orphaned parts are billed.
public final class S3Remote: RemoteStore {
    public let client: S3Client
    public let prefix: String
    public let multipartThreshold: Int64
    public let partSize: Int64
    public var location: String { prefix.isEmpty ? "s3://\(client.configuration.bucket)" : "s3://\(client.configuration.bucket)/\(prefix)" }

    /// Whether to send `x-amz-checksum-sha256`. In `auto` mode it starts on and is switched off
    /// for good the first time the provider shows it does not support the header.
    private let sendChecksum: Mutex<Bool>
    private let probeChecksum: Bool
    private let hasher = FileHasher()
    /// Multipart uploads this process has begun and not yet completed or aborted: the cleanup of
    /// orphans must never abort one of these.
    private let uploadsInFlight = Mutex<Set<String>>([])

    /// S3 allows at most this many parts in one upload.
    static let maximumParts: Int64 = 10_000

    public init(client: S3Client, prefix: String, multipartThreshold: Int64, partSize: Int64, checksum: AgentConfiguration.ChecksumMode) {
        self.client = client
        self.prefix = prefix
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.sendChecksum = Mutex(checksum != .off)
        self.probeChecksum = checksum == .auto
    }

    public func put(_ object: LocalObject) async throws -> StoredObject {
        let checksum = sendChecksum.withLock { $0 }
        do {
            return try await upload(object, checksum: checksum)
        } catch let error as S3Error where checksum && probeChecksum && Self.rejectsChecksumHeader(error) {
            sendChecksum.withLock { $0 = false }
            return try await upload(object, checksum: false)
        }
    }

    private func upload(_ object: LocalObject, checksum: Bool) async throws -> StoredObject {
        let key = remoteKey(object.key)
        let headers = [
            HTTPHeader("content-type", ContentType.forPath(object.key)),
            HTTPHeader("x-amz-meta-\(ObjectMetadata.sha256)", object.sha256),
            HTTPHeader("x-amz-meta-\(ObjectMetadata.mtime)", ObjectMetadata.formatMtime(object.mtimeNanoseconds)),
            HTTPHeader("x-amz-meta-\(ObjectMetadata.mode)", ObjectMetadata.formatMode(object.mode)),
        ]
        if object.size < multipartThreshold {
            let etag = try await client.putObject(key: key, file: object.path, size: object.size, sha256Hex: object.sha256, headers: headers, sendChecksum: checksum)
            return StoredObject(key: object.key, etag: etag)
        }
        let uploadID = try await client.createMultipartUpload(key: key, headers: headers, sendChecksum: checksum)
        uploadsInFlight.withLock { _ = $0.insert(uploadID) }
        defer { uploadsInFlight.withLock { _ = $0.remove(uploadID) } }
        do {
            let size = partSize(for: object.size)
            var parts: [CompletedPart] = []
            var offset: Int64 = 0
            var number = 1
            while offset < object.size {
                let length = min(size, object.size - offset)
                // Each part is signed with its own digest, so a corrupted part is refused on arrival.
                let digest = try hasher.hash(path: object.path, offset: offset, length: length)
                parts.append(try await client.uploadPart(key: key, uploadID: uploadID, partNumber: number, file: object.path, offset: offset, length: length, sha256Hex: digest, sendChecksum: checksum))
                offset += length
                number += 1
            }
            let etag = try await client.completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
            return StoredObject(key: object.key, etag: etag)
        } catch {
            try? await client.abortMultipartUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// The configured part size, grown in whole MiB when the file would need more than 10,000 parts.
    func partSize(for size: Int64) -> Int64 {
        guard size > partSize * Self.maximumParts else { return partSize }
        let mebibyte: Int64 = 1 << 20
        let needed = (size + Self.maximumParts - 1) / Self.maximumParts
        return (needed + mebibyte - 1) / mebibyte * mebibyte
    }

    public func head(key: String) async throws -> RemoteObject? {
        try await client.headObject(key: remoteKey(key)).map { Self.describe(key: key, info: $0) }
    }

    public func list(prefix listPrefix: String, page: ([RemoteObject]) async throws -> Void) async throws {
        // Stripped in UTF-8 bytes: a combining mark after the "/" would merge with it as a Character.
        let stripped = prefix.isEmpty ? 0 : prefix.utf8.count + 1
        try await client.listObjects(prefix: remoteKey(listPrefix)) { objects in
            try await page(objects.map { RemoteObject(key: String(decoding: $0.key.utf8.dropFirst(stripped), as: UTF8.self), size: $0.size, etag: $0.etag) })
        }
    }

    public func get(key: String, into descriptor: Int32) async throws -> RemoteObject {
        Self.describe(key: key, info: try await client.getObject(key: remoteKey(key), into: descriptor))
    }

    public func delete(key: String) async throws {
        try await client.deleteObject(key: remoteKey(key))
    }

    /// Only one agent owns a journal and its prefix, so an upload open under the prefix that this
    /// process is not sending is one of ours that a crash interrupted, or one whose
    /// CreateMultipartUpload answer was lost and retried: abort it (the file was or will be sent
    /// again from scratch). One begun after `cutoff` is spared: its answer may still be on its way.
    public func removeIncompleteUploads(startedBefore cutoff: Date) async throws -> Int {
        // The prefix is sent without its trailing "/" (some servers mishandle "/" in signed query
        // values) and the keys are filtered here instead.
        let uploads = try await client.listMultipartUploads(prefix: prefix)
        let inFlight = uploadsInFlight.withLock { $0 }
        let ours = uploads.filter { upload in
            (prefix.isEmpty || upload.key.hasPrefix(prefix + "/")) && !inFlight.contains(upload.uploadID)
                && (upload.initiated ?? .distantPast) < cutoff
        }
        for upload in ours {
            try await client.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID)
        }
        return ours.count
    }

    private func remoteKey(_ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix)/\(key)"
    }

    private static func describe(key: String, info: ObjectInfo) -> RemoteObject {
        let digest = info.metadata[ObjectMetadata.sha256].flatMap { ObjectMetadata.isSHA256($0) ? $0 : nil }
        return RemoteObject(
            key: key, size: info.size, etag: info.etag, sha256: digest,
            mtimeNanoseconds: info.metadata[ObjectMetadata.mtime].flatMap(ObjectMetadata.parseMtime),
            mode: info.metadata[ObjectMetadata.mode].flatMap(ObjectMetadata.parseMode),
            contentType: info.contentType)
    }

    /// Providers that predate S3's additional checksums answer NotImplemented, or InvalidArgument
    /// naming the header. A BadDigest is different: that is the checksum doing its job.
    private static func rejectsChecksumHeader(_ error: S3Error) -> Bool {
        guard case .http(let status, let code, let message, _) = error.kind, status == 400 || status == 501 else { return false }
        if code == "NotImplemented" { return true }
        return ["InvalidArgument", "InvalidRequest"].contains(code) && message.lowercased().contains("checksum")
    }
}

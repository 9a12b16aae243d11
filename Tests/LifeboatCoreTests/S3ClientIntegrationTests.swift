import Crypto
import Foundation
import Testing
@testable import LifeboatCore
@testable import S3

#if canImport(Glibc)
import Glibc
#endif

/// The S3 client against a real server (moto), checked with an independent client (boto3 via
/// `Tests/Support/s3_inspect.py`) wherever "it landed" is the claim.
enum S3Integration {
    static func client(_ server: MotoServer, secretAccessKey: String? = nil, retry: RetryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10))) -> S3Client {
        S3Client(
            configuration: S3Configuration(
                bucket: server.bucket, endpoint: server.endpoint, region: server.region, pathStyle: true,
                credentials: S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: secretAccessKey ?? server.secretAccessKey)),
            retry: retry)
    }

    /// A client for tests that never send a request.
    static func unusedClient() -> S3Client {
        S3Client(configuration: S3Configuration(bucket: "lifeboat-test", endpoint: "http://127.0.0.1:1", credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "unused")))
    }

    /// A folder of the shared bucket that no other test uses.
    static func uniquePrefix(_ label: String) -> String {
        "\(label)-\(UUID().uuidString.lowercased())/"
    }

    static func hex(_ data: Data) -> String { FileHasherTests.hex(data) }

    static func base64SHA256(_ data: Data) -> String {
        Data(SHA256.hash(data: data)).base64EncodedString()
    }

    /// Downloads `key` into a new file in `directory`; returns the bytes and what GET said.
    static func get(_ client: S3Client, _ key: String, in directory: TemporaryDirectory) async throws -> (Data, ObjectInfo) {
        let path = directory.url("download-\(UUID().uuidString)")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let info: ObjectInfo
        do {
            info = try await client.getObject(key: key, into: descriptor)
            close(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        return (try Data(contentsOf: URL(fileURLWithPath: path)), info)
    }

    static func put(_ client: S3Client, _ key: String, _ data: Data, in directory: TemporaryDirectory, headers: [HTTPHeader] = [], checksum: Bool = true) async throws -> String {
        let path = try directory.write("upload-\(UUID().uuidString)", data)
        return try await client.putObject(key: key, file: path, size: Int64(data.count), sha256Hex: hex(data), headers: headers, sendChecksum: checksum)
    }
}

/// Against moto checking SigV4 signatures and IAM: keys stay plain (see `MotoServer.Mode.signed`).
@Suite(.requiresMoto)
struct S3ClientSignedServerTests {
    @Test func putObjectLandsByteForByteWithMetadataAndChecksum() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let prefix = S3Integration.uniquePrefix("signed-put")
            let data = patternedData(count: 200_003, seed: 5)
            let etag = try await S3Integration.put(client, prefix + "clip.mp4", data, in: directory, headers: [
                HTTPHeader("content-type", "video/mp4"),
                HTTPHeader("x-amz-meta-sha256", S3Integration.hex(data)),
                HTTPHeader("x-amz-meta-mtime", "1700000000.123456789"),
                HTTPHeader("x-amz-meta-mode", "0644"),
            ])

            let objects = try await InspectedObject.list(server, prefix: prefix)
            let object = try #require(objects.first)
            #expect(objects.count == 1)
            #expect(object.key == prefix + "clip.mp4")
            #expect(object.size == 200_003)
            #expect(object.sha256 == S3Integration.hex(data))
            #expect(object.etag == etag)
            #expect(object.contentType == "video/mp4")
            #expect(object.metadata == ["sha256": S3Integration.hex(data), "mtime": "1700000000.123456789", "mode": "0644"])
            #expect(object.checksumSHA256 == S3Integration.base64SHA256(data))
        }
    }

    @Test func multipartUploadLandsByteForByte() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let key = S3Integration.uniquePrefix("signed-multipart") + "render.mov"
            let data = patternedData(count: 11 << 20, seed: 6)
            let path = try directory.write("render.mov", data)
            let partSize: Int64 = 5 << 20

            let uploadID = try await client.createMultipartUpload(key: key, headers: [HTTPHeader("x-amz-meta-sha256", S3Integration.hex(data))], sendChecksum: true)
            var parts: [CompletedPart] = []
            var offset: Int64 = 0
            while offset < Int64(data.count) {
                let length = min(partSize, Int64(data.count) - offset)
                let digest = try FileHasher().hash(path: path, offset: offset, length: length)
                parts.append(try await client.uploadPart(key: key, uploadID: uploadID, partNumber: parts.count + 1, file: path, offset: offset, length: length, sha256Hex: digest, sendChecksum: true))
                offset += length
            }
            #expect(parts.map(\.number) == [1, 2, 3])
            let etag = try await client.completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
            #expect(etag.hasSuffix("-3"), "\(etag)")

            let object = try #require(try await InspectedObject.list(server, prefix: key).first)
            #expect(object.size == Int64(11 << 20))
            #expect(object.sha256 == S3Integration.hex(data))
            #expect(object.etag == etag)
            #expect(object.metadata["sha256"] == S3Integration.hex(data))
        }
    }

    @Test func s3RemoteMultipartUploadLandsByteForByte() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let prefix = S3Integration.uniquePrefix("signed-remote")
            let remote = S3Remote(client: S3Integration.client(server), prefix: String(prefix.dropLast()), multipartThreshold: 5 << 20, partSize: 5 << 20, checksum: .auto)
            let data = patternedData(count: (11 << 20) + 5, seed: 8)
            let path = try directory.write("take.wav", data)
            let object = LocalObject(key: "voice_clone/take.wav", path: path, size: Int64(data.count), sha256: S3Integration.hex(data), mtimeNanoseconds: 1_700_000_000_000_000_007, mode: 0o600)
            let stored = try await remote.put(object)
            #expect(stored.etag.hasSuffix("-3"))

            let inspected = try #require(try await InspectedObject.list(server, prefix: prefix).first)
            #expect(inspected.key == prefix + "voice_clone/take.wav")
            #expect(inspected.sha256 == S3Integration.hex(data))
            #expect(inspected.contentType == "audio/wav")
            #expect(inspected.metadata == ["sha256": S3Integration.hex(data), "mtime": "1700000000.000000007", "mode": "0600"])
        }
    }

    @Test func wrongSecretIsRefusedAsPermanentAndNeverQuoted() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let wrongSecret = "not-the-secret-\(UUID().uuidString)"
            let client = S3Integration.client(server, secretAccessKey: wrongSecret)
            let key = S3Integration.uniquePrefix("signed-wrong") + "x.bin"

            let putError = await #expect(throws: S3Error.self) {
                _ = try await S3Integration.put(client, key, Data("x".utf8), in: directory)
            }
            let listError = await #expect(throws: S3Error.self) {
                try await client.listObjects(prefix: "") { _ in }
            }
            // HEAD has no error body, but a refusal must still be an error, never "no such object".
            let headError = await #expect(throws: S3Error.self) {
                _ = try await client.headObject(key: key)
            }
            #expect(headError?.httpStatus == 403)
            for error in [putError, listError].compactMap(\.self) {
                #expect(["SignatureDoesNotMatch", "InvalidAccessKeyId"].contains(error.code), "\(error)")
                #expect(error.httpStatus == 403)
                #expect(!error.isRetryable)
                #expect(!error.description.contains(wrongSecret))
                #expect(!error.description.contains(server.secretAccessKey))
                #expect(!String(reflecting: error).contains(wrongSecret))
            }
            #expect(try await InspectedObject.list(server, prefix: key).isEmpty)
        }
    }

    @Test func headOfAMissingKeyIsNil() async throws {
        let server = try await MotoServer.shared(.signed)
        let client = S3Integration.client(server)
        #expect(try await client.headObject(key: S3Integration.uniquePrefix("signed-head") + "missing.bin") == nil)
    }

    @Test func headAndGetReturnSizeMetadataAndBody() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let key = S3Integration.uniquePrefix("signed-get") + "notes.txt"
            let data = patternedData(count: 65_537, seed: 9)
            let etag = try await S3Integration.put(client, key, data, in: directory, headers: [HTTPHeader("content-type", "text/plain"), HTTPHeader("x-amz-meta-mode", "0640")])

            let head = try #require(try await client.headObject(key: key))
            #expect(head.size == 65_537)
            #expect(head.etag == etag)
            #expect(head.metadata["mode"] == "0640")
            #expect(head.contentType == "text/plain")

            let (bytes, info) = try await S3Integration.get(client, key, in: directory)
            #expect(bytes == data)
            #expect(info.size == 65_537)
            #expect(info.etag == etag)
            #expect(info.metadata["mode"] == "0640")
        }
    }

    @Test func getOfAMissingKeyIsAPermanentNoSuchKey() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let error = await #expect(throws: S3Error.self) {
                _ = try await S3Integration.get(client, S3Integration.uniquePrefix("signed-get-missing") + "nothing", in: directory)
            }
            #expect(error?.httpStatus == 404)
            #expect(error?.code == "NoSuchKey")
            #expect(error?.isRetryable == false)
        }
    }

    @Test func deleteRemovesTheObject() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let prefix = S3Integration.uniquePrefix("signed-delete")
            _ = try await S3Integration.put(client, prefix + "doomed.bin", Data("doomed".utf8), in: directory)
            try await client.deleteObject(key: prefix + "doomed.bin")
            #expect(try await client.headObject(key: prefix + "doomed.bin") == nil)
            #expect(try await InspectedObject.list(server, prefix: prefix).isEmpty)
            // S3 answers 204 for a key that is already gone.
            try await client.deleteObject(key: prefix + "doomed.bin")
        }
    }

    @Test func abortingAnUnknownUploadDoesNotThrow() async throws {
        let server = try await MotoServer.shared(.signed)
        let client = S3Integration.client(server)
        try await client.abortMultipartUpload(key: S3Integration.uniquePrefix("signed-abort") + "x.bin", uploadID: "no-such-upload-\(UUID().uuidString)")
    }

    @Test func abortedUploadLeavesNoObject() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.signed)
            let client = S3Integration.client(server)
            let key = S3Integration.uniquePrefix("signed-aborted") + "half.bin"
            let data = patternedData(count: 5 << 20, seed: 10)
            let path = try directory.write("half.bin", data)
            let uploadID = try await client.createMultipartUpload(key: key, headers: [], sendChecksum: false)
            _ = try await client.uploadPart(key: key, uploadID: uploadID, partNumber: 1, file: path, offset: 0, length: Int64(data.count), sha256Hex: S3Integration.hex(data), sendChecksum: false)
            try await client.abortMultipartUpload(key: key, uploadID: uploadID)
            #expect(try await client.headObject(key: key) == nil)
            await #expect(throws: S3Error.self) {
                _ = try await client.completeMultipartUpload(key: key, uploadID: uploadID, parts: [])
            }
        }
    }
}

/// Against moto accepting any signature: listing with a prefix and keys moto's signature check mishandles.
@Suite(.requiresMoto)
struct S3ClientUnsignedServerTests {
    @Test func listingWithAFolderPrefixReturnsOnlyThatFolder() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.unsigned)
            let client = S3Integration.client(server)
            let prefix = S3Integration.uniquePrefix("unsigned-list")
            let sizes = ["a/1.bin": 1, "a/2.bin": 20, "a/deeper/3.bin": 300, "ab/4.bin": 4, "b/5.bin": 5]
            for (key, size) in sizes {
                _ = try await S3Integration.put(client, prefix + key, patternedData(count: size), in: directory)
            }
            var listed: [ListedObject] = []
            try await client.listObjects(prefix: prefix + "a/") { listed.append(contentsOf: $0) }
            #expect(listed.map(\.key).sorted() == ["a/1.bin", "a/2.bin", "a/deeper/3.bin"].map { prefix + $0 })
            for object in listed {
                #expect(object.size == Int64(sizes[String(object.key.dropFirst(prefix.count))] ?? -1))
                #expect(!object.etag.isEmpty)
                #expect(!object.etag.hasPrefix("\""))
            }
        }
    }

    static let awkwardNames = ["with space.txt", "ü.txt", "naïve café/ü (1).txt", "(1).txt", "a+b.txt", "100%.txt", "#hash.txt", "50% + 50% = (1) #2.txt", "日本語/ファイル.mp4", "~tilde*star'quote!.txt", "semi;colon,comma&amp=eq@at$.txt"]

    @Test func awkwardKeysRoundTripThroughPutListAndGet() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await MotoServer.shared(.unsigned)
            let client = S3Integration.client(server)
            let prefix = S3Integration.uniquePrefix("unsigned-keys")
            for (index, name) in Self.awkwardNames.enumerated() {
                _ = try await S3Integration.put(client, prefix + name, Data("body \(index)".utf8), in: directory)
            }
            let expected = Self.awkwardNames.map { prefix + $0 }.sorted()

            var listed: [String] = []
            try await client.listObjects(prefix: prefix) { listed.append(contentsOf: $0.map(\.key)) }
            #expect(listed.sorted() == expected)

            // The independent client must see the very same keys: nothing was re-encoded on the way.
            #expect(try await InspectedObject.list(server, prefix: prefix).map(\.key).sorted() == expected)

            for (index, name) in Self.awkwardNames.enumerated() {
                let (bytes, info) = try await S3Integration.get(client, prefix + name, in: directory)
                #expect(bytes == Data("body \(index)".utf8), "\(name)")
                #expect(info.size == Int64(bytes.count))
                #expect(try await client.headObject(key: prefix + name) != nil, "\(name)")
            }
        }
    }
}

import Foundation
import Crypto
public import Logging

/// An S3 client with exactly the operations Lifeboat needs. Every request is signed with SigV4,
/// retried per the `RetryPolicy` when the failure is transient, and reported as an `S3Error`
/// that carries the provider's own code and message.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    private let transport: CurlTransport
    private let retry: RetryPolicy
    private let signer: SigV4Signer
    private let logger: Logger

    /// SHA-256 of nothing: the payload hash of bodiless requests.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(configuration: S3Configuration, transport: CurlTransport = CurlTransport(), retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "s3")) {
        self.configuration = configuration
        self.transport = transport
        self.retry = retry
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.logger = logger
    }

    // MARK: Objects

    /// Uploads a whole file in one request. `sha256Hex` is the file's digest: it is signed as the
    /// payload hash, so a body that differs from what was hashed is rejected by the server.
    public func putObject(key: String, file path: String, size: Int64, sha256Hex: String, headers extra: [HTTPHeader], sendChecksum: Bool) async throws -> String {
        var headers = extra
        if sendChecksum { headers += Self.checksumHeaders(base64: Self.base64(hex: sha256Hex)) }
        let response = try await execute(
            operation: "PutObject", key: key, method: "PUT", headers: headers,
            body: .file(path: path, offset: 0, length: size), payloadHash: sha256Hex)
        return ObjectInfo.unquoted(response.header("etag") ?? "")
    }

    public func headObject(key: String) async throws -> ObjectInfo? {
        do {
            let response = try await execute(operation: "HeadObject", key: key, method: "HEAD")
            return ObjectInfo(response: response)
        } catch let error as S3Error where error.httpStatus == 404 {
            return nil
        }
    }

    /// Streams the object's body into `descriptor` (positioned by the caller) and returns its headers.
    public func getObject(key: String, into descriptor: Int32) async throws -> ObjectInfo {
        let response = try await execute(operation: "GetObject", key: key, method: "GET", response: .fileDescriptor(descriptor), retryable: false)
        return ObjectInfo(response: response)
    }

    public func deleteObject(key: String) async throws {
        _ = try await execute(operation: "DeleteObject", key: key, method: "DELETE")
    }

    /// Lists every object under `prefix`, one page at a time, handing each page to `body`.
    public func listObjects(prefix: String, page body: ([ListedObject]) async throws -> Void) async throws {
        var token: String?
        repeat {
            var query = [QueryItem("list-type", "2"), QueryItem("encoding-type", "url")]
            if !prefix.isEmpty { query.append(QueryItem("prefix", prefix)) }
            if let token { query.append(QueryItem("continuation-token", token)) }
            let response = try await execute(operation: "ListObjectsV2", key: prefix, method: "GET", bucketLevel: true, query: query)
            let page: ListObjectsPage
            do {
                page = try S3XML.listObjectsV2(response.body, urlEncodedKeys: true)
            } catch {
                throw S3Error(operation: "ListObjectsV2", key: prefix, kind: .invalidResponse("\(error)"))
            }
            try await body(page.objects)
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated, token == nil {
                throw S3Error(operation: "ListObjectsV2", key: prefix, kind: .invalidResponse("truncated listing without a continuation token"))
            }
        } while token != nil
    }

    // MARK: Multipart

    public func createMultipartUpload(key: String, headers extra: [HTTPHeader], sendChecksum: Bool) async throws -> String {
        var headers = extra
        if sendChecksum { headers.append(HTTPHeader("x-amz-checksum-algorithm", "SHA256")) }
        let response = try await execute(operation: "CreateMultipartUpload", key: key, method: "POST", query: [QueryItem("uploads", "")], headers: headers, body: .bytes(Data()))
        do {
            return try S3XML.initiateMultipartUploadID(response.body)
        } catch {
            throw S3Error(operation: "CreateMultipartUpload", key: key, kind: .invalidResponse("\(error)"))
        }
    }

    /// Uploads one part; returns its ETag and, when sent, its base64 checksum for the completion.
    public func uploadPart(key: String, uploadID: String, partNumber: Int, file path: String, offset: Int64, length: Int64, sha256Hex: String, sendChecksum: Bool) async throws -> CompletedPart {
        let checksum = sendChecksum ? Self.base64(hex: sha256Hex) : nil
        var headers: [HTTPHeader] = []
        if let checksum { headers += Self.checksumHeaders(base64: checksum) }
        let response = try await execute(
            operation: "UploadPart", key: key, method: "PUT",
            query: [QueryItem("partNumber", String(partNumber)), QueryItem("uploadId", uploadID)],
            headers: headers, body: .file(path: path, offset: offset, length: length), payloadHash: sha256Hex)
        return CompletedPart(number: partNumber, etag: ObjectInfo.unquoted(response.header("etag") ?? ""), checksumSHA256: checksum)
    }

    public func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws -> String {
        let body = S3XML.completeMultipartUploadBody(parts: parts)
        let response = try await execute(
            operation: "CompleteMultipartUpload", key: key, method: "POST",
            query: [QueryItem("uploadId", uploadID)], headers: [HTTPHeader("content-type", "application/xml")], body: .bytes(body))
        // S3 may answer 200 and still fail: the error then arrives in the body, after the headers.
        let outcome: CompleteMultipartOutcome
        do {
            outcome = try S3XML.completeMultipartUpload(response.body)
        } catch {
            throw S3Error(operation: "CompleteMultipartUpload", key: key, kind: .invalidResponse("\(error)"))
        }
        switch outcome {
        case .completed(let etag):
            return etag
        case .failed(let failure):
            throw S3Error(operation: "CompleteMultipartUpload", key: key, kind: .http(status: 200, code: failure.code, message: failure.message, requestID: failure.requestID))
        }
    }

    /// Every multipart upload under `prefix` that was begun and never completed or aborted.
    public func listMultipartUploads(prefix: String) async throws -> [MultipartUploadsPage.Upload] {
        var uploads: [MultipartUploadsPage.Upload] = []
        var markers: (key: String, uploadID: String)?
        repeat {
            var query = [QueryItem("uploads", ""), QueryItem("encoding-type", "url")]
            if !prefix.isEmpty { query.append(QueryItem("prefix", prefix)) }
            if let markers {
                query.append(QueryItem("key-marker", markers.key))
                query.append(QueryItem("upload-id-marker", markers.uploadID))
            }
            let response = try await execute(operation: "ListMultipartUploads", key: prefix, method: "GET", bucketLevel: true, query: query)
            let page: MultipartUploadsPage
            do {
                page = try S3XML.listMultipartUploads(response.body)
            } catch {
                throw S3Error(operation: "ListMultipartUploads", key: prefix, kind: .invalidResponse("\(error)"))
            }
            uploads += page.uploads
            if page.isTruncated, let key = page.nextKeyMarker, let uploadID = page.nextUploadIDMarker {
                markers = (key, uploadID)
            } else {
                markers = nil
            }
        } while markers != nil
        return uploads
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        do {
            _ = try await execute(operation: "AbortMultipartUpload", key: key, method: "DELETE", query: [QueryItem("uploadId", uploadID)])
        } catch let error as S3Error where error.httpStatus == 404 {
            // Already gone: aborting is idempotent from our point of view.
        }
    }

    // MARK: Requests

    private func execute(
        operation: String, key: String, method: String, bucketLevel: Bool = false,
        query: [QueryItem] = [], headers extra: [HTTPHeader] = [], body: HTTPRequest.Body = .empty,
        payloadHash explicitHash: String? = nil, response destination: HTTPRequest.ResponseDestination = .memory,
        retryable: Bool = true
    ) async throws -> HTTPResponse {
        let location = configuration.location(forKey: bucketLevel ? "" : key)
        let path = location.path
        let payloadHash = explicitHash ?? Self.payloadHash(of: body)
        var url = location.base + SigV4Signer.canonicalURI(path, normalize: false)
        if !query.isEmpty { url += "?" + SigV4Signer.canonicalQueryString(query) }

        var attempt = 1
        while true {
            var headers = [HTTPHeader("host", location.host), HTTPHeader("x-amz-content-sha256", payloadHash)]
            headers.append(contentsOf: extra)
            let signature = signer.sign(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash, date: Date())
            let request = HTTPRequest(method: method, url: url, headers: signature.headers.filter { $0.name.lowercased() != "host" }, body: body, response: destination)
            let failure: S3Error
            do {
                let response = try await transport.send(request)
                if (200..<300).contains(response.status) { return response }
                failure = Self.error(from: response, operation: operation, key: key)
            } catch let error as TransportError {
                failure = S3Error(operation: operation, key: key, kind: .transport(error))
            } catch let error as UploadSourceError {
                throw S3Error(operation: operation, key: key, kind: .source(error))
            }
            // A streamed download has already written bytes: its caller restarts it from the beginning.
            guard retryable, failure.isRetryable, retry.allowsAttempt(attempt + 1) else { throw failure }
            let delay = retry.delay(afterAttempt: attempt)
            logger.warning("\(failure); retrying in \(delay)", metadata: ["attempt": "\(attempt)"])
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }

    static func error(from response: HTTPResponse, operation: String, key: String) -> S3Error {
        if let body = S3XML.errorBody(response.body) {
            return S3Error(operation: operation, key: key, kind: .http(status: response.status, code: body.code, message: body.message, requestID: body.requestID))
        }
        // HEAD answers have no body; some proxies answer with HTML. Name the status at least.
        let code: String = switch response.status {
        case 301, 307: "PermanentRedirect"
        case 400: "BadRequest"
        case 403: "AccessDenied"
        case 404: "NotFound"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        default: ""
        }
        let requestID = response.header("x-amz-request-id")
        return S3Error(operation: operation, key: key, kind: .http(status: response.status, code: code, message: "", requestID: requestID))
    }

    private static func payloadHash(of body: HTTPRequest.Body) -> String {
        switch body {
        case .empty: emptyPayloadHash
        case .bytes(let data): Hex.encode(SHA256.hash(data: data))
        case .file: "UNSIGNED-PAYLOAD"
        }
    }

    /// The checksum itself, and the algorithm header the AWS SDKs send with it: some servers
    /// (moto among them) only store and check the checksum when both are present.
    static func checksumHeaders(base64 checksum: String) -> [HTTPHeader] {
        [HTTPHeader("x-amz-checksum-sha256", checksum), HTTPHeader("x-amz-sdk-checksum-algorithm", "SHA256")]
    }

    static func base64(hex: String) -> String {
        Data(Hex.decode(hex) ?? []).base64EncodedString()
    }
}

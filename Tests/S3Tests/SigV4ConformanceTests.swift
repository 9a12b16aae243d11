import Foundation
@testable import S3
import Testing

/// Runs the signer against the official AWS SigV4 suite (aws-c-auth's v4 vectors) and against
/// the S3 rules the suite does not cover.
///
/// The suite is not part of this repository: it sits in `shared/` beside the package root, on a
/// developer's machine and in CI alike. Where it is missing, the suite's tests are reported as
/// skipped, not passed.
struct SigV4ConformanceTests {
    /// `<package root>/../shared/conformance/aws-sigv4`, found from this file's own path
    /// (`<package root>/Tests/S3Tests/SigV4ConformanceTests.swift`) so it works from any clone.
    static let suiteDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // S3Tests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/aws-sigv4", isDirectory: true)

    static let isSuitePresent: Bool = {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: suiteDirectory.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }()

    /// Every folder of the suite holding a case (a `context.json`), by name.
    static let caseNames: [String] = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: suiteDirectory.path)) ?? []
        return entries
            .filter { FileManager.default.fileExists(atPath: suiteDirectory.appendingPathComponent("\($0)/context.json").path) }
            .sorted()
    }()

    // MARK: - The official vectors

    @Test(
        "Header signing matches the AWS SigV4 vectors",
        .enabled(if: isSuitePresent, "AWS SigV4 conformance suite not found at ../shared/conformance/aws-sigv4"),
        arguments: caseNames
    )
    func headerSigningMatchesVector(_ name: String) throws {
        let vector = try Vector(name: name, directory: Self.suiteDirectory)
        var headers = vector.request.headers
        if vector.context.signBody {
            headers.append(HTTPHeader("x-amz-content-sha256", vector.payloadHash))
        }

        let signed = vector.signer.sign(
            method: vector.request.method, path: vector.request.path, query: vector.request.query,
            headers: headers, payloadHash: vector.payloadHash, date: vector.date, normalizePath: vector.context.normalize
        )

        #expect(signed.canonicalRequest == (try vector.expected("header-canonical-request.txt")))
        #expect(signed.stringToSign == (try vector.expected("header-string-to-sign.txt")))
        #expect(signed.signature == (try vector.expected("header-signature.txt")))

        let expectedRequest = try RawRequest(contentsOf: vector.file("header-signed-request.txt"))
        #expect(signed.headers.value(of: "Authorization") == expectedRequest.headers.value(of: "Authorization"))
        #expect(signed.headers.value(of: "X-Amz-Date") == expectedRequest.headers.value(of: "X-Amz-Date"))
    }

    @Test(
        "Query (presigned URL) signing matches the AWS SigV4 vectors",
        .enabled(if: isSuitePresent, "AWS SigV4 conformance suite not found at ../shared/conformance/aws-sigv4"),
        arguments: caseNames
    )
    func querySigningMatchesVector(_ name: String) throws {
        let vector = try Vector(name: name, directory: Self.suiteDirectory)
        guard vector.hasFile("query-canonical-request.txt") else {
            try Test.cancel("\(name) has no query-signing vectors")
        }

        let (signed, authorization) = vector.signer.presign(
            method: vector.request.method, path: vector.request.path, query: vector.request.query,
            headers: vector.request.headers, payloadHash: vector.payloadHash,
            expires: vector.context.expirationInSeconds, date: vector.date, normalizePath: vector.context.normalize
        )

        #expect(signed.canonicalRequest == (try vector.expected("query-canonical-request.txt")))
        #expect(signed.stringToSign == (try vector.expected("query-string-to-sign.txt")))
        #expect(signed.signature == (try vector.expected("query-signature.txt")))
        #expect(signed.headers == vector.request.headers)

        // What we would append must be exactly what the vector's signed URL carries beyond the original query
        // (less the token when the case attaches it unsigned, after signing).
        let expectedRequest = try RawRequest(contentsOf: vector.file("query-signed-request.txt"))
        let added = expectedRequest.query.filter { item in
            !vector.request.query.contains(item) && !(vector.context.omitSessionToken == true && item.name == "X-Amz-Security-Token")
        }
        #expect(authorization.sortedByName == added.sortedByName)
    }

    @Test(
        "Every case folder of the suite is found",
        .enabled(if: isSuitePresent, "AWS SigV4 conformance suite not found at ../shared/conformance/aws-sigv4")
    )
    func discoversEveryCaseFolder() throws {
        let folders = try FileManager.default.contentsOfDirectory(
            at: Self.suiteDirectory, includingPropertiesForKeys: [.isDirectoryKey]
        ).filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        #expect(!Self.caseNames.isEmpty)
        #expect(Self.caseNames.count == folders.count)
    }

    // MARK: - S3's own rules

    @Test(arguments: [
        ("/bucket/a/../b", "/bucket/a/../b"),
        ("/bucket/a//b", "/bucket/a//b"),
        ("/bucket/./a", "/bucket/./a"),
        ("/bucket/my key (1).txt", "/bucket/my%20key%20%281%29.txt"),
        ("/bucket/ünïcode.mp4", "/bucket/%C3%BCn%C3%AFcode.mp4"),
        ("/bucket/100%25 sure+.csv", "/bucket/100%2525%20sure%2B.csv"),
        ("/bucket/-_.~", "/bucket/-_.~"),
    ])
    func s3KeysAreEncodedOnceAndNeverNormalised(path: String, expected: String) {
        #expect(SigV4Signer.canonicalURI(path, normalize: false) == expected)

        let signed = Self.exampleSigner.sign(
            method: "GET", path: path, query: [], headers: [HTTPHeader("Host", "example.com")],
            payloadHash: "UNSIGNED-PAYLOAD", date: Self.exampleDate
        )
        #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1] == expected)
    }

    @Test func normalisationIsOnlyForOtherServices() {
        #expect(SigV4Signer.canonicalURI("/bucket/a/../b", normalize: true) == "/bucket/b")
        #expect(SigV4Signer.canonicalURI("/bucket/a//b/", normalize: true) == "/bucket/a/b/")
        #expect(SigV4Signer.canonicalURI("", normalize: false) == "/")
    }

    @Test func queryIsEncodedAndSortedByEncodedNameThenValue() {
        let query = SigV4Signer.canonicalQueryString([
            QueryItem("prefix", "photos/2024 jan/"),
            QueryItem("list-type", "2"),
            QueryItem("encoding-type", "url"),
            QueryItem("uploads", ""),
            QueryItem("b", "2"),
            QueryItem("b", "1"),
            QueryItem("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
        ])
        #expect(query == "b=1&b=2&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&encoding-type=url"
            + "&list-type=2&prefix=photos%2F2024%20jan%2F&uploads=")
        #expect(SigV4Signer.percentEncode("a b/ü~*", keepSlash: false) == "a%20b%2F%C3%BC~%2A")
    }

    /// "Example: GET Object" of the S3 SigV4 documentation, which signs x-amz-content-sha256 and a Range header.
    @Test func matchesTheS3DocumentationGetObjectExample() {
        let signer = SigV4Signer(credentials: S3Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ), region: "us-east-1")
        let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        let signed = signer.sign(
            method: "GET", path: "/test.txt", query: [],
            headers: [
                HTTPHeader("Host", "examplebucket.s3.amazonaws.com"),
                HTTPHeader("Range", "bytes=0-9"),
                HTTPHeader("x-amz-content-sha256", emptyHash),
            ],
            payloadHash: emptyHash, date: Self.s3ExampleDate
        )
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.headers.value(of: "Authorization") == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The presigned-URL example of the same documentation: S3 presigns with UNSIGNED-PAYLOAD.
    @Test func matchesTheS3DocumentationPresignedURLExample() {
        let signer = SigV4Signer(credentials: S3Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ), region: "us-east-1")
        let (signed, query) = signer.presign(
            method: "GET", path: "/test.txt", query: [], headers: [HTTPHeader("Host", "examplebucket.s3.amazonaws.com")],
            expires: 86_400, date: Self.s3ExampleDate
        )
        #expect(signed.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(SigV4Signer.canonicalQueryString(query) == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
            + "&X-Amz-Expires=86400&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            + "&X-Amz-SignedHeaders=host")
    }

    @Test func sessionTokenIsSentAndSigned() {
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "TOKEN/+="), region: "eu-west-1")
        let signed = signer.sign(
            method: "PUT", path: "/b/k", query: [], headers: [HTTPHeader("Host", "s3.example.com")],
            payloadHash: "UNSIGNED-PAYLOAD", date: Self.exampleDate
        )
        #expect(signed.headers.value(of: "X-Amz-Security-Token") == "TOKEN/+=")
        #expect(signed.canonicalRequest.contains("\nx-amz-security-token:TOKEN/+=\n"))
        #expect(signed.headers.value(of: "Authorization")?.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,") == true)
    }

    /// A retry signs the headers of the previous attempt again; it must not send two dates or two signatures.
    @Test func resigningReplacesTheGeneratedHeaders() {
        let first = Self.exampleSigner.sign(
            method: "GET", path: "/b/k", query: [], headers: [HTTPHeader("Host", "s3.example.com")],
            payloadHash: "UNSIGNED-PAYLOAD", date: Self.exampleDate
        )
        let second = Self.exampleSigner.sign(
            method: "GET", path: "/b/k", query: [], headers: first.headers,
            payloadHash: "UNSIGNED-PAYLOAD", date: Self.exampleDate.addingTimeInterval(60)
        )
        #expect(second.headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
        #expect(second.headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value) == ["20150830T123700Z"])
    }

    @Test func credentialsNeverPrintTheSecretOrToken() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let token = "FQoGZXIvYXdzEXAMPLETOKEN"
        let credentials = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret, sessionToken: token)
        var dumped = ""
        dump(credentials, to: &dumped)

        for rendering in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(!rendering.contains(secret))
            #expect(!rendering.contains(token))
            #expect(rendering.contains("<redacted>"))
        }
        #expect(credentials.description.hasPrefix("S3Credentials(accessKeyID: AKID"))
    }

    // MARK: - Fixtures

    static let exampleSigner = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"), region: "us-east-1")
    /// 2015-08-30T12:36:00Z, the suite's signing time.
    static let exampleDate = Date(timeIntervalSince1970: 1_440_938_160)
    /// 2013-05-24T00:00:00Z, the S3 documentation examples' signing time.
    static let s3ExampleDate = Date(timeIntervalSince1970: 1_369_353_600)
}

extension SigV4ConformanceTests {
    /// One case folder: its context, its parsed request and access to its expected outputs.
    struct Vector {
        let directory: URL
        let context: Context
        let request: RawRequest
        let date: Date

        init(name: String, directory suite: URL) throws {
            directory = suite.appendingPathComponent(name, isDirectory: true)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            context = try decoder.decode(Context.self, from: Data(contentsOf: directory.appendingPathComponent("context.json")))
            request = try RawRequest(contentsOf: directory.appendingPathComponent("request.txt"))
            guard let date = ISO8601DateFormatter().date(from: context.timestamp) else {
                throw VectorError("unreadable timestamp \(context.timestamp) in \(name)")
            }
            self.date = date
        }

        /// A case with `omit_session_token` attaches the token only after signing, so it is not part of
        /// what is signed; our signer always signs a token (S3 requires it), so such a case is signed without one.
        var signer: SigV4Signer {
            let credentials = S3Credentials(
                accessKeyID: context.credentials.accessKeyId,
                secretAccessKey: context.credentials.secretAccessKey,
                sessionToken: context.omitSessionToken == true ? nil : context.credentials.token
            )
            return SigV4Signer(credentials: credentials, region: context.region, service: context.service)
        }

        /// The vectors hash the body whether or not they send x-amz-content-sha256 (`sign_body`).
        var payloadHash: String { SigV4Signer.hexSHA256(request.body) }

        func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

        func hasFile(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

        /// An expected output, without the line break an editor may have left at its end.
        func expected(_ name: String) throws -> String {
            let text = try String(contentsOf: file(name), encoding: .utf8)
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
    }

    /// `context.json`.
    struct Context: Decodable {
        struct Credentials: Decodable {
            let accessKeyId: String
            let secretAccessKey: String
            let token: String?
        }

        let credentials: Credentials
        let expirationInSeconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let signBody: Bool
        let timestamp: String
        /// Only in the cases that attach the token after signing.
        let omitSessionToken: Bool?
    }

    /// A raw HTTP/1.1 request as the suite writes it: request line, headers (a line starting with
    /// white space continues the previous header's value), a blank line, the body.
    struct RawRequest {
        let method: String
        /// Percent-decoded, as the signer takes it.
        let path: String
        /// Percent-decoded, in the order written.
        let query: [QueryItem]
        let headers: [HTTPHeader]
        let body: Data

        init(contentsOf url: URL) throws {
            let data = try Data(contentsOf: url)
            let separator = Data("\n\n".utf8)
            let head: Data
            if let blank = data.range(of: separator) {
                head = data[..<blank.lowerBound]
                body = data[blank.upperBound...]
            } else {
                head = data
                body = Data()
            }

            let lines = String(decoding: head, as: UTF8.self)
                .replacingOccurrences(of: "\r\n", with: "\n")
                .split(separator: "\n", omittingEmptySubsequences: false)
            guard let requestLine = lines.first,
                  let firstSpace = requestLine.firstIndex(of: " "),
                  let lastSpace = requestLine.lastIndex(of: " "), firstSpace < lastSpace
            else { throw VectorError("unreadable request line in \(url.path)") }

            method = String(requestLine[..<firstSpace])
            let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]
            let rawPath = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            path = Self.percentDecoded(rawPath)
            if let questionMark = target.firstIndex(of: "?") {
                query = target[target.index(after: questionMark)...]
                    .split(separator: "&")
                    .map { pair in
                        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        return QueryItem(Self.percentDecoded(parts[0]), parts.count > 1 ? Self.percentDecoded(parts[1]) : "")
                    }
            } else {
                query = []
            }

            var headers: [HTTPHeader] = []
            for line in lines.dropFirst() where !line.isEmpty {
                if line.first == " " || line.first == "\t", !headers.isEmpty {
                    // Obsolete line folding (RFC 7230 3.2.4): the break and its indentation read as one space.
                    headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                } else if let colon = line.firstIndex(of: ":") {
                    headers.append(HTTPHeader(String(line[..<colon]), String(line[line.index(after: colon)...])))
                } else {
                    throw VectorError("unreadable header line \"\(line)\" in \(url.path)")
                }
            }
            self.headers = headers
        }

        /// The suite writes most paths raw (spaces, UTF-8) and some queries already encoded; decoding both gives the signer one form.
        private static func percentDecoded(_ text: Substring) -> String {
            String(text).removingPercentEncoding ?? String(text)
        }
    }

    struct VectorError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension [HTTPHeader] {
    /// The value of the header so named, compared case-insensitively; nil when absent.
    fileprivate func value(of name: String) -> String? {
        first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

extension [QueryItem] {
    fileprivate var sortedByName: [QueryItem] {
        sorted { ($0.name, $0.value) < ($1.name, $1.value) }
    }
}

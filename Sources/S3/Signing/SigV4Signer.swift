public import Foundation
import Crypto

/// Signs requests with AWS Signature Version 4, in headers or as a presigned URL.
///
/// Holds no cache: the signing key is derived per request (four HMACs, cheap next to the
/// request itself), so a signer can be shared freely and credentials swapped by making a new one.
public struct SigV4Signer: Sendable {
    static let algorithm = "AWS4-HMAC-SHA256"

    let credentials: S3Credentials
    let region: String
    let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Header-based signing. `path` is the DECODED path, e.g. "/bucket/my key (1).txt". `headers` must contain Host.
    /// `payloadHash` is the hex SHA-256 of the body or "UNSIGNED-PAYLOAD"; the caller adds x-amz-content-sha256 to
    /// `headers` itself when it wants it sent and signed (S3 requires it; the conformance vectors don't have it).
    /// `normalizePath`: false for S3 (keys are encoded once, never normalised: "a/../b" and "a//b" are distinct
    /// keys); true for other services (remove dot segments, collapse repeated slashes).
    public func sign(
        method: String,
        path: String,
        query: [QueryItem],
        headers: [HTTPHeader],
        payloadHash: String,
        date: Date,
        normalizePath: Bool = false
    ) -> SigV4Signature {
        let timestamp = SigV4Timestamp(date)
        let token = credentials.effectiveSessionToken

        // Drop what this call generates, so re-signing a retried request's headers does not send two of each.
        var outgoing = headers.filter { header in
            let name = CanonicalHeaders.lowercaseASCII(header.name)
            return name != "authorization" && name != "x-amz-date" && !(token != nil && name == "x-amz-security-token")
        }
        outgoing.append(HTTPHeader("X-Amz-Date", timestamp.dateTime))
        if let token {
            outgoing.append(HTTPHeader("X-Amz-Security-Token", token))
        }

        let canonicalHeaders = CanonicalHeaders(outgoing)
        let scope = credentialScope(timestamp)
        let canonicalRequest = Self.canonicalRequest(
            method: method,
            uri: Self.canonicalURI(path, normalize: normalizePath),
            query: Self.canonicalQueryString(query),
            headers: canonicalHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = Self.stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp, scope: scope)
        let signature = self.signature(of: stringToSign, day: timestamp.day)

        outgoing.append(HTTPHeader(
            "Authorization",
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonicalHeaders.signedHeaders), Signature=\(signature)"
        ))
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, headers: outgoing)
    }

    /// Query-string (presigned URL) signing: returns the signature with `headers` unchanged, and the
    /// `X-Amz-*` query items (ending with `X-Amz-Signature`) to send alongside `query`.
    ///
    /// `payloadHash` defaults to "UNSIGNED-PAYLOAD", what S3 expects of a presigned URL whose body
    /// is not known when the URL is made; other services sign the body's hash.
    public func presign(
        method: String,
        path: String,
        query: [QueryItem],
        headers: [HTTPHeader],
        payloadHash: String = "UNSIGNED-PAYLOAD",
        expires: Int,
        date: Date,
        normalizePath: Bool = false
    ) -> (signature: SigV4Signature, query: [QueryItem]) {
        let timestamp = SigV4Timestamp(date)
        let canonicalHeaders = CanonicalHeaders(headers)
        let scope = credentialScope(timestamp)

        var authorization = [
            QueryItem("X-Amz-Algorithm", Self.algorithm),
            QueryItem("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            QueryItem("X-Amz-Date", timestamp.dateTime),
            QueryItem("X-Amz-Expires", String(expires)),
        ]
        if let token = credentials.effectiveSessionToken {
            authorization.append(QueryItem("X-Amz-Security-Token", token))
        }
        authorization.append(QueryItem("X-Amz-SignedHeaders", canonicalHeaders.signedHeaders))

        let canonicalRequest = Self.canonicalRequest(
            method: method,
            uri: Self.canonicalURI(path, normalize: normalizePath),
            query: Self.canonicalQueryString(query + authorization),
            headers: canonicalHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = Self.stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp, scope: scope)
        let signature = self.signature(of: stringToSign, day: timestamp.day)

        authorization.append(QueryItem("X-Amz-Signature", signature))
        let result = SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, headers: headers)
        return (result, authorization)
    }

    private func credentialScope(_ timestamp: SigV4Timestamp) -> String {
        "\(timestamp.day)/\(region)/\(service)/aws4_request"
    }

    private static func canonicalRequest(
        method: String,
        uri: String,
        query: String,
        headers: CanonicalHeaders,
        payloadHash: String
    ) -> String {
        // The header block ends in "\n" itself; the extra "\n" is the blank line AWS puts before the signed-header list.
        "\(method)\n\(uri)\n\(query)\n\(headers.block)\n\(headers.signedHeaders)\n\(payloadHash)"
    }

    private static func stringToSign(canonicalRequest: String, timestamp: SigV4Timestamp, scope: String) -> String {
        let requestHash = Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8)))
        return "\(algorithm)\n\(timestamp.dateTime)\n\(scope)\n\(requestHash)"
    }

    /// HMAC chain date → region → service → "aws4_request", then the string to sign under the result.
    private func signature(of stringToSign: String, day: String) -> String {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for scopePart in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(scopePart.utf8), using: key))
        }
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }
}

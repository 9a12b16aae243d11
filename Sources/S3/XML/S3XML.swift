public import Foundation

/// Reads the XML answers of the S3 operations Lifeboat uses, and writes the one request body it sends.
public enum S3XML {
    /// ListObjectsV2 response. With `urlEncodedKeys` (we request `encoding-type=url` so that keys with
    /// control characters survive XML 1.0), keys and prefixes are decoded, but only if the document
    /// says `<EncodingType>url</EncodingType>`: a provider that ignores the parameter sends raw keys
    /// and no such element, and decoding those would corrupt keys holding "%" or "+".
    public static func listObjectsV2(_ data: Data, urlEncodedKeys: Bool) throws(S3XMLError) -> ListObjectsPage {
        let root = try XMLElementTree.parse(data)
        try expectRoot(root, "ListBucketResult")

        let isEncoded = urlEncodedKeys && root.text(of: "EncodingType")?.trimmedXMLValue.lowercased() == "url"
        func decoded(_ value: String) throws(S3XMLError) -> String {
            isEncoded ? try URLEncodedListingValue.decode(value) : value
        }

        var objects: [ListedObject] = []
        for contents in root.children("Contents") {
            guard let key = contents.text(of: "Key") else {
                throw S3XMLError("expected <Key> in each <Contents> of <ListBucketResult>")
            }
            guard let sizeText = contents.text(of: "Size"), let size = Int64(sizeText.trimmedXMLValue), size >= 0 else {
                throw S3XMLError("expected a byte count in <Size> of <Contents> for key \"\(key)\"")
            }
            objects.append(ListedObject(
                key: try decoded(key),
                size: size,
                etag: unquoted(contents.text(of: "ETag") ?? ""),
                lastModified: contents.text(of: "LastModified").flatMap { S3Timestamp.parse($0.trimmedXMLValue) }
            ))
        }

        var commonPrefixes: [String] = []
        for group in root.children("CommonPrefixes") {
            for prefix in group.children("Prefix") {
                commonPrefixes.append(try decoded(prefix.text))
            }
        }

        let isTruncated = try boolean(root.text(of: "IsTruncated"), element: "IsTruncated")
        let token = root.text(of: "NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        // Without a token a truncated listing cannot be continued; carrying on would treat every
        // later object as deleted, so refuse the page instead.
        if isTruncated && token == nil {
            throw S3XMLError("expected <NextContinuationToken> in a <ListBucketResult> whose <IsTruncated> is true")
        }
        return ListObjectsPage(objects: objects, commonPrefixes: commonPrefixes, isTruncated: isTruncated, nextContinuationToken: token)
    }

    /// The `<Error>` document S3 providers send (Code, Message, RequestId, Resource); nil when the body is not one.
    public static func errorBody(_ data: Data) -> S3ErrorBody? {
        guard let root = try? XMLElementTree.parse(data) else { return nil }
        return errorBody(root)
    }

    /// The `UploadId` of an InitiateMultipartUpload (CreateMultipartUpload) answer.
    public static func initiateMultipartUploadID(_ data: Data) throws(S3XMLError) -> String {
        let root = try XMLElementTree.parse(data)
        try expectRoot(root, "InitiateMultipartUploadResult")
        guard let uploadID = root.text(of: "UploadId")?.trimmedXMLValue, !uploadID.isEmpty else {
            throw S3XMLError("expected <UploadId> in <InitiateMultipartUploadResult>")
        }
        return uploadID
    }

    /// ListMultipartUploads: the uploads begun and neither completed nor aborted, one page.
    public static func listMultipartUploads(_ data: Data) throws(S3XMLError) -> MultipartUploadsPage {
        let root = try XMLElementTree.parse(data)
        try expectRoot(root, "ListMultipartUploadsResult")
        let isEncoded = root.text(of: "EncodingType")?.trimmedXMLValue.lowercased() == "url"
        var uploads: [MultipartUploadsPage.Upload] = []
        for upload in root.children("Upload") {
            guard let key = upload.text(of: "Key"), let uploadID = upload.text(of: "UploadId")?.trimmedXMLValue else {
                throw S3XMLError("expected <Key> and <UploadId> in each <Upload> of <ListMultipartUploadsResult>")
            }
            uploads.append(.init(
                key: isEncoded ? try URLEncodedListingValue.decode(key) : key, uploadID: uploadID,
                initiated: upload.text(of: "Initiated").flatMap { S3Timestamp.parse($0.trimmedXMLValue) }))
        }
        let nextKey = root.text(of: "NextKeyMarker").map { isEncoded ? ((try? URLEncodedListingValue.decode($0)) ?? $0) : $0 }
        return MultipartUploadsPage(
            uploads: uploads,
            isTruncated: try boolean(root.text(of: "IsTruncated"), element: "IsTruncated"),
            nextKeyMarker: nextKey,
            nextUploadIDMarker: root.text(of: "NextUploadIdMarker")?.trimmedXMLValue)
    }

    /// CompleteMultipartUpload can answer 200 with an `<Error>` body: that comes back as `.failed`.
    public static func completeMultipartUpload(_ data: Data) throws(S3XMLError) -> CompleteMultipartOutcome {
        let root = try XMLElementTree.parse(data)
        if let failure = errorBody(root) {
            return .failed(failure)
        }
        // AWS names the answer ...Result; moto and some older gateways ...Response. Same content.
        if root.name != "CompleteMultipartUploadResponse" {
            try expectRoot(root, "CompleteMultipartUploadResult")
        }
        guard let etag = root.text(of: "ETag").map(unquoted), !etag.isEmpty else {
            throw S3XMLError("expected <ETag> in <CompleteMultipartUploadResult>")
        }
        return .completed(etag: etag)
    }

    /// The request body for CompleteMultipartUpload. Parts are written in ascending order whatever
    /// order they come in (S3 rejects any other with InvalidPartOrder), each ETag in quotes.
    /// A part's checksum is listed when the upload declared the SHA256 algorithm: S3 then requires it.
    public static func completeMultipartUploadBody(parts: [CompletedPart]) -> Data {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(escaped("\"" + unquoted(part.etag) + "\""))</ETag>"
            if let checksum = part.checksumSHA256 { xml += "<ChecksumSHA256>\(escaped(checksum))</ChecksumSHA256>" }
            xml += "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        return Data(xml.utf8)
    }

    private static func errorBody(_ root: XMLElementTree) -> S3ErrorBody? {
        guard root.name == "Error", let code = root.text(of: "Code")?.trimmedXMLValue, !code.isEmpty else { return nil }
        return S3ErrorBody(
            code: code,
            message: root.text(of: "Message") ?? "",
            // "RequestID" is not what AWS writes, but some gateways do.
            requestID: (root.text(of: "RequestId") ?? root.text(of: "RequestID")).flatMap { $0.isEmpty ? nil : $0 },
            resource: root.text(of: "Resource").flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    private static func expectRoot(_ root: XMLElementTree, _ name: String) throws(S3XMLError) {
        guard root.name == name else {
            throw S3XMLError("expected a <\(name)> document, found <\(root.name)>")
        }
    }

    private static func boolean(_ text: String?, element: String) throws(S3XMLError) -> Bool {
        switch text?.trimmedXMLValue.lowercased() {
        case nil: return false
        case "true": return true
        case "false": return false
        case let other?: throw S3XMLError("expected true or false in <\(element)>, found \"\(other)\"")
        }
    }

    /// ETags arrive quoted (`"9b2cf535f27731c974343645a3985328"`); the quotes are not part of the value.
    static func unquoted(_ etag: String) -> String {
        let trimmed = etag.trimmedXMLValue
        guard trimmed.count >= 2, trimmed.hasPrefix("\""), trimmed.hasSuffix("\"") else { return trimmed }
        return String(trimmed.dropFirst().dropLast())
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    /// Without the spaces, tabs and line breaks that pretty-printed XML puts around values.
    fileprivate var trimmedXMLValue: String {
        trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

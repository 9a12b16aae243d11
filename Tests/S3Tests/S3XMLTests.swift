import Foundation
import S3
import Testing

/// The XML answers of the operations Lifeboat uses, written the way AWS, moto, MinIO and R2 send them.
struct S3XMLTests {
    // MARK: - ListObjectsV2

    @Test func readsAPlainListingWithQuotedETagsAndCommonPrefixes() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                <Name>example-bucket</Name>
                <Prefix></Prefix>
                <KeyCount>3</KeyCount>
                <MaxKeys>1000</MaxKeys>
                <Delimiter>/</Delimiter>
                <IsTruncated>false</IsTruncated>
                <Contents>
                    <Key>sample.jpg</Key>
                    <LastModified>2011-02-26T01:56:20.000Z</LastModified>
                    <ETag>&quot;bf1d737a4d46a19f3bced6905cc8b902&quot;</ETag>
                    <Size>142863</Size>
                    <StorageClass>STANDARD</StorageClass>
                </Contents>
                <Contents>
                    <Key>video &amp; notes.mp4</Key>
                    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                    <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
                    <Size>5368709120</Size>
                    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>
                    <StorageClass>STANDARD</StorageClass>
                </Contents>
                <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>
                <CommonPrefixes><Prefix>videos/</Prefix></CommonPrefixes>
            </ListBucketResult>
            """.utf8), urlEncodedKeys: false)

        #expect(page.objects == [
            ListedObject(key: "sample.jpg", size: 142_863, etag: "bf1d737a4d46a19f3bced6905cc8b902",
                         lastModified: Date(timeIntervalSince1970: 1_298_685_380)),
            ListedObject(key: "video & notes.mp4", size: 5_368_709_120, etag: "3858f62230ac3c915f300c664312c11f-9",
                         lastModified: Date(timeIntervalSince1970: 1_255_369_830)),
        ])
        #expect(page.commonPrefixes == ["photos/", "videos/"])
        #expect(!page.isTruncated)
        #expect(page.nextContinuationToken == nil)
    }

    @Test func followsPaginationThroughTheContinuationToken() throws {
        let first = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>logs/</Prefix>\
            <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>\
            <Contents><Key>logs/a</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"aa"</ETag><Size>1</Size></Contents>\
            <Contents><Key>logs/b</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"bb"</ETag><Size>2</Size></Contents>\
            <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>\
            </ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        #expect(first.isTruncated)
        #expect(first.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(first.objects.map(\.key) == ["logs/a", "logs/b"])

        let last = try S3XML.listObjectsV2(Data("""
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>logs/</Prefix>\
            <ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>\
            <KeyCount>1</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>false</IsTruncated>\
            <Contents><Key>logs/c</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"cc"</ETag><Size>3</Size></Contents>\
            </ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        #expect(!last.isTruncated)
        #expect(last.nextContinuationToken == nil)
        #expect(last.objects.map(\.key) == ["logs/c"])
    }

    @Test func readsAnEmptyListing() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>none/</Prefix>\
            <KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>
            """.utf8), urlEncodedKeys: true)
        #expect(page.objects.isEmpty)
        #expect(page.commonPrefixes.isEmpty)
    }

    /// A truncated page without a token cannot be continued; taking it as complete would make every later key look deleted.
    @Test func refusesATruncatedListingWithoutAToken() {
        #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data("""
                <ListBucketResult><IsTruncated>true</IsTruncated>\
                <Contents><Key>a</Key><ETag>"aa"</ETag><Size>1</Size></Contents></ListBucketResult>
                """.utf8), urlEncodedKeys: false)
        }
    }

    /// AWS writes a space as "+" and a literal "+" as "%2B" (form encoding); control characters,
    /// which XML 1.0 cannot carry, arrive as escapes.
    @Test func decodesAWSStyleURLEncodedKeysAndPrefixes() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix></Prefix>\
            <KeyCount>5</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType>\
            <IsTruncated>false</IsTruncated>\
            <Contents><Key>a+b%2Bc.txt</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>&quot;11&quot;</ETag><Size>1</Size></Contents>\
            <Contents><Key>%C3%BCn%C3%AFcode.mp4</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>&quot;22&quot;</ETag><Size>2</Size></Contents>\
            <Contents><Key>line%0Abreak%09tab.txt</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>&quot;33&quot;</ETag><Size>3</Size></Contents>\
            <Contents><Key>100%25.csv</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>&quot;44&quot;</ETag><Size>4</Size></Contents>\
            <Contents><Key>a/../b</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>&quot;55&quot;</ETag><Size>5</Size></Contents>\
            <CommonPrefixes><Prefix>run+books/</Prefix></CommonPrefixes>\
            <CommonPrefixes><Prefix>%ED%95%9C%EA%B8%80/</Prefix></CommonPrefixes>\
            </ListBucketResult>
            """.utf8), urlEncodedKeys: true)
        #expect(page.objects.map(\.key) == ["a b+c.txt", "ünïcode.mp4", "line\nbreak\ttab.txt", "100%.csv", "a/../b"])
        #expect(page.commonPrefixes == ["run books/", "한글/"])
    }

    /// What moto 5.2.1 answers to `?list-type=2&encoding-type=url&delimiter=/` (captured from a
    /// running moto_server): a space as "%20", "~" left alone, "*" escaped.
    @Test func decodesMotoStyleURLEncodedKeys() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="utf-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>\
            <Contents><Key>a%20b%2Bc.txt</Key><LastModified>2026-11-25T12:01:04.000Z</LastModified><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>\
            <Contents><Key>amp%26%3Clt%3E.txt</Key><LastModified>2026-11-25T12:01:09.000Z</LastModified><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>\
            <Contents><Key>tilde~star%2A.txt</Key><LastModified>2026-11-25T12:01:09.000Z</LastModified><ETag>"5d41402abc4b2a76b9719d911017c592"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>\
            <Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>3</MaxKeys>\
            <CommonPrefixes><Prefix>dir/x%20y/</Prefix></CommonPrefixes><EncodingType>url</EncodingType><KeyCount>3</KeyCount>\
            <NextContinuationToken>3c78607966124e34c48f34509728eaf9</NextContinuationToken></ListBucketResult>
            """.utf8), urlEncodedKeys: true)
        #expect(page.objects.map(\.key) == ["a b+c.txt", "amp&<lt>.txt", "tilde~star*.txt"])
        #expect(page.objects.allSatisfy { $0.etag == "5d41402abc4b2a76b9719d911017c592" && $0.size == 5 })
        #expect(page.commonPrefixes == ["dir/x y/"])
        #expect(page.nextContinuationToken == "3c78607966124e34c48f34509728eaf9")
    }

    /// Some gateways ignore `encoding-type`: no `<EncodingType>` comes back and the keys are raw,
    /// so decoding them would turn "100%25" into "100%" and "a+b" into "a b".
    @Test func leavesKeysRawWhenTheProviderDidNotEncodeThem() throws {
        let document = Data("""
            <ListBucketResult><IsTruncated>false</IsTruncated>\
            <Contents><Key>100%25 a+b.txt</Key><ETag>"aa"</ETag><Size>1</Size></Contents></ListBucketResult>
            """.utf8)
        #expect(try S3XML.listObjectsV2(document, urlEncodedKeys: true).objects.map(\.key) == ["100%25 a+b.txt"])
        #expect(try S3XML.listObjectsV2(document, urlEncodedKeys: false).objects.map(\.key) == ["100%25 a+b.txt"])
    }

    @Test func keepsTheSpacesAroundAKey() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <ListBucketResult><IsTruncated>false</IsTruncated>\
            <Contents><Key>  padded name  </Key><ETag>"aa"</ETag><Size>1</Size></Contents></ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        #expect(page.objects.map(\.key) == ["  padded name  "])
    }

    @Test(arguments: [
        ("2011-02-26T01:56:20.000Z", 1_298_685_380.0),
        ("2011-02-26T01:56:20Z", 1_298_685_380.0),
        ("2024-02-29T23:59:59.5Z", 1_709_251_199.5),
        ("2024-03-01T01:00:00+02:00", 1_709_247_600.0),
        ("1969-12-31T23:59:59Z", -1.0),
    ])
    func readsLastModifiedWithOrWithoutFractionsAndOffsets(text: String, secondsSince1970: Double) throws {
        let page = try S3XML.listObjectsV2(Data("""
            <ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>\
            <LastModified>\(text)</LastModified><ETag>"e"</ETag><Size>0</Size></Contents></ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        let lastModified = try #require(page.objects.first?.lastModified)
        #expect(abs(lastModified.timeIntervalSince1970 - secondsSince1970) < 0.000_1)
    }

    @Test func leavesAnUnreadableLastModifiedOut() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>\
            <LastModified>Tue, 05 Mar 2024 10:00:00 GMT</LastModified><ETag>"e"</ETag><Size>0</Size></Contents></ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        #expect(page.objects.first?.lastModified == nil)
    }

    @Test func namesWhatWasExpectedWhenAListingIsMalformed() throws {
        let notXML = #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data("<html><body>502 Bad Gateway".utf8), urlEncodedKeys: false)
        }
        #expect(notXML?.message.contains("well-formed XML") == true)

        let wrongDocument = #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".utf8), urlEncodedKeys: false)
        }
        #expect(wrongDocument?.message.contains("<ListBucketResult>") == true)

        let noSize = #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>".utf8), urlEncodedKeys: false)
        }
        #expect(noSize?.message.contains("<Size>") == true)

        let badEscape = #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data("""
                <ListBucketResult><EncodingType>url</EncodingType><Contents><Key>bad%G1</Key><Size>1</Size></Contents></ListBucketResult>
                """.utf8), urlEncodedKeys: true)
        }
        #expect(badEscape?.message.contains("%XX") == true)

        #expect(throws: S3XMLError.self) { try S3XML.listObjectsV2(Data(), urlEncodedKeys: false) }
    }

    // MARK: - Error documents

    @Test func readsAnAWSErrorDocument() {
        let body = S3XML.errorBody(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>NoSuchKey</Code>
              <Message>The resource you requested does not exist</Message>
              <Resource>/mybucket/myfoto.jpg</Resource>
              <RequestId>4442587FB7D0A2F9</RequestId>
              <HostId>dmmpHnhX9ODszHv9e7iL1p2r+VkKoc0yXYk8ShCvNP0rT5XfaFSg4MPY1BZlMdqOGz4eugDeEo4=</HostId>
            </Error>
            """.utf8))
        #expect(body == S3ErrorBody(
            code: "NoSuchKey", message: "The resource you requested does not exist",
            requestID: "4442587FB7D0A2F9", resource: "/mybucket/myfoto.jpg"
        ))
    }

    @Test func readsAMinIOErrorDocument() {
        let body = S3XML.errorBody(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. \
            Check your key and signing method.</Message><Key>photos/a.jpg</Key><BucketName>photos</BucketName>\
            <Resource>/photos/photos/a.jpg</Resource><RequestId>17C1A9E5F0B2D3A4</RequestId>\
            <HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8</HostId></Error>
            """.utf8))
        #expect(body?.code == "SignatureDoesNotMatch")
        #expect(body?.message.hasPrefix("The request signature we calculated") == true)
        #expect(body?.requestID == "17C1A9E5F0B2D3A4")
        #expect(body?.resource == "/photos/photos/a.jpg")
    }

    /// Cloudflare R2 sends no request id and no resource.
    @Test func readsAnR2ErrorDocument() {
        let body = S3XML.errorBody(Data("""
            <?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist.</Message></Error>
            """.utf8))
        #expect(body == S3ErrorBody(code: "NoSuchBucket", message: "The specified bucket does not exist.", requestID: nil, resource: nil))
    }

    @Test(arguments: [
        "",
        "<html><head><title>503 Service Temporarily Unavailable</title></head></html>",
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
        "<Error><Message>no code</Message></Error>",
        "Service Unavailable",
    ])
    func findsNoErrorInOtherBodies(text: String) {
        #expect(S3XML.errorBody(Data(text.utf8)) == nil)
    }

    // MARK: - Multipart upload

    @Test func readsTheUploadIDOfAnInitiatedUpload() throws {
        let uploadID = try S3XML.initiateMultipartUploadID(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>
            """.utf8))
        #expect(uploadID == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
    }

    @Test(arguments: [
        "<?xdin?><ListBucketResult>00Z</LastModified>Godj>SlowDown<<//Co",
        "<?xml version=\"1.0\"?><ListBucketResult><?x?></ListBucketResult>",
        "<ListBucketResult><?target data?></ListBucketResult>",
    ])
    func refusesProcessingInstructionsInsteadOfCrashing(_ document: String) {
        // The first is the input fuzz/run.sh found crashing FoundationXML.
        #expect(throws: S3XMLError.self) {
            try S3XML.listObjectsV2(Data(document.utf8), urlEncodedKeys: false)
        }
    }

    @Test func acceptsTheXMLDeclaration() throws {
        let page = try S3XML.listObjectsV2(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>
            """.utf8), urlEncodedKeys: false)
        #expect(page.objects.isEmpty)
    }

    @Test func readsOpenUploadsWithWhenTheyBegan() throws {
        let page = try S3XML.listMultipartUploads(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>bucket</Bucket>
              <EncodingType>url</EncodingType>
              <NextKeyMarker>p/output/b%20c.mp4</NextKeyMarker>
              <NextUploadIdMarker>id-2</NextUploadIdMarker>
              <IsTruncated>true</IsTruncated>
              <Upload><Key>p/output/a.mp4</Key><UploadId>id-1</UploadId><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
              <Upload><Key>p/output/b%20c.mp4</Key><UploadId>id-2</UploadId></Upload>
            </ListMultipartUploadsResult>
            """.utf8))
        #expect(page.uploads == [
            .init(key: "p/output/a.mp4", uploadID: "id-1", initiated: Date(timeIntervalSince1970: 1_289_422_113)),
            .init(key: "p/output/b c.mp4", uploadID: "id-2", initiated: nil),
        ])
        #expect(page.isTruncated)
        #expect(page.nextKeyMarker == "p/output/b c.mp4")
        #expect(page.nextUploadIDMarker == "id-2")
    }

    @Test func refusesAnInitiatedUploadWithoutAnID() {
        let error = #expect(throws: S3XMLError.self) {
            try S3XML.initiateMultipartUploadID(Data("<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>".utf8))
        }
        #expect(error?.message.contains("<UploadId>") == true)
    }

    @Test func readsACompletedUpload() throws {
        let outcome = try S3XML.completeMultipartUpload(Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
              <Bucket>Example-Bucket</Bucket>
              <Key>Example-Object</Key>
              <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>
            """.utf8))
        #expect(outcome == .completed(etag: "3858f62230ac3c915f300c664312c11f-9"))
    }

    /// S3 answers 200 at once and may only find the failure later: it keeps the connection alive
    /// with white space, then sends an `<Error>` document in the 200's body.
    @Test func reportsTheErrorInsideASuccessfulCompleteAnswer() throws {
        let outcome = try S3XML.completeMultipartUpload(Data("""
            \n          \n          <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>InternalError</Code>
              <Message>We encountered an internal error. Please try again.</Message>
              <RequestId>656c76696e6727732072657175657374</RequestId>
              <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
            </Error>
            """.utf8))
        #expect(outcome == .failed(S3ErrorBody(
            code: "InternalError", message: "We encountered an internal error. Please try again.",
            requestID: "656c76696e6727732072657175657374", resource: nil
        )))
    }

    @Test func refusesACompleteAnswerThatIsNeitherResultNorError() {
        #expect(throws: S3XMLError.self) {
            try S3XML.completeMultipartUpload(Data("<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>".utf8))
        }
        #expect(throws: S3XMLError.self) {
            try S3XML.completeMultipartUpload(Data("<InitiateMultipartUploadResult/>".utf8))
        }
    }

    @Test func writesTheCompleteBodyInPartOrderWithQuotedETags() throws {
        let body = S3XML.completeMultipartUploadBody(parts: [
            CompletedPart(number: 2, etag: "\"7778aef83f66abc1fa1e8477f296d394\""),
            CompletedPart(number: 1, etag: "a54357aff0632cce46d942af68356b38", checksumSHA256: "abc="),
            CompletedPart(number: 10, etag: "aaaa"),
        ])
        #expect(String(decoding: body, as: UTF8.self) == #"<?xml version="1.0" encoding="UTF-8"?>"#
            + #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
            + #"<Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag><ChecksumSHA256>abc=</ChecksumSHA256></Part>"#
            + #"<Part><PartNumber>2</PartNumber><ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag></Part>"#
            + #"<Part><PartNumber>10</PartNumber><ETag>"aaaa"</ETag></Part>"#
            + "</CompleteMultipartUpload>")
    }

    /// Found by the FuzzS3XML fuzzer: an element name with invalid UTF-8 crashed FoundationXML.
    @Test func invalidUTF8IsRefusedNotParsed() {
        var bytes = Array("<Error><Code>SlowDown</Code><RequestI".utf8)
        bytes += [0xC4]
        bytes += Array("d>1</RequestId></Error>".utf8)
        #expect(S3XML.errorBody(Data(bytes)) == nil)
        #expect(throws: S3XMLError.self) { try S3XML.listObjectsV2(Data(bytes), urlEncodedKeys: true) }
    }
}

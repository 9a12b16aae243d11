import Foundation
import S3

/// Any bytes as an S3 answer: every parser may throw, none may crash or hang.
// Handed to libFuzzer by Driver.swift as the per-input callback.
public func fuzzS3XML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    _ = try? S3XML.listObjectsV2(body, urlEncodedKeys: true)
    _ = try? S3XML.listObjectsV2(body, urlEncodedKeys: false)
    _ = S3XML.errorBody(body)
    _ = try? S3XML.initiateMultipartUploadID(body)
    _ = try? S3XML.completeMultipartUpload(body)
    _ = try? S3XML.listMultipartUploads(body)
    return 0
}

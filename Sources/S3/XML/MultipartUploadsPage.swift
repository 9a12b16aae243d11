/// One page of ListMultipartUploads.
public struct MultipartUploadsPage: Sendable, Equatable {
    public struct Upload: Sendable, Equatable {
        public var key: String
        public var uploadID: String
    }

    public var uploads: [Upload]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
}

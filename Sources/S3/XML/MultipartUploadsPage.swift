public import Foundation

/// One page of ListMultipartUploads.
public struct MultipartUploadsPage: Sendable, Equatable {
    public struct Upload: Sendable, Equatable {
        public var key: String
        public var uploadID: String
        /// When the server says the upload began; nil when it did not say.
        public var initiated: Date?

        public init(key: String, uploadID: String, initiated: Date?) {
            self.key = key
            self.uploadID = uploadID
            self.initiated = initiated
        }
    }

    public var uploads: [Upload]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
}

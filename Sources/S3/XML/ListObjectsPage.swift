/// One ListObjectsV2 response.
public struct ListObjectsPage: Sendable, Equatable {
    public var objects: [ListedObject]
    /// The "directories" rolled up by a delimiter, decoded like the keys.
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// Present whenever `isTruncated` is; pass it back as `continuation-token`, verbatim (it is never URL-encoded).
    public var nextContinuationToken: String?

    public init(objects: [ListedObject], commonPrefixes: [String], isTruncated: Bool, nextContinuationToken: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextContinuationToken = nextContinuationToken
    }
}

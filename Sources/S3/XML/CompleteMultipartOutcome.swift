/// What a CompleteMultipartUpload answer says: S3 can reply 200 and still have failed,
/// putting an `<Error>` document in the body, so the status alone does not tell.
public enum CompleteMultipartOutcome: Sendable, Equatable {
    /// The object exists; `etag` is without quotes (for a multipart object it ends in "-<part count>").
    case completed(etag: String)
    case failed(S3ErrorBody)
}

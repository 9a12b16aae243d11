/// The pieces of one signature, exposed so tests can compare each stage with the official vectors.
public struct SigV4Signature: Sendable {
    /// The canonical request whose hash is signed (AWS's "CanonicalRequest").
    public var canonicalRequest: String
    /// `AWS4-HMAC-SHA256`, timestamp, credential scope and the canonical request's hash, one per line.
    public var stringToSign: String
    /// The lowercase hex HMAC-SHA256 of `stringToSign` under the derived signing key.
    public var signature: String
    /// The headers to send. For header signing: the input headers plus `X-Amz-Date`,
    /// `X-Amz-Security-Token` when the credentials carry a token, and `Authorization`.
    /// For presigning: the input headers unchanged.
    public var headers: [HTTPHeader]
}

/// Where a bucket lives and how to address and sign for it.
public struct S3Configuration: Sendable {
    public var bucket: String
    /// Scheme, host and optional port, e.g. "https://s3.us-east-1.amazonaws.com" or "http://127.0.0.1:9000".
    public var endpoint: String
    public var region: String
    /// Path-style puts the bucket in the path (MinIO, Ceph, most self-hosted servers);
    /// virtual-hosted puts it in the host name (AWS's preferred form).
    public var pathStyle: Bool
    public var credentials: S3Credentials

    public init(bucket: String, endpoint: String? = nil, region: String = "us-east-1", pathStyle: Bool? = nil, credentials: S3Credentials) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint ?? "https://s3.\(region).amazonaws.com"
        self.pathStyle = pathStyle ?? (endpoint != nil)
        self.credentials = credentials
    }

    /// The base URL, Host header and decoded path of an object; an empty key means the bucket itself.
    func location(forKey key: String) -> (base: String, host: String, path: String) {
        let (scheme, authority) = Self.split(endpoint)
        if pathStyle {
            return ("\(scheme)://\(authority)", authority, key.isEmpty ? "/\(bucket)" : "/\(bucket)/\(key)")
        }
        let host = "\(bucket).\(authority)"
        return ("\(scheme)://\(host)", host, "/\(key)")
    }

    private static func split(_ endpoint: String) -> (scheme: String, authority: String) {
        var rest = Substring(endpoint)
        var scheme = "https"
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound]).lowercased()
            rest = rest[range.upperBound...]
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        var authority = String(rest)
        // A default port is left out of Host, as every HTTP client does; signing the port would not match.
        if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
        if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
        return (scheme, authority)
    }
}

import S3

/// Where a mirrored file lives, as an application would record it: the object's full key in the
/// bucket (the remote's prefix included) and, when one can be derived, a URL for it. The URL is
/// only an address: whether it can be fetched without credentials is the bucket's policy.
public struct ObjectLocator: Sendable {
    private let remote: RemoteLocation
    private let s3: AgentConfiguration.S3Settings

    public init(configuration: AgentConfiguration) {
        remote = configuration.remote
        s3 = configuration.s3
    }

    /// `PREFIX/NAME/REL` for an S3 remote; `NAME/REL` (relative to PATH) for a directory remote.
    /// `key` is relative to the remote's prefix, as the journal and `RemoteStore` use it.
    public func fullKey(_ key: String) -> String {
        guard case .s3(_, let prefix) = remote, !prefix.isEmpty else { return key }
        return "\(prefix)/\(key)"
    }

    /// The object's URL, percent-encoded: `ENDPOINT/BUCKET/KEY` (path style) or
    /// `https://BUCKET.s3.REGION.amazonaws.com/KEY` for S3, `file:///PATH/KEY` for a directory.
    public func url(forKey key: String) -> String? {
        switch remote {
        case .directory(let path):
            return "file://" + SigV4Signer.percentEncode("\(path)/\(key)", keepSlash: true)
        case .s3(let bucket, _):
            let path = SigV4Signer.percentEncode(fullKey(key), keepSlash: true)
            guard let endpoint = s3.endpoint else {
                return s3.pathStyle
                    ? "https://s3.\(s3.region).amazonaws.com/\(bucket)/\(path)"
                    : "https://\(bucket).s3.\(s3.region).amazonaws.com/\(path)"
            }
            let (scheme, host, basePath) = Self.split(endpoint)
            guard !host.isEmpty else { return nil }
            return s3.pathStyle
                ? "\(scheme)://\(host)\(basePath)/\(bucket)/\(path)"
                : "\(scheme)://\(bucket).\(host)\(basePath)/\(path)"
        }
    }

    /// Scheme, host (with port) and any base path of an endpoint URL, without credentials someone
    /// may have put in it (`https://user:secret@host`): those must never reach an application.
    private static func split(_ endpoint: String) -> (scheme: String, host: String, path: String) {
        var rest = Substring(endpoint)
        var scheme = "https"
        if let range = rest.range(of: "://") {
            scheme = rest[..<range.lowerBound].lowercased()
            rest = rest[range.upperBound...]
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            host = rest[..<slash]
            path = rest[slash...]
        }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        return (scheme, String(host), String(path))
    }
}

/// The key pair (and, for temporary credentials, the session token) that requests are signed with.
///
/// Every textual form of this value hides the secret and the token: credentials end up in log
/// lines and crash reports through string interpolation far more often than anyone intends.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Set for temporary (STS) credentials; sent as `X-Amz-Security-Token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The token to send, treating an empty string (as an unset environment variable often yields) as none.
    var effectiveSessionToken: String? {
        guard let sessionToken, !sessionToken.isEmpty else { return nil }
        return sessionToken
    }

    public var description: String {
        // Four characters are enough to tell keys apart in a log without publishing the whole ID.
        let shownKeyID = accessKeyID.count > 4 ? "\(accessKeyID.prefix(4))…" : accessKeyID
        let token = effectiveSessionToken == nil ? "" : ", sessionToken: <redacted>"
        return "S3Credentials(accessKeyID: \(shownKeyID), secret: <redacted>\(token))"
    }

    public var debugDescription: String { description }

    /// `dump(_:)` and debuggers walk the mirror, not `description`; give them the redacted form too.
    public var customMirror: Mirror {
        Mirror(self, children: ["redacted": description], displayStyle: .struct)
    }
}

/// The HTTP endpoint could not start: a configuration problem (`lifeboat run` exits 2), worded
/// with the key to change.
public struct StatusServerError: Error, Sendable, CustomStringConvertible {
    public let address: ListenAddress
    /// What the system said, e.g. "Address already in use".
    public let reason: String

    public init(address: ListenAddress, reason: String) {
        self.address = address
        self.reason = reason
    }

    public var description: String {
        "LIFEBOAT_LISTEN: cannot listen on \(address): \(reason) (set another HOST:PORT, or an empty value to turn the endpoint off)"
    }
}

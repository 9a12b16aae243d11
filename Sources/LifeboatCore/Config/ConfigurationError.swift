/// A mistake in the command line or configuration. Commands exit 2 on it; the message names the
/// key (and file line) so the user can fix it without reading the source.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

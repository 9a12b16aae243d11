/// The journal could not be opened or used: locked by another agent, unreadable, or corrupt.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

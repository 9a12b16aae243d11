/// One request header as it goes on the wire; names keep the caller's spelling, signing lowercases them.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

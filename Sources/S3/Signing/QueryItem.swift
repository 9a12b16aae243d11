/// One query parameter, decoded: `SigV4Signer.canonicalQueryString(_:)` does the encoding,
/// so that what is signed and what is sent are encoded by the same code.
public struct QueryItem: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

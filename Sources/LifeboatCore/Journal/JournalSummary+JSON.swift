public import Foundation

extension JournalSummary {
    /// The one JSON object that `status --json` prints and `GET /v1/status` answers: keys sorted,
    /// so that both are byte for byte the same and diff well.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

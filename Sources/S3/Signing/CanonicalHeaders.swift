/// The header part of a canonical request: names lowercased, values trimmed with inner runs of
/// spaces collapsed, repeated names joined with "," in the order sent, sorted by name.
struct CanonicalHeaders: Sendable {
    /// `name:value\n` per header, as it sits in the canonical request.
    let block: String
    /// `name;name;...`, the `SignedHeaders` list.
    let signedHeaders: String

    init(_ headers: [HTTPHeader]) {
        // Sorting by (name, position) keeps repeated headers in the order they were given,
        // which the joined value must preserve (vector get-header-value-order).
        let entries = headers.enumerated()
            .map { (name: Self.lowercaseASCII($0.element.name), value: Self.trimmedAndCollapsed($0.element.value), position: $0.offset) }
            .sorted { lhs, rhs in
                if lhs.name != rhs.name { return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8) }
                return lhs.position < rhs.position
            }

        var block = ""
        var names: [String] = []
        var index = entries.startIndex
        while index < entries.endIndex {
            let name = entries[index].name
            var value = entries[index].value
            index += 1
            while index < entries.endIndex, entries[index].name == name {
                value += "," + entries[index].value
                index += 1
            }
            block += name + ":" + value + "\n"
            names.append(name)
        }
        self.block = block
        self.signedHeaders = names.joined(separator: ";")
    }

    /// Header names are ASCII tokens; lowercasing only A-Z avoids locale and Unicode rules.
    static func lowercaseASCII(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return name }
        return String(decoding: name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// AWS's "Trimall": strip leading and trailing whitespace, turn each inner run of spaces into one.
    static func trimmedAndCollapsed(_ value: String) -> String {
        let space: UInt8 = 0x20, tab: UInt8 = 0x09
        let bytes = value.utf8
        guard let first = bytes.firstIndex(where: { $0 != space && $0 != tab }),
              let last = bytes.lastIndex(where: { $0 != space && $0 != tab })
        else { return "" }

        var output: [UInt8] = []
        output.reserveCapacity(bytes.distance(from: first, to: last) + 1)
        var previousWasSpace = false
        for byte in bytes[first...last] {
            if byte == space {
                if previousWasSpace { continue }
                previousWasSpace = true
            } else {
                previousWasSpace = false
            }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Parsers for the value syntaxes of the contract: durations (`ms`, `s`, `m`, `h`) and sizes
/// (`KiB`, `MiB`, `GiB`, plain bytes).
enum SettingValueParser {
    /// "1s", "250ms", "1h30m". A bare number is refused: "5" could mean seconds or milliseconds.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600))]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var total = Duration.zero
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let number = Double(digits), number.isFinite else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += unit * number
        }
        return total
    }

    /// "64MiB", "512KiB", "1GiB", "1048576".
    static func size(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("B", 1), ("", 1)]
        for (suffix, multiplier) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number) else { continue }
            let bytes = value * Double(multiplier)
            guard bytes >= 0, bytes < Double(Int64.max) else { return nil }
            return Int64(bytes)
        }
        return nil
    }

    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "1", "on": true
        case "false", "no", "0", "off": false
        default: nil
        }
    }
}

extension Duration {
    /// Seconds as a Double, for timestamps and human output.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// The metadata conventions of the remote layout (DESIGN.md): `sha256` as lowercase hex,
/// `mtime` as decimal Unix seconds with a fraction (rclone's convention), `mode` as octal.
enum ObjectMetadata {
    static let sha256 = "sha256"
    static let mtime = "mtime"
    static let mode = "mode"

    /// Sign and magnitude are handled apart: -0.5 s is "-0.5", not "-1.5" or "0.-5".
    static func formatMtime(_ nanoseconds: Int64) -> String {
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        let seconds = magnitude / 1_000_000_000
        let fraction = magnitude % 1_000_000_000
        guard fraction != 0 else { return sign + String(seconds) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(seconds).\(digits)"
    }

    /// Parses without going through Double, which would lose nanoseconds on current dates.
    static func parseMtime(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let unsigned = negative ? text.dropFirst() : Substring(text)
        let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), let seconds = Int64(parts[0]), seconds < Int64.max / 1_000_000_000 else { return nil }
        var nanoseconds: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1].prefix(9)
            guard !fraction.isEmpty, fraction.allSatisfy(\.isNumber), let value = Int64(fraction) else { return nil }
            nanoseconds = value * Int64(pow10(9 - fraction.count))
        }
        let magnitude = seconds * 1_000_000_000 + nanoseconds
        return negative ? -magnitude : magnitude
    }

    static func formatMode(_ mode: UInt32) -> String {
        let octal = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }

    static func parseMode(_ text: String) -> UInt32? {
        guard let value = UInt32(text, radix: 8) else { return nil }
        return value & 0o7777
    }

    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func pow10(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }
}

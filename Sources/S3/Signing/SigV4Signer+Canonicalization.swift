extension SigV4Signer {
    /// The canonical (encoded) URI path: what the transport must put on the wire too, so that what is signed is what is sent.
    ///
    /// With `normalize` false (S3) the path is only encoded: S3 keys are opaque, so "a/../b" and
    /// "a//b" name objects of their own. With `normalize` true (every other service) dot segments are
    /// removed and repeated slashes collapsed first, as RFC 3986 section 5.2.4 and the AWS vectors say.
    public static func canonicalURI(_ path: String, normalize: Bool) -> String {
        let rooted = path.utf8.first == UInt8(ascii: "/") ? path : "/" + path
        return percentEncode(normalize ? removingDotSegments(rooted) : rooted, keepSlash: true)
    }

    /// RFC 3986 encoding as AWS wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (uppercase hex,
    /// UTF-8 bytes); "/" kept when keepSlash.
    public static func percentEncode(_ string: String, keepSlash: Bool) -> String {
        let slash = UInt8(ascii: "/")
        func isKept(_ byte: UInt8) -> Bool { isUnreserved(byte) || (keepSlash && byte == slash) }

        // Most keys and parameters need no escaping; hand those back without copying.
        guard let firstEscaped = string.utf8.firstIndex(where: { !isKept($0) }) else { return string }

        let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = Array(string.utf8[..<firstEscaped])
        output.reserveCapacity(string.utf8.count * 3)
        for byte in string.utf8[firstEscaped...] {
            if isKept(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// "a=1&b=2" canonical form (sorted by encoded name then value, both encoded): the transport
    /// uses this for the wire query too. A parameter without a value is written "name=", as S3 signs it.
    public static func canonicalQueryString(_ items: [QueryItem]) -> String {
        items
            .map { (name: percentEncode($0.name, keepSlash: false), value: percentEncode($0.value, keepSlash: false)) }
            .sorted { lhs, rhs in
                // Byte order, not String order: the encoded forms are ASCII and AWS compares bytes.
                if lhs.name != rhs.name { return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8) }
                return lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
            }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// "/a/./b/../c//d/" → "/a/c/d/": a path that ended in a slash or a dot segment keeps its trailing slash.
    private static func removingDotSegments(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var kept: [Substring] = []
        for segment in segments {
            switch segment {
            case "", ".": continue
            case "..": _ = kept.popLast()
            default: kept.append(segment)
            }
        }
        let last = segments.last
        let endsAsDirectory = last == "" || last == "." || last == ".."
        let joined = "/" + kept.joined(separator: "/")
        return endsAsDirectory && !kept.isEmpty ? joined + "/" : joined
    }
}

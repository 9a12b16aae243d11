/// Decodes the keys and prefixes of a listing requested with `encoding-type=url`.
///
/// AWS encodes them as HTML forms do: a space becomes "+" and a literal "+" becomes "%2B"
/// (botocore decodes with `unquote_plus` for this reason). moto, MinIO and Ceph write a space
/// as "%20" instead, but every provider escapes a literal "+", so reading "+" as a space is right for all.
enum URLEncodedListingValue {
    static func decode(_ encoded: String) throws(S3XMLError) -> String {
        let bytes = Array(encoded.utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return encoded }

        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw S3XMLError("expected %XX escapes in the URL-encoded key \"\(encoded)\"")
                }
                output.append(high << 4 | low)
                index += 3
            default:
                output.append(bytes[index])
                index += 1
            }
        }
        guard let decoded = String(validating: output, as: UTF8.self) else {
            throw S3XMLError("expected UTF-8 in the URL-encoded key \"\(encoded)\"")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

import S3

/// The short, fixed word that labels an upload error in metrics: the provider's own code
/// ("SlowDown", "AccessDenied") for S3, a local category otherwise. Never the message, which may
/// carry paths; and capped to a safe alphabet, since the code comes from the provider's answer.
public enum ErrorCode {
    public static func of(_ error: any Error) -> String {
        switch error {
        case let error as S3Error: sanitized(error.code)
        case is FileReadError: "FileUnreadable"
        case is FileChangedError: "SourceChanged"
        case is RemoteError: "RemoteIO"
        default: "Other"
        }
    }

    static func sanitized(_ code: String) -> String {
        let kept = code.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) }
        let text = String(String.UnicodeScalarView(kept.prefix(64)))
        return text.isEmpty ? "Other" : text
    }
}

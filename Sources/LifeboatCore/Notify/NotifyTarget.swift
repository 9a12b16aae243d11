import Foundation

/// How LIFEBOAT_NOTIFY_URL appears in logs: scheme, host and port only. Webhook URLs often carry
/// a token in the path or query, or credentials before the host, and secrets never reach a log.
enum NotifyTarget {
    static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "the notification URL"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)"
    }
}

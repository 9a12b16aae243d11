import LifeboatCore

/// Any bytes as an agent.conf: the parser may refuse them, never crash, and never put a
/// secret-looking value into its error message.
// Handed to libFuzzer by Driver.swift as the per-input callback.
public func fuzzConfigFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let file = try ConfigFile(path: "fuzz.conf", contents: text)
        for entry in file.entries.values {
            precondition(!entry.key.isEmpty && !entry.key.contains("="), "a key with '=' was accepted")
        }
    } catch {
        let message = error.description
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("AWS_SECRET_ACCESS_KEY=") {
            let secret = line.dropFirst("AWS_SECRET_ACCESS_KEY=".count).trimmingCharacters(in: .whitespaces)
            precondition(secret.count < 8 || !message.contains(secret), "a secret was echoed in an error")
        }
    }
    return 0
}

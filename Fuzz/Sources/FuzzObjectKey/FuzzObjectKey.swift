import LifeboatCore

/// The restore key sanitiser: whatever a remote lists, a key it accepts must stay below the
/// target when joined to it.
// Handed to libFuzzer by Driver.swift as the per-input callback.
public func fuzzObjectKey(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let key = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard ObjectKey.problem(with: key) == nil else { return 0 }
    precondition(!key.hasPrefix("/"), "an absolute key was accepted")
    precondition(!key.contains("\\"), "a backslash was accepted")
    precondition(!key.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "a control character was accepted")
    var depth = 0
    for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
        precondition(!segment.isEmpty && segment != "." && segment != "..", "a key that walks out was accepted")
        depth += 1
    }
    precondition(depth > 0)
    return 0
}

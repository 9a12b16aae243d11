import Foundation
import Synchronization

/// Counts files and bytes as they are mirrored and, when stderr is a terminal, keeps one line
/// up to date with files, bytes, rate and ETA. Silent otherwise, so logs and cron mail stay clean.
public final class TransferProgress: Sendable {
    private struct State {
        var totalFiles = 0
        var totalBytes: Int64 = 0
        var doneFiles = 0
        var doneBytes: Int64 = 0
        var lastDrawn: ContinuousClock.Instant?
        var drewSomething = false
    }

    private let state = Mutex(State())
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let verb: String

    /// `enabled` nil draws only when stderr is a terminal.
    public init(verb: String, enabled: Bool? = nil) {
        self.verb = verb
        self.enabled = enabled ?? (isatty(STDERR_FILENO) == 1)
    }

    public func expect(files: Int, bytes: Int64) {
        state.withLock {
            $0.totalFiles += files
            $0.totalBytes += bytes
        }
        draw(force: true)
    }

    public func finished(bytes: Int64) {
        state.withLock {
            $0.doneFiles += 1
            $0.doneBytes += bytes
        }
        draw(force: false)
    }

    /// Clears the progress line so that the summary starts on a clean line.
    public func end() {
        guard enabled else { return }
        let drew = state.withLock { $0.drewSomething }
        if drew { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func draw(force: Bool) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            if !force, let last = state.lastDrawn, now - last < .milliseconds(200) { return nil }
            state.lastDrawn = now
            state.drewSomething = true
            let elapsed = max((now - started).seconds, 0.001)
            let rate = Double(state.doneBytes) / elapsed
            var text = "\(verb) \(state.doneFiles)/\(state.totalFiles) files, \(ByteFormat.string(state.doneBytes))/\(ByteFormat.string(state.totalBytes)), \(ByteFormat.string(Int64(rate)))/s"
            if rate > 0, state.totalBytes > state.doneBytes {
                text += ", ETA \(Self.duration(Double(state.totalBytes - state.doneBytes) / rate))"
            }
            return text
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    private static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        return "\(whole / 3600)h\(whole % 3600 / 60)m"
    }
}

/// Human sizes in binary units, as the configuration uses them.
public enum ByteFormat {
    public static func string(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

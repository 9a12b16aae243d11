import ArgumentParser
import Foundation
import LifeboatCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the journal says: files, bytes, pending, failed, oldest pending age, last error."
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() async throws {
        // Status is what one runs to find out why mirroring stopped: it needs neither the watched
        // directories nor the remote, only the journal.
        let configuration = try options.load(watches: .mayBeMissing, remoteMustExist: false)
        let summary: JournalSummary
        if FileManager.default.fileExists(atPath: configuration.journalPath) {
            do {
                summary = try await Journal(path: configuration.journalPath, access: .reader).summary()
            } catch {
                printError("\(error)")
                throw ExitCode(ExitStatus.incomplete)
            }
        } else {
            // A fresh machine has no journal yet: that is an empty status, not an error.
            summary = JournalSummary()
        }
        if json {
            print(String(decoding: try summary.jsonData(), as: UTF8.self))
            return
        }
        print("journal:  \(configuration.journalPath)")
        print("remote:   \(configuration.remote)")
        print("files:    \(summary.files) (\(summary.mirrored) mirrored, \(summary.pending) pending, \(summary.failed) failed)")
        print("mirrored: \(ByteFormat.string(summary.bytesMirrored))")
        if summary.pending + summary.failed > 0 {
            print("waiting:  \(ByteFormat.string(summary.bytesPending))")
        }
        if let age = summary.oldestPendingAgeSeconds {
            print(String(format: "oldest pending: %.0fs ago", age))
        }
        if let error = summary.lastError {
            print("last error: \(summary.lastErrorPath ?? ""): \(error)")
        }
    }
}

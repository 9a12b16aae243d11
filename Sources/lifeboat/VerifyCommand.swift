import ArgumentParser
import Foundation
import LifeboatCore
import Logging

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare the journal with the remote: missing objects, size or checksum mismatches; --deep downloads and re-hashes.",
        discussion: """
            Remote objects the journal does not know are listed as untracked (information only). With \
            no journal (a fresh machine) the remote objects are checked against their own sha256 \
            metadata. Exits 0 when everything matches, 1 when anything does not (each named on stderr).
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Print one JSON object: checked, ok, missing, mismatched, untracked.")
    var json = false

    @Flag(name: .long, help: "Download every object and re-hash it.")
    var deep = false

    func run() async throws {
        let configuration = try options.load(watches: .mayBeMissing)
        let logger = Logger(label: "lifeboat")
        var journal: Journal?
        if FileManager.default.fileExists(atPath: configuration.journalPath) {
            do {
                // Read-only beside a running daemon: verify never writes the journal.
                journal = try Journal(path: configuration.journalPath, access: .reader)
            } catch {
                printError("\(error)")
                throw ExitCode(ExitStatus.incomplete)
            }
        }
        let remote = RemoteStoreFactory.make(configuration, logger: logger)
        let verifier = Verifier(configuration: configuration, journal: journal, remote: remote, logger: logger)
        let report: VerifyReport
        do {
            report = try await verifier.run(deep: deep)
        } catch {
            printError("verify failed: \(error)")
            throw ExitCode(ExitStatus.incomplete)
        }

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for key in report.untracked {
                print("untracked \(key.debugDescription): in the remote but not in the journal")
            }
            let reference = report.againstJournal ? "the journal" : "the objects' own checksums (no journal)"
            print("\(report.summary) (against \(reference)) in \(remote.location)")
        }
        for line in report.problemLines { printError(line) }
        if !report.isClean { throw ExitCode(ExitStatus.incomplete) }
    }
}

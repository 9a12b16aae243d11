import ArgumentParser
import Foundation
import LifeboatCore
import Logging

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Pull the remote copy back into the watched directories (or under DIR), verifying SHA-256 and restoring mtime and mode.",
        discussion: """
            A local file that differs from the remote is kept unless --force is given. Keys that would \
            land outside the target (.., absolute paths, control characters, backslashes) or through a \
            symlink in it are refused. Exits 0 when everything was restored and verified, 1 otherwise \
            (each problem named on stderr).
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "List what would be restored; write nothing and leave the journal untouched.")
    var dryRun = false

    @Flag(name: .long, help: "Replace local files whose content differs from the remote copy.")
    var force = false

    @Option(name: .long, help: ArgumentHelp("Restore watch NAME into DIR/NAME instead of the watch directory; the journal is left alone.", valueName: "DIR"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("Restore only the watch named NAME.", valueName: "NAME"))
    var only: String?

    func run() async throws {
        // Missing watch directories are what a restore is for: it creates them.
        let configuration = try options.load(watches: .mayBeMissing)
        if let only, !configuration.watches.contains(where: { $0.name == only }) {
            let names = configuration.watches.map(\.name).joined(separator: ", ")
            throw ConfigurationError("--only \(only): no watch is named \"\(only)\" (the watches are: \(names))")
        }
        if let to, to.isEmpty { throw ConfigurationError("--to: the directory is empty") }
        let logger = Logger(label: "lifeboat")

        // With --to the files are not under the watches, and a dry run writes nothing: neither
        // needs the journal, so neither takes its lock (a daemon may be running).
        var journal: Journal?
        if to == nil, !dryRun {
            do {
                journal = try Journal(path: configuration.journalPath, access: .owner)
            } catch {
                // A daemon owns the journal: restore beside it, writing the rows it restores so
                // that the daemon sees them as mirrored rather than as new files to upload.
                guard let guest = try? Journal(path: configuration.journalPath, access: .guest) else {
                    printError("\(error)")
                    throw ExitCode(ExitStatus.incomplete)
                }
                logger.info("the journal is owned by a running agent; restoring beside it")
                journal = guest
            }
        }
        let remote = RemoteStoreFactory.make(configuration, logger: logger)
        let restorer = Restorer(configuration: configuration, journal: journal, remote: remote, logger: logger)
        let started = ContinuousClock.now
        let report: RestoreReport
        do {
            report = try await restorer.run(Restorer.Options(dryRun: dryRun, force: force, destination: to, only: only))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            printError("restore failed: \(error)")
            throw ExitCode(ExitStatus.incomplete)
        }
        let elapsed = (ContinuousClock.now - started).seconds

        if dryRun {
            for entry in report.wouldRestore {
                print("would restore \(entry.path) (\(ByteFormat.string(entry.size)))")
            }
            print(report.dryRunSummary)
        } else {
            print(report.summary + String(format: " in %.1fs from %@", elapsed, remote.location))
        }
        for line in report.problemLines { printError(line) }
        if !report.isComplete { throw ExitCode(ExitStatus.incomplete) }
    }
}

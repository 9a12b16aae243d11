import ArgumentParser
import Foundation
import LifeboatCore
import Logging

struct ResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync",
        abstract: "Scan every watched tree, hash what is new or changed, upload what is missing, and exit.",
        discussion: "Exits 0 only when every file is durable remotely; 1 when some could not be mirrored (each named on stderr)."
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "List what would be uploaded; upload nothing and leave the journal untouched.")
    var dryRun = false

    func run() async throws {
        let configuration = try options.load(watches: .mustExist)
        let logger = Logger(label: "lifeboat")
        let journal: Journal
        do {
            journal = try Journal(path: configuration.journalPath, access: .owner)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.incomplete)
        }
        let remote = RemoteStoreFactory.make(configuration, logger: logger)
        let started = ContinuousClock.now
        let resync = Resync(configuration: configuration, journal: journal, remote: remote, logger: logger, progress: TransferProgress(verb: "uploading"))
        let report = try await resync.run(dryRun: dryRun)
        let elapsed = (ContinuousClock.now - started).seconds

        if dryRun {
            for candidate in report.wouldUpload {
                print("would upload \(candidate.path) (\(ByteFormat.string(candidate.size)))")
            }
            let bytes = report.wouldUpload.reduce(Int64(0)) { $0 + $1.size }
            print("resync (dry run): \(report.scanned) files, \(report.wouldUpload.count) to upload (\(ByteFormat.string(bytes))), \(report.unchanged) unchanged, \(report.failures.count) failed")
        } else {
            print(String(format: "resync: %d files, %d uploaded (%@), %d unchanged, %d failed in %.1fs to %@",
                         report.scanned, report.uploaded, ByteFormat.string(report.bytesUploaded), report.unchanged, report.failures.count, elapsed, remote.location))
        }
        for failure in report.failures {
            printError("not mirrored: \(failure.path): \(failure.reason)")
        }
        if !report.isComplete { throw ExitCode(ExitStatus.incomplete) }
    }
}

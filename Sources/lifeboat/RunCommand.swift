import ArgumentParser
import Foundation
import LifeboatCore
import Logging
import S3
import ServiceLifecycle
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Reconcile the watched trees with the journal, then watch and mirror until SIGTERM or SIGINT.",
        discussion: "SIGTERM and SIGINT stop taking work, let uploads in flight finish within LIFEBOAT_SHUTDOWN_GRACE and exit 0; anything unfinished stays queued in the journal for the next start."
    )

    @OptionGroup var options: GlobalOptions

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
        // A few quick retries inside a request; longer outages are handled by the journal's
        // per-file backoff, which never gives up.
        let remote = RemoteStoreFactory.make(configuration, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(2)), logger: logger)
        let daemon: MirrorDaemon
        do {
            daemon = try MirrorDaemon(configuration: configuration, journal: journal, remote: remote, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.incomplete)
        }

        var groupConfiguration = ServiceGroupConfiguration(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            // Running past the shutdown grace is not a failure: what did not finish stays queued.
            logger.warning("stopped after the shutdown grace: \(error)")
        }
    }
}

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
        // With restore-on-start, a missing watch directory is simply empty: restore creates it.
        let configuration = try options.load(watches: .mayBeMissing)
        if configuration.restoreOnStart == .never {
            for root in configuration.watches {
                if let problem = root.existenceProblem { throw ConfigurationError("\(SettingKey.watch.rawValue): \(problem)") }
            }
        }
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
        // Metrics exist to be scraped: without the endpoint there is no one to count for.
        let metrics = configuration.listen == nil ? nil : AgentMetrics()
        let notifier = configuration.notifyURL.map { DurableFileNotifier(configuration: .init(url: $0), metrics: metrics, logger: logger) }
        let daemon: MirrorDaemon
        do {
            daemon = try MirrorDaemon(configuration: configuration, journal: journal, remote: remote, logger: logger, metrics: metrics, notifier: notifier)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.incomplete)
        }

        // The group stops services in reverse order: the daemon drains first, then the notifier
        // sends what the last uploads produced, and the endpoint answers probes until the end.
        var services: [any Service] = []
        if let listen = configuration.listen, let metrics {
            guard let address = ListenAddress(listen) else {
                throw ConfigurationError("LIFEBOAT_LISTEN: \"\(listen)\" is not HOST:PORT")
            }
            services.append(StatusServer(
                address: address, watches: configuration.watches, locator: ObjectLocator(configuration: configuration),
                journal: journal, agent: daemon, metrics: metrics, logger: logger))
        }
        if let notifier { services.append(notifier) }
        services.append(daemon)

        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch let error as StatusServerError {
            // Another process on the port, or an address this host does not have: configuration.
            printError("\(error)")
            throw ExitCode(ExitStatus.badConfiguration)
        } catch {
            // Running past the shutdown grace is not a failure: what did not finish stays queued.
            logger.warning("stopped after the shutdown grace: \(error)")
        }
    }
}

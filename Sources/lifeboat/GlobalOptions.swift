import ArgumentParser
import LifeboatCore

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (KEY=VALUE lines).", valueName: "FILE"))
    var config: String?

    func loader() -> ConfigurationLoader {
        ConfigurationLoader(configPath: config)
    }

    /// Loads and validates the configuration and sets up logging from it.
    func load(watches requirement: ConfigurationLoader.WatchRequirement, remoteMustExist: Bool = true) throws -> AgentConfiguration {
        let configuration = try loader().load(watches: requirement, remoteMustExist: remoteMustExist)
        AgentLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        return configuration
    }
}

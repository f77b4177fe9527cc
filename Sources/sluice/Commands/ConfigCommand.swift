import ArgumentParser
import Foundation
import SluiceKit

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print every effective setting and where it came from.",
        discussion: "Order: command-line flags, then sluice.yaml, then SLUICE_* environment variables, then defaults.")

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print the settings as JSON.")
    var json = false

    struct Setting: Encodable {
        var key: String
        var value: String
        var source: String
        var environment: String
        var summary: String
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let settings =
            Configuration.keys.map { key in
                let value = configuration.values.first { $0.key == key.name }!
                return Setting(
                    key: key.name, value: value.shown, source: value.source.description, environment: key.environmentName,
                    summary: key.summary)
            }
            + configuration.notify.map {
                Setting(
                    key: "notify", value: $0.summary, source: "config file \(Configuration.fileName)", environment: "",
                    summary: "where every pipeline's manual-review notification goes")
            }
        if json { return Console.printJSON(settings) }
        print(Console.table(["KEY", "VALUE", "SOURCE", "MEANING"], settings.map { [$0.key, $0.value, $0.source, $0.summary] }))
    }
}

import ArgumentParser
import Foundation
import SluiceKit
import SluiceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the REST API over this workspace (127.0.0.1:5001 by default).",
        discussion: "Any address other than loopback needs a token (SLUICE_TOKEN or --token); requests then need 'Authorization: Bearer TOKEN'.")

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 5001

    @Option(help: "Token API requests must present (default: SLUICE_TOKEN).")
    var token: String?

    func run() async throws {
        let configuration = try workspace.configuration()
        let settings = SluiceServer.Settings(host: host, port: port, token: token ?? ProcessInfo.processInfo.environment["SLUICE_TOKEN"])
        if let problem = settings.problem { throw fail(problem, ExitCode(64)) }
        let store = try await workspace.store(configuration)
        let server = SluiceServer(configuration: configuration, store: store, executor: configuration.executor(for: store),
                                  settings: settings)
        try await server.run { port in
            Console.write("sluice serving \(configuration.workspace) on http://\(host):\(port)\n")
        }
    }
}

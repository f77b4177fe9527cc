import ArgumentParser
import Foundation
import SluiceKit
import SluiceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the web UI and the REST API over this workspace (127.0.0.1:5001 by default).",
        discussion: """
            Any address other than loopback needs a token: put it in a file (--token-file) or in SLUICE_TOKEN; requests then \
            need 'Authorization: Bearer TOKEN'. The server answers only to IP addresses, localhost and the names in the \
            allowed_hosts setting, and refuses requests from other web pages (allowed_origins lets some in).
            """)

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 5001

    @Option(help: ArgumentHelp("File holding the token requests must present (default: SLUICE_TOKEN).", valueName: "path"))
    var tokenFile: String?

    @Option(help: "The token itself (shown to every user by ps: prefer --token-file or SLUICE_TOKEN).")
    var token: String?

    func run() async throws {
        let configuration = try workspace.configuration()
        let settings = SluiceServer.Settings(
            host: host, port: port, token: try presentedToken(),
            allowedHosts: configuration.allowedHosts, allowedOrigins: configuration.allowedOrigins)
        if let problem = settings.problem { throw fail(problem, ExitCode(64)) }
        let store = try await workspace.store(configuration)
        let server = SluiceServer(
            configuration: configuration, store: store, executor: configuration.executor(for: store),
            settings: settings)
        try await server.run { port in
            Console.write("sluice serving \(configuration.workspace) on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n")
        }
    }

    /// The token from `--token-file`, `--token` or `SLUICE_TOKEN`, in that order.
    private func presentedToken() throws -> String? {
        guard let tokenFile else {
            if let token, token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw fail("--token is empty: give the token, or leave --token out to serve without one on loopback", ExitCode(64))
            }
            return token ?? ProcessInfo.processInfo.environment["SLUICE_TOKEN"]
        }
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw fail("cannot read the token file \(tokenFile)", ExitCode(66))
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: \.isNewline) else {
            throw fail("the token file \(tokenFile) must hold the token alone on one line", ExitCode(65))
        }
        return token
    }
}

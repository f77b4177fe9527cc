import Foundation

/// Three "hosts" on this machine (`scripts/netns.sh`): network namespaces sl-h1, sl-h2 and sl-h3 on one bridge,
/// with a PostgreSQL server on sl-h1. Needs root, as CI has.
public final class NetworkHosts: @unchecked Sendable {
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/netns.sh").path

    /// The PostgreSQL server's URL, on sl-h1's address.
    public let storeURL: String

    public init() throws {
        let up = try Self.script(["up"])
        guard up.status == 0 else { throw TestFailure("scripts/netns.sh up failed: \(up.output)") }
        storeURL = up.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { _ = try? Self.script(["down"]) }

    /// Starts `arguments` on `host` (h1, h2, h3).
    public func start(
        on host: String, _ arguments: [String], in directory: String, environment: [String: String] = [:],
        outputFile: String
    ) throws -> BackgroundProcess {
        try BackgroundProcess(["ip", "netns", "exec", "sl-\(host)"] + arguments, in: directory, environment: environment, outputFile: outputFile)
    }

    /// Unplugs `host` from the network, or plugs it back.
    public func cut(_ host: String) throws { _ = try Self.script(["cut", host]) }
    public func plug(_ host: String) throws { _ = try Self.script(["plug", host]) }

    /// Runs the script with `posix_spawn` and `waitpid`: Foundation's `Process` missed the exit of a script that
    /// leaves a daemon behind (PostgreSQL), and waited forever.
    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputFile = NSTemporaryDirectory() + "netns-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([script] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, script, &actions, nil, argv, environ) == 0 else { throw TestFailure("cannot run \(script)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}

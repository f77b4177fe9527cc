import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Where a secret could leak on the machine, closed: the API server's token never reaches a step, the files that hold
/// secrets are readable by their owner alone, and a secrets file that others can read is pointed out.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct SecretProtectionTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// The log of `step` in the run `sluice run --json` printed.
    func log(of step: String, _ result: SluiceBinary.Result) throws -> String {
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        let directory = try #require((detail["run"] as? [String: Any])?["run_directory"] as? String)
        return try workspace.read("\(directory)/logs/\(step).log")
    }

    func mode(_ relative: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: workspace.path(relative))[.posixPermissions] as? Int)
    }

    @Test func theServersTokenIsNotInAStepsEnvironmentAndIsMaskedInItsLog() throws {
        let token = "tok-7Hq2x9Zw4Lm"
        try workspace.pipeline(
            "p",
            """
            params: {x: {type: string}}
            steps:
              - {name: show, command: 'printenv SLUICE_TOKEN; echo "token=$X"'}
            """)
        let run = try SluiceBinary.run(["run", "p", "-p", "x=\(token)", "--json"], in: workspace.root, environment: ["SLUICE_TOKEN": token])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try log(of: "show", run) == "token=***\n")
    }

    @Test func filesHoldingSecretsAreReadableByTheirOwnerAlone() async throws {
        try workspace.write("sluice.yaml", "env_file_secrets: true\n")
        let secrets = try workspace.write(".sluice/secrets.env", "API_KEY=k-5521-secret\n")
        chmod(secrets, 0o600)
        try workspace.pipeline("p", "secrets: [API_KEY]\nsteps:\n  - {name: a, command: 'true'}\n")
        try workspace.pipeline("q", "steps:\n  - {name: a, command: 'true'}\n")
        let run = try await SluiceBinary.run(["run", "p", "--json"], in: workspace.root)
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(try await workspace.store().runs(pipeline: "p", limit: 1, offset: 0).first?.id)
        #expect(try workspace.read("runs/\(id)/.env").contains("API_KEY=k-5521-secret"))
        #expect(try mode("runs/\(id)/.env") == 0o600)
        #expect(await try SluiceBinary.run(["run", "q"], in: workspace.root).status == 0)
        let other = try #require(try await workspace.store().runs(pipeline: "q", limit: 1, offset: 0).first?.id)
        #expect(try mode("runs/\(other)/.env") == 0o644, "a .env without secrets stays readable")

        let store = try workspace.store()  // open: SQLite creates its -wal and -shm files, with the database file's mode
        _ = try await store.run(id: id)
        for file in [".sluice/store.sqlite", ".sluice/store.sqlite-wal", ".sluice/store.sqlite-shm"] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }

    @Test func aSecretsFileOthersCanReadIsWarnedAboutAsSSHDoes() throws {
        let secrets = try workspace.write(".sluice/secrets.env", "API_KEY=k-5521-secret\n")
        chmod(secrets, 0o644)
        try workspace.pipeline("p", "secrets: [API_KEY]\nsteps:\n  - {name: a, command: 'true'}\n")
        let warned = try SluiceBinary.run(["run", "p"], in: workspace.root)
        #expect(warned.status == 0, "the secrets are used all the same")
        #expect(warned.stderr.contains("warning: \(secrets) is readable by others (mode 0644); run chmod 600 \(secrets)\n"), "\(warned.stderr)")
        chmod(secrets, 0o600)
        let quiet = try SluiceBinary.run(["run", "p"], in: workspace.root)
        #expect(quiet.status == 0 && !quiet.stderr.contains("warning"), "\(quiet.stderr)")
    }
}

import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A secret reaches the steps that need it and no file Sluice writes.
struct SecretsTests {
    @Test func aPrintedSecretAppearsInNoFileSluiceWrites() async throws {
        let workspace = try TestWorkspace()
        let secret = "hunter2-Zq9!/x"
        try workspace.pipeline(
            "p",
            """
            secrets: [API_TOKEN]
            steps:
              - name: leak
                script: leak.py
              - name: fail
                command: printenv API_TOKEN; exit 1
                depends_on: [leak]
            """)
        try workspace.script(
            "p", "leak.py",
            """
            import base64, os, sys, time, urllib.parse
            token = os.environ["API_TOKEN"]
            print("clear:", token)
            print("base64:", base64.b64encode(token.encode()).decode())
            print("url:", urllib.parse.quote(token, safe=""))
            for character in token:  # one byte at a time, so it arrives split across reads
                sys.stdout.write(character); sys.stdout.flush(); time.sleep(0.01)
            print()
            print("length", len(token))
            """)
        let request = RunRequest(pipeline: try workspace.load("p"), jobs: 1, secrets: ["API_TOKEN": secret])
        let outcome = try await workspace.runner().run(try PipelineRunner.prepare(request))
        #expect(outcome.run.status == .failed)

        let log = try workspace.read("\(outcome.run.runDirectory)/logs/leak.log")
        #expect(log == "clear: ***\nbase64: ***\nurl: ***\n***\nlength 14\n")
        #expect(try workspace.read("\(outcome.run.runDirectory)/logs/fail.log") == "***\n")

        let forms = [secret, Data(secret.utf8).base64EncodedString(), secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!]
        let files = FileManager.default.enumerator(atPath: workspace.root)!.compactMap { $0 as? String }
        #expect(files.count > 5)
        for file in files {
            guard let data = FileManager.default.contents(atPath: workspace.path(file)) else { continue }
            for form in forms { #expect(data.range(of: Data(form.utf8)) == nil, "\(file) holds \(form)") }
        }
    }

    @Test func aSecretInAnAttemptsErrorIsMaskedInTheStoreAsInTheStepsError() async throws {
        let workspace = try TestWorkspace()
        let secret = "hunter2secret"
        // A line with no `=` in $SLUICE_OUTPUT fails the attempt, and its error quotes the line.
        try workspace.pipeline(
            "p",
            """
            secrets: [API_TOKEN]
            steps:
              - name: emit
                command: echo "token $API_TOKEN" >> "$SLUICE_OUTPUT"
            """)
        let request = RunRequest(pipeline: try workspace.load("p"), jobs: 1, secrets: ["API_TOKEN": secret])
        let outcome = try await workspace.runner().run(try PipelineRunner.prepare(request))
        #expect(outcome.run.status == .failed)
        let attempts = try await workspace.store().attempts(runID: outcome.run.id)
        #expect(attempts.count == 1)
        #expect(attempts.first?.error?.contains("token ***") == true, "\(attempts)")
        for file in FileManager.default.enumerator(atPath: workspace.root)!.compactMap({ $0 as? String }) {
            guard let data = FileManager.default.contents(atPath: workspace.path(file)) else { continue }
            #expect(data.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
        }
    }

    @Test func aDeclaredSecretWithoutAValueIsRefusedBeforeAnythingRuns() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "secrets: [DB_PASSWORD]\nsteps:\n  - {name: a, command: 'true'}\n")
        let request = RunRequest(pipeline: try workspace.load("p"), jobs: 1)
        let error = try #require(throws: SluiceError.self) { try PipelineRunner.prepare(request) }
        #expect(
            error.description == "secret 'DB_PASSWORD' has no value: set DB_PASSWORD in the environment or in the secrets file (setting secrets_file)"
        )
        #expect(error.code == .invalidInput && error.fields == ["secrets.DB_PASSWORD": "has no value"])
    }

    @Test func valuesComeFromTheEnvironmentThenTheSecretsFile() throws {
        let workspace = try TestWorkspace()
        let file = try workspace.write(".sluice/secrets.env", "# tokens\nA=from-file\nB = \"quoted value\"\n")
        let values = SecretValues.load(["A", "B", "C"], file: file, environment: ["A": "from-env"])
        #expect(values == ["A": "from-env", "B": "quoted value"])
    }
}

import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A run's `.env` gives every value back as it was given, to the shell and to dotenv readers, and a value cannot add
/// a variable of its own.
struct EnvironmentFileTests {
    static let values = [
        "x\nPATH=/evil", "line one\r\nline two\n", "it's \"quoted\"", "$HOME `id` $(id) $PATH", "${PATH}", #"back\slash \\ \n \"#,
        "both ' and $", "tab\tand é ünïcode", "", "plain-1.0",
    ]

    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// `.env` of a run with parameters V0… holding `values`.
    private func environmentFile() async throws -> (directory: String, text: String) {
        let parameters = Self.values.indices.map { "  v\($0): {type: string}" }.joined(separator: "\n")
        try workspace.pipeline("p", "params:\n\(parameters)\nsteps:\n  - {name: a, command: 'true'}\n")
        let outcome = try await workspace.run("p", parameters: Dictionary(uniqueKeysWithValues: Self.values.enumerated().map { ("v\($0)", $1) }))
        #expect(outcome.run.status == .success)
        return (outcome.run.runDirectory, try workspace.read("\(outcome.run.runDirectory)/.env"))
    }

    @Test func theShellReadsEveryValueBackUnchanged() async throws {
        let (directory, _) = try await environmentFile()
        let names = Self.values.indices.map { "\"$V\($0)\"" }.joined(separator: " ")
        let read = try Shell.run("set -a; . ./.env; printf '%s\\0' \(names)", in: directory)
        #expect(read.status == 0)
        #expect(read.output.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init) == Self.values)
    }

    /// As a reader that takes each line for a variable (`docker run --env-file`, a `while read` loop) sees it.
    @Test func aValueWithLineBreaksAddsNoLineOfItsOwn() async throws {
        let (_, text) = try await environmentFile()
        let names = text.split(separator: "\n").map { line in line.prefix { $0 != "=" } }
        #expect(names.allSatisfy { $0.hasPrefix("SLUICE_") || $0.hasPrefix("V") }, "\(text)")
        #expect(names.filter { $0.hasPrefix("V") }.count == Self.values.count)
    }

    static let hasDotenv = (try? Python.run(["-c", "import dotenv"]).status) == 0
    /// No quoting means the same to the shell and to python-dotenv for these (which expands `${…}` within any quotes):
    /// the shell's is written.
    static let beyondDotenv: Set = ["x\nPATH=/evil", "line one\r\nline two\n", "both ' and $", "${PATH}"]

    @Test(.enabled(if: hasDotenv, "python-dotenv is not installed"))
    func dotenvReadersReadTheValuesBackUnchanged() async throws {
        let (directory, _) = try await environmentFile()
        let read = try Python.run(["-c", "import dotenv, json; print(json.dumps(dotenv.dotenv_values('.env')))"], in: directory)
        let values = try #require(try JSONSerialization.jsonObject(with: Data(read.output.utf8)) as? [String: String?])
        for (index, value) in Self.values.enumerated() where !Self.beyondDotenv.contains(value) {
            #expect(values["V\(index)"] == value, "V\(index)")
        }
    }
}

/// What a `pipeline:` step runs: another pipeline of the workspace, as a child run, with these parameter values.
///
/// The step's action is the command that does it, `sluice run --as-child NAME -p KEY=VALUE…`: the child is a run of
/// its own (its own id, directory, steps and resume), recorded as started by this step, and the step's process is
/// the child's Sluice process. So the step's timeout, retries, cancel and fan-out apply to the child run as they
/// would to any command, and `{{ item }}`, `{{ params.NAME }}` and `{{ steps.NAME.outputs.KEY }}` in `params:` are
/// filled in, shell-quoted, as in a command.
public struct PipelineCall: Sendable, Equatable {
    public var pipeline: String
    /// The child's parameter values, templates as written.
    public var parameters: [String: String]

    /// The command of the step.
    var command: String {
        var words = [#"exec "${SLUICE_BINARY:-sluice}" run -C "$SLUICE_WORKSPACE" --as-child"#, ShellQuote.quote(pipeline)]
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            words += ["-p", Template.shellWord(name + "=" + value)]
        }
        return words.joined(separator: " ")
    }
}

/// A step that runs another pipeline of the workspace as a child run (`pipeline: NAME`, with `params:`).
///
/// Its action is the command that does it, `sluice run --as-child NAME -p KEY=VALUE…`: the child is a run of its own
/// (its own id, directory, steps and resume), recorded as started by this step, and the step's process is the
/// child's Sluice process. So the step's timeout, retries, cancel and fan-out apply to the child run as they would
/// to any command, and `{{ item }}`, `{{ params.NAME }}` and `{{ steps.NAME.outputs.KEY }}` in `params:` are filled
/// in, shell-quoted, as in a command.
enum SubPipelineCall {
    /// The command of a step that runs `pipeline` with `parameters` (templates as written, in order).
    static func command(pipeline: String, parameters: [(name: String, value: String)]) -> String {
        var words = [#"exec "${SLUICE_BINARY:-sluice}" run -C "$SLUICE_WORKSPACE" --as-child"#, ShellQuote.quote(pipeline)]
        for (name, value) in parameters {
            words += ["-p", quotedKeepingReferences(name + "=" + value)]
        }
        return words.joined(separator: " ")
    }

    /// `text` as one shell word, its references left as written: they are filled in, quoted, when the step runs.
    private static func quotedKeepingReferences(_ text: String) -> String {
        guard let template = try? Template(parsing: text), !template.isPlain else { return ShellQuote.quote(text) }
        return template.parts.map { part in
            switch part {
            case let .text(literal): ShellQuote.quote(literal)
            case let .reference(reference): "{{ \(reference.text) }}"
            }
        }.joined()
    }
}

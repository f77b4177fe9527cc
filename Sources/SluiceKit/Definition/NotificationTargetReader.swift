import Yams

/// Reads a `notify:` list: `- file: PATH`, `- webhook: URL` or `- command: TEXT`, each with optional `on`,
/// `timeout` and `retries`.
enum NotificationTargetReader {
    static let statuses: [String: RunStatus] = [
        "failure": .failed, "failed": .failed, "partial_success": .partialSuccess,
        "success": .success,
    ]

    static func read(_ node: Node, reader: DefinitionReader) -> [NotificationTarget] {
        guard let sequence = node.sequence else {
            reader.report(.wrongType, node, "'notify' must be a list of handlers", fix: "write '- webhook: https://…' items")
            return []
        }
        return sequence.compactMap { readTarget($0, reader: reader) }
    }

    private static func readTarget(_ node: Node, reader: DefinitionReader) -> NotificationTarget? {
        let entries = reader.entries(of: node, known: PipelineFormat.notifyHandler.names, context: "a notify handler")
        var kinds: [NotificationTarget.Kind] = []
        var options: [(String, Node)] = []
        for (key, _, value) in entries {
            guard let text = key == "on" ? "" : reader.string(value, key) else { continue }
            switch key {
            case "file": kinds.append(.file(text))
            case "webhook":
                if let problem = WaitProbe.problem(url: text) {
                    reader.report(.badValue, value, "webhook \(problem)", fix: "write https://host:port/path")
                    continue
                }
                kinds.append(.webhook(text))
            case "command": kinds.append(.command(text))
            default: options.append((key, value))
            }
        }
        guard node.mapping != nil else { return nil }
        guard kinds.count == 1 else {
            reader.report(
                .badValue, node, "a notify handler needs exactly one of 'file', 'webhook' or 'command'",
                fix: "split it into one list item per handler")
            return nil
        }
        var target = NotificationTarget(kind: kinds[0])
        for (key, value) in options {
            switch key {
            case "on":
                target.on = Set(
                    reader.strings(value, key).compactMap { name, item in
                        if let status = statuses[name] { return status }
                        reader.report(.badValue, item, "'\(name)' is not a run outcome", fix: "use failure, partial_success or success")
                        return nil
                    })
            case "timeout": target.timeout = reader.duration(value, key) ?? target.timeout
            case "retries": target.retries = reader.wholeNumber(value, key, in: 0...100) ?? target.retries
            default: break
            }
        }
        return target
    }
}

import Foundation
import Yams

/// Reads a step's `foreach:` or `matrix:` (with `max_parallel` and `fail_fast`) into a ``FanOut``.
enum FanOutReader {
    static let foreachFix =
        "write a list ([A, B]), \"{{ params.NAME }}\" for a list parameter, \"{{ steps.NAME.outputs.KEY }}\" for an upstream step's value, or {glob: \"data/*.csv\"}"

    static func foreach(_ node: Node, reader: DefinitionReader) -> FanOut.Source? {
        if let text = node.scalar?.string {
            let template = try? Template(parsing: text)
            guard let template, template.parts.count == 1, let reference = template.references.first else {
                reader.report(.badValue, node, "'foreach' must list its items", fix: foreachFix)
                return nil
            }
            switch reference.path.first {
            case "params" where reference.path.count == 2:
                return .parameter(reference.path[1])
            case "steps" where reference.path.count == 4 && reference.path[2] == "outputs":
                return .upstream(step: reference.path[1], key: reference.path[3])
            default:
                reader.report(.badValue, node, "'foreach: \(text)' names no list parameter", fix: foreachFix)
                return nil
            }
        }
        if node.mapping != nil {
            var glob: String?
            for (key, _, value) in reader.entries(of: node, known: PipelineFormat.foreachGlob.names, context: "'foreach'") where key == "glob" {
                glob = reader.string(value, key)
                if let pattern = glob, Template.mayHoldReferences(pattern) {
                    reader.report(.badValue, value, "a glob is matched as written: '{{' has no meaning in it", fix: "write the pattern itself")
                    return nil
                }
                if let pattern = glob, WorkspacePath.normalized(pattern) == nil {
                    reader.report(
                        .badValue, value, "the glob '\(pattern)' must match files inside the workspace",
                        fix: "write it relative to the workspace, without '..'")
                    return nil
                }
            }
            guard let glob else {
                reader.report(.missingKey, node, "'foreach' as a mapping takes a 'glob'", fix: foreachFix)
                return nil
            }
            return .files(glob: glob)
        }
        guard let sequence = node.sequence else { return nil }
        guard !sequence.isEmpty else {
            reader.report(.badValue, node, "'foreach' lists no items", fix: "list at least one, or remove 'foreach'")
            return nil
        }
        let items = sequence.compactMap { item(of: $0, reader: reader) }
        return items.count == sequence.count ? .items(items) : nil
    }

    static func matrix(_ node: Node, reader: DefinitionReader) -> FanOut.Source? {
        guard let mapping = node.mapping else {
            reader.report(.wrongType, node, "'matrix' must map names to lists", fix: "write `matrix: {region: [eu, us], year: [2024, 2025]}`")
            return nil
        }
        var matrix = FanOut.Matrix(axes: [])
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else { continue }
            switch name {
            case "include", "exclude":
                guard let sequence = value.sequence else {
                    reader.report(.wrongType, value, "'\(name)' of 'matrix' must be a list of mappings", fix: "write `- {region: eu, year: 2023}`")
                    continue
                }
                let combinations = sequence.compactMap { item(of: $0, reader: reader)?.fields }
                if name == "include" { matrix.include = combinations } else { matrix.exclude = combinations }
            default:
                guard EnvironmentName.isValid(name) else {
                    reader.report(
                        .badValue, keyNode, "'\(name)' is not a valid matrix name",
                        fix: "use letters, digits and underscores, not starting with a digit")
                    continue
                }
                guard value.sequence != nil else {
                    reader.report(.wrongType, value, "matrix '\(name)' must be a list", fix: "write `\(name): [a, b]`")
                    continue
                }
                let values = reader.strings(value, name).map(\.0)
                if values.contains(where: Template.mayHoldReferences) {
                    reader.report(.badValue, value, "matrix '\(name)' is a list written out: '{{' has no meaning in it", fix: "list the values")
                    continue
                }
                guard !values.isEmpty else {
                    reader.report(.badValue, value, "matrix '\(name)' lists no values", fix: "list at least one")
                    continue
                }
                matrix.axes.append((name, values))
            }
        }
        // An `exclude` key that names no list would silently exclude nothing (GitHub Actions refuses it too).
        let axes = Set(matrix.axes.map(\.name))
        for key in Set(matrix.exclude.flatMap { $0.map(\.0) }).subtracting(axes).sorted() {
            let hint = Suggestion.closest(to: key, among: axes.sorted()).map { "did you mean '\($0)'?" } ?? "name one of the matrix's lists"
            reader.report(.badValue, node, "'exclude' of 'matrix' names '\(key)', which is none of its lists", fix: hint)
        }
        let product = matrix.size
        if product > FanOut.maximumInstances {
            reader.report(
                .badValue, node,
                "'matrix' makes \(product == Int.max ? "too many" : String(product)) combinations; at most \(FanOut.maximumInstances) are allowed",
                fix: "split the step, or use fewer values")
            return nil
        }
        guard !matrix.axes.isEmpty || !matrix.include.isEmpty else {
            reader.report(.badValue, node, "'matrix' has no lists", fix: "write `matrix: {region: [eu, us]}`")
            return nil
        }
        return .matrix(matrix)
    }

    /// A scalar item, or a mapping of scalars (`{{ item.KEY }}`), whose value is then its JSON.
    private static func item(of node: Node, reader: DefinitionReader) -> FanOutItem? {
        if let text = node.scalar?.string {
            guard !text.utf8.contains(0) else {
                reader.report(.badValue, node, "an item cannot hold a NUL character")
                return nil
            }
            return FanOutItem(value: text)
        }
        guard let mapping = node.mapping else {
            reader.report(.wrongType, node, "an item must be a value or a mapping of values")
            return nil
        }
        var fields: [(key: String, value: String)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, EnvironmentName.isValid(key) else {
                reader.report(
                    .badValue, keyNode, "'\(keyNode.scalar?.string ?? "?")' is not a valid item key",
                    fix: "use letters, digits and underscores, not starting with a digit")
                return nil
            }
            guard let text = reader.string(value, key) else { return nil }
            fields.append((key, text))
        }
        return FanOutItem(value: JSONText.object(fields), fields: fields)
    }
}

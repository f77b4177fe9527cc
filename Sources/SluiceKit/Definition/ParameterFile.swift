import Foundation
import Yams

/// A file of parameter values, YAML or JSON, as DVC's `params.yaml` and Snakemake's `configfile` are: a mapping
/// from names to one value, or a list for a `list` parameter. Values are read as written (`0.20` stays `0.20`); a
/// list becomes the JSON list a `list` parameter takes. Names a pipeline does not declare are left alone, whatever
/// they hold (a file may serve several pipelines and tools).
public enum ParameterFile {
    /// Far more than any real file of values; a bigger one is a mistake.
    static let maximumSize = 4 << 20

    /// The values in `file` of `parameters`, by name; every problem is reported with the file and line.
    public static func read(_ file: String, for parameters: [ParameterSpec]) throws(DefinitionError) -> [String: String] {
        let start = SourceLocation(file: file, line: 1, column: 1)
        func failure(_ code: Diagnostic.Code, _ message: String, at location: SourceLocation? = nil, fix: String? = nil) -> DefinitionError {
            DefinitionError(diagnostics: [Diagnostic(code, at: location ?? start, message, fix: fix)])
        }
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw failure(.unreadableFile, "cannot read the parameter file: \(String(cString: strerror(errno)))", fix: "check the path")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw failure(.unreadableFile, "the parameter file is not a regular file") }
        guard info.st_size <= maximumSize else {
            throw failure(
                .badValue, "the parameter file is \(info.st_size) bytes; at most \(maximumSize) are read", fix: "keep only parameter values in it")
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw failure(.unreadableFile, "cannot read the parameter file as UTF-8 text")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text, .basic) } catch {
            let (problem, mark): (String?, Mark?) =
                switch error as? YamlError {
                case let .scanner(_, problem, mark, _)?, let .parser(_, problem, mark, _)?, let .composer(_, problem, mark, _)?: (problem, mark)
                case let .duplicatedKeysInMapping(duplicates, context)?:
                    ("\(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) is given twice; keep one", context.mark)
                default: (nil, nil)
                }
            throw failure(
                .yamlSyntax, "the parameter file is neither valid YAML nor JSON" + (problem.map { ": \($0)" } ?? ""),
                at: SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1), fix: "check indentation and quoting")
        }
        guard let root else { return [:] }
        let reader = DefinitionReader(file: file)
        guard let mapping = root.mapping else {
            throw failure(
                .wrongType, "the parameter file must map names to values", at: reader.location(root), fix: "write lines such as 'max_features: 300'")
        }
        let types = Dictionary(parameters.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        var values: [String: String] = [:]
        var problems: [Diagnostic] = []
        // Aliases repeat a value without repeating its text: what the values expand to is bounded as the file is,
        // counted before any text is made.
        var expanded = 0
        for (keyNode, value) in mapping {
            // Only what the pipeline declares is read, so that nothing under another name is expanded into text.
            guard case let .scalar(key) = keyNode, let type = types[key.string] else { continue }
            let name = key.string
            expanded += value.scalar.map { $0.string.utf8.count } ?? (value.sequence ?? []).reduce(0) { $0 + ($1.scalar?.string.utf8.count ?? 0) }
            guard expanded <= maximumSize else {
                throw failure(
                    .badValue, "the parameter file's values expand to more than \(maximumSize) bytes (through aliases)", at: reader.location(value),
                    fix: "write the values out")
            }
            switch value {
            case let .scalar(scalar): values[name] = scalar.string
            case let .sequence(items) where type == .list:
                let texts = items.compactMap { item in if case let .scalar(scalar) = item { scalar.string } else { nil } }
                guard texts.count == items.count else {
                    problems.append(
                        Diagnostic(
                            .wrongType, at: reader.location(value),
                            "parameter '\(name)' is a list of values; an item here is a list, a map or an alias",
                            fix: "write each item as a plain value: [A, B]"))
                    continue
                }
                values[name] = (try? jsonText(texts)) ?? "[]"
            case .sequence:
                problems.append(
                    Diagnostic(
                        .wrongType, at: reader.location(value),
                        "parameter '\(name)' takes one value (it is of type \(type.rawValue)), and this gives it a list",
                        fix: "give it one value"))
            case .alias:
                problems.append(
                    Diagnostic(
                        .wrongType, at: reader.location(value), "parameter '\(name)' is an alias; a parameter file takes values",
                        fix: "write the value"))
                continue
            case .mapping:
                problems.append(
                    Diagnostic(
                        .wrongType, at: reader.location(value), "parameter '\(name)' holds a map; a parameter is one value or a list",
                        fix: "give each value a parameter of its own, such as \(name)_size: 10"))
            }
        }
        if !problems.isEmpty { throw DefinitionError(diagnostics: problems) }
        return values
    }
}

import Foundation
import Yams

/// A file of parameter values, YAML or JSON, as DVC's `params.yaml` and Snakemake's `configfile` are: a mapping
/// from names to one value or a list each. Values are read as written (`0.20` stays `0.20`); a list becomes the
/// JSON list a `list` parameter takes.
public enum ParameterFile {
    /// Far more than any real file of values; a bigger one is a mistake.
    static let maximumSize = 4 << 20

    /// The values in `file`, by name; every problem is reported with the file and line.
    public static func read(_ file: String) throws(DefinitionError) -> [String: String] {
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
                    ("\(duplicates.sorted().joined(separator: ", ")) given twice", context.mark)
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
        var values: [String: String] = [:]
        var problems: [Diagnostic] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, !name.allSatisfy(\.isWhitespace) else {
                problems.append(Diagnostic(.badValue, at: reader.location(keyNode), "a name in the parameter file is empty or not text"))
                continue
            }
            switch value {
            case let .scalar(scalar): values[name] = scalar.string
            case let .sequence(items) where items.allSatisfy({ $0.scalar != nil }):
                values[name] = (try? jsonText(items.compactMap { $0.scalar?.string })) ?? "[]"
            default:
                problems.append(
                    Diagnostic(
                        .wrongType, at: reader.location(value), "parameter '\(name)' holds a map or nested lists; a parameter is one value or a list",
                        fix: "give each value a parameter of its own, such as \(name)_size: 10"))
            }
        }
        if !problems.isEmpty { throw DefinitionError(diagnostics: problems) }
        return values
    }
}

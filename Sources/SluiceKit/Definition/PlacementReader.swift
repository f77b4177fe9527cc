import Yams

/// Reads `executor:`, `runs_on:` and `slurm:` of a pipeline or a step.
enum PlacementReader {
    static func executor(_ node: Node, reader: DefinitionReader) -> ExecutorKind? {
        guard let text = reader.string(node, "executor") else { return nil }
        guard let kind = ExecutorKind(rawValue: text) else {
            let names = ExecutorKind.allCases.map(\.rawValue)
            reader.report(
                .badValue, node, "unknown executor '\(text)'",
                fix: Suggestion.closest(to: text, among: names).map { "did you mean '\($0)'?" } ?? "use one of: \(names.joined(separator: ", "))")
            return nil
        }
        return kind
    }

    static func labels(_ node: Node, reader: DefinitionReader) -> [String] {
        reader.strings(node, "runs_on").compactMap { label, item in
            guard !label.isEmpty, label.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                reader.report(
                    .badValue, item, "'\(label)' in 'runs_on' is not a label", fix: "use letters, digits, '-', '_' and '.', as in gpu or big-mem")
                return nil
            }
            return label
        }
    }

    static func slurm(_ node: Node, reader: DefinitionReader) -> SlurmRequest {
        var request = SlurmRequest()
        for (key, _, value) in reader.entries(of: node, known: PipelineFormat.slurm.names, context: "'slurm'") {
            switch key {
            case "partition": request.partition = reader.string(value, key)
            case "cpus": request.cpus = reader.wholeNumber(value, key, in: 1...100_000)
            case "memory":
                guard let text = reader.string(value, key) else { continue }
                guard isMemory(text) else {
                    reader.report(.badValue, value, "'memory' is not an amount sbatch takes: '\(text)'", fix: "write 512M, 4G or 1T")
                    continue
                }
                request.memory = text
            case "time": request.time = reader.duration(value, key)
            case "flags":
                request.flags = reader.strings(value, key).compactMap { flag, item in
                    guard flag.hasPrefix("-") else {
                        reader.report(
                            .badValue, item, "'\(flag)' in 'flags' is not an sbatch option", fix: "write options as sbatch takes them: --qos=long")
                        return nil
                    }
                    return flag
                }
            default: break
            }
        }
        return request
    }

    /// `sbatch --mem` amounts: digits with an optional K, M, G or T.
    private static func isMemory(_ text: String) -> Bool {
        let digits = text.last.map { "KMGTkmgt".contains($0) } == true ? text.dropLast() : Substring(text)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }
}

import Foundation

/// JSON Schemas (draft 07, which the YAML language server and check-jsonschema read) of pipeline files and of
/// `sluice.yaml`, written from the key tables the loader reads them by (``PipelineFormat``). They say which keys
/// exist and the shape of each value; the loader then checks more (paths inside the workspace, cron expressions,
/// names that exist).
public enum DefinitionSchema {
    public static var pipeline: Data {
        document(title: "Sluice pipeline", description: "A pipeline file of a Sluice workspace (pipelines/NAME.yaml)", PipelineFormat.pipeline)
    }

    public static var config: Data {
        // A file of comments only is no settings, which the loader takes too.
        document(title: "Sluice workspace settings", description: "A Sluice workspace's sluice.yaml", Configuration.fileKeys, allowsEmpty: true)
    }

    private static func document(title: String, description: String, _ table: KeyTable, allowsEmpty: Bool = false) -> Data {
        var root = schema(of: .section(table))
        if allowsEmpty { root["type"] = ["object", "null"] }
        root["$schema"] = "http://json-schema.org/draft-07/schema#"
        root["title"] = title
        root["description"] = description
        return (try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// A YAML scalar as the loader reads it: anything but a list or a mapping (an empty value is empty text).
    private static var scalar: [String: Any] { ["type": ["string", "number", "boolean", "null"]] }

    static func schema(of shape: ValueShape) -> [String: Any] {
        switch shape {
        case .text: scalar
        case .names: ["anyOf": [scalar, ["type": "array", "items": scalar]]]
        case .flag: ["anyOf": [["type": "boolean"], anyCase(["true", "false", "yes", "no", "on", "off"])]]
        case .duration: ["type": ["number", "string"], "minimum": 0]
        case .number: ["type": ["number", "string"], "pattern": "^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$"]
        case .wholeNumber: ["type": ["integer", "string"], "pattern": "^[-+]?[0-9]+$"]
        case let .choice(words): ["type": "string", "enum": words]
        case let .choiceAnyCase(words): ["anyOf": [["type": "string", "enum": words], anyCase(words)]]
        case let .section(table, others):
            [
                "type": "object",
                "properties": Dictionary(
                    uniqueKeysWithValues: table.keys.map { key in
                        (key.name, schema(of: key.value).merging(["description": key.summary]) { $1 })
                    }),
                "patternProperties": others == nil ? ["^x-": [String: Any]()] : [:],
                "additionalProperties": others.map(schema(of:)) ?? false,
            ].merging(table.required.isEmpty ? [:] : ["required": table.required]) { $1 }
        case let .mapping(value): ["type": "object", "additionalProperties": schema(of: value)]
        case let .list(item): ["type": "array", "items": schema(of: item)]
        case let .either(shapes): ["anyOf": shapes.map(schema(of:))]
        }
    }

    /// Text that is one of `words` in any case, as the loader reads them (`True`, `INT`).
    private static func anyCase(_ words: [String]) -> [String: Any] {
        let alternatives = words.map { word in word.map { "[\($0.lowercased())\($0.uppercased())]" }.joined() }
        return ["type": "string", "pattern": "^(" + alternatives.joined(separator: "|") + ")$"]
    }
}

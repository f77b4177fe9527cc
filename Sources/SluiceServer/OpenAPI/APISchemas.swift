import SluiceKit

// What the API document cannot read from the types themselves (``SchemaReflection``).

extension StepState: SchemaEnumeration {}
extension RunStatus: SchemaEnumeration {}
extension RecoveryAction.Kind: SchemaEnumeration {}
extension RecoveryAction.Status: SchemaEnumeration {}

extension StartRunBody: RequestBody {}
extension RetryBody: RequestBody {}
extension BackfillBody: RequestBody {}

extension StartRunBody.ParameterValue: SchemaDescribed {
    static var jsonSchema: [String: Any] {
        ["oneOf": [["type": "string"], ["type": "number"], ["type": "boolean"], ["type": "array", "items": ["type": "string"]]]]
    }
}

extension BackfillBody: SchemaRefined {
    static func refine(_ schema: inout [String: Any]) {
        guard var properties = schema["properties"] as? [String: [String: Any]] else { return }
        properties["from"]?["format"] = "date"
        properties["to"]?["format"] = "date"
        properties["step"]?["enum"] = Backfill.Step.allCases.map(\.rawValue)
        properties["maxActive"]?.merge(["minimum": 1, "maximum": Backfill.intervalLimit]) { $1 }
        schema["properties"] = properties
        schema["description"] = "the dates are checked too: from not after to, at most \(Backfill.intervalLimit) intervals"
    }
}

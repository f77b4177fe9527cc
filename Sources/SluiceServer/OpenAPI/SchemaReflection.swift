import Foundation

/// A type whose JSON Schema is not what its `init(from:)` asks for (a value decoded by hand from several shapes).
protocol SchemaDescribed: Decodable {
    static var jsonSchema: [String: Any] { get }
}

/// A type whose reflected schema gains what Swift's types cannot say: formats, bounds, descriptions.
protocol SchemaRefined: Decodable {
    static func refine(_ schema: inout [String: Any])
}

/// A request body: JSONDecoder reads `null` for an optional property as leaving it out, so its schema allows it.
protocol RequestBody: Decodable {}

/// A string enumeration: its schema lists its cases, and reflection can give one back as a placeholder.
protocol SchemaEnumeration: Decodable {
    static var caseNames: [String] { get }
    static var placeholder: Self { get }
}

extension SchemaEnumeration where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var caseNames: [String] { allCases.map(\.rawValue) }
    static var placeholder: Self { allCases.first! }
}

/// JSON Schemas (OpenAPI 3.0's dialect) of Decodable types, read from their own `init(from:)`: a decoder answers
/// every question with a placeholder and writes down what was asked. A synthesized `Decodable` asks for exactly the
/// keys and types its synthesized `Encodable` writes, so the schemas cannot drift from what the server sends. Each
/// struct becomes a component, named after its type.
final class SchemaReflection {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var components: [String: [String: Any]] = [:]
    /// The type each component was read from, and those being read: two types of one name, or a type that holds
    /// itself, are refused rather than written wrong.
    private var sources: [String: ObjectIdentifier] = [:]
    private var reading: Set<String> = []

    /// The schema of `type`: a reference for a struct, inline for anything else.
    func schema<T: Decodable>(of type: T.Type) throws -> [String: Any] { try reflect(type).schema }

    func reflect<T: Decodable>(_ type: T.Type) throws -> (value: T, schema: [String: Any]) {
        if let primitive = Self.primitive(type) { return primitive }
        if let enumeration = type as? any SchemaEnumeration.Type {
            return (enumeration.placeholder as! T, ["type": "string", "enum": enumeration.caseNames])
        }
        let name = Self.name(of: type)
        if let source = sources[name], source != ObjectIdentifier(type) {
            throw Unsupported(description: "two types are named \(name) in the API document: rename one")
        }
        guard reading.insert(name).inserted else { throw Unsupported(description: "\(name) holds itself, which reflection cannot follow") }
        defer { reading.remove(name) }
        let decoder = RecordingDecoder(reflection: self, nullableOptionals: type is any RequestBody.Type)
        let value: T
        do { value = try T(from: decoder) } catch let error as Unsupported { throw error } catch {
            throw Unsupported(description: "\(Self.name(of: type)): \(error) (conform it to SchemaEnumeration or SchemaDescribed)")
        }
        if let described = type as? any SchemaDescribed.Type { return (value, described.jsonSchema) }
        // An optional element (`[Cell?]`: a run without the step) is written as null.
        if type is any OptionalSchema.Type, let wrapped = decoder.shape.schema {
            return (value, wrapped["$ref"] != nil ? ["allOf": [wrapped], "nullable": true] : wrapped.merging(["nullable": true]) { $1 })
        }
        guard var schema = decoder.shape.schema else {
            throw Unsupported(description: "\(Self.name(of: type)) decodes nothing: give it a SchemaDescribed schema")
        }
        guard decoder.shape.isObject else { return (value, schema) }
        (type as? any SchemaRefined.Type)?.refine(&schema)
        components[name] = schema
        sources[name] = ObjectIdentifier(type)
        return (value, ["$ref": "#/components/schemas/\(name)"])
    }

    /// `SluiceServer.SystemController.Health` is `SystemHealth`: nested names joined, without the module and the
    /// word Controller.
    static func name(of type: Any.Type) -> String {
        String(reflecting: type).split(separator: ".").dropFirst()
            .map { $0.hasSuffix("Controller") ? String($0.dropLast("Controller".count)) : String($0) }.joined()
    }

    private static func primitive<T>(_ type: T.Type) -> (value: T, schema: [String: Any])? {
        if let integer = type as? any FixedWidthInteger.Type {
            let format: [String: Any] = integer.bitWidth == 32 ? ["format": "int32"] : integer.bitWidth == 64 ? ["format": "int64"] : [:]
            return (integer.init(0) as! T, ["type": "integer"].merging(format) { $1 })
        }
        let found: (Any, [String: Any])? =
            switch type {
            case is String.Type: ("", ["type": "string"])
            case is Bool.Type: (false, ["type": "boolean"])
            case is Double.Type: (0.0, ["type": "number"])
            case is Float.Type: (Float(0), ["type": "number"])
            case is Date.Type: (Date(timeIntervalSince1970: 0), ["type": "string", "format": "date-time"])
            case is URL.Type: (URL(fileURLWithPath: "/"), ["type": "string", "format": "uri"])
            default: nil
            }
        return found.map { ($0.0 as! T, $0.1) }
    }
}

/// Optional types, which the synthesized `Encodable` writes as null where they are elements of an array.
private protocol OptionalSchema {}
extension Optional: OptionalSchema {}

/// What one `init(from:)` asked for.
private struct Shape {
    enum Kind { case none, object, map, array, single }

    var kind = Kind.none
    var properties: [String: [String: Any]] = [:]
    var required: [String] = []
    var element: [String: Any] = [:]

    var isObject: Bool { kind == .object }

    var schema: [String: Any]? {
        switch kind {
        case .none: nil
        case .object:
            ["type": "object", "properties": properties, "required": required.sorted(), "additionalProperties": false]
                .filter { !(($0.value as? [String])?.isEmpty ?? false) }
        case .map: ["type": "object", "additionalProperties": element]
        case .array: ["type": "array", "items": element]
        case .single: element
        }
    }
}

private final class RecordingDecoder: Decoder {
    let reflection: SchemaReflection
    let nullableOptionals: Bool
    var shape = Shape()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(reflection: SchemaReflection, nullableOptionals: Bool) {
        self.reflection = reflection
        self.nullableOptionals = nullableOptionals
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if shape.kind == .none { shape.kind = .object }
        return KeyedDecodingContainer(KeyedRecorder<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        shape.kind = .array
        return UnkeyedRecorder(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        shape.kind = .single
        return SingleRecorder(decoder: self)
    }
}

private struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { [] }

    /// Asked by a dictionary, which then decodes its one value: its schema is every value's.
    var allKeys: [Key] {
        decoder.shape.kind = .map
        return Key(stringValue: "*").map { [$0] } ?? []
    }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try record(type, key, required: true) }

    /// An optional property: left out when nil (the synthesized `Encodable` writes no `null`).
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try record(type, key, required: false) }

    private func record<T: Decodable>(_ type: T.Type, _ key: Key, required: Bool) throws -> T {
        var (value, schema) = try decoder.reflection.reflect(type)
        if decoder.shape.kind == .map {
            decoder.shape.element = schema
        } else {
            if !required, decoder.nullableOptionals, schema["$ref"] == nil { schema["nullable"] = true }
            decoder.shape.properties[key.stringValue] = schema
            if required { decoder.shape.required.append(key.stringValue) }
        }
        return value
    }

    // Every type a decoder must answer for by name, answered as any other.
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try record(type, key, required: true) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try record(type, key, required: true) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try record(type, key, required: true) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try record(type, key, required: true) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try record(type, key, required: true) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try record(type, key, required: true) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try record(type, key, required: true) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try record(type, key, required: true) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try record(type, key, required: true) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try record(type, key, required: true) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try record(type, key, required: true) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try record(type, key, required: true) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try record(type, key, required: true) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try record(type, key, required: true) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try record(type, key, required: false) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try record(type, key, required: false) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaReflection.Unsupported(description: "a nested container at '\(key.stringValue)': give the type a SchemaDescribed schema")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw SchemaReflection.Unsupported(description: "a nested container at '\(key.stringValue)': give the type a SchemaDescribed schema")
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}

/// An array's container: it holds one element, whose schema is every element's.
private struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex > 0 }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try record(type) }

    private mutating func record<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try decoder.reflection.reflect(type)
        decoder.shape.element = schema
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try record(type) }
    mutating func decode(_ type: String.Type) throws -> String { try record(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try record(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try record(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try record(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try record(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try record(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try record(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try record(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try record(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try record(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try record(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try record(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try record(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaReflection.Unsupported(description: "a nested container in an array: give the type a SchemaDescribed schema")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw SchemaReflection.Unsupported(description: "a nested container in an array: give the type a SchemaDescribed schema")
    }

    mutating func superDecoder() throws -> any Decoder { decoder }
}

private struct SingleRecorder: SingleValueDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try record(type) }

    private func record<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try decoder.reflection.reflect(type)
        decoder.shape.element = schema
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool { try record(type) }
    func decode(_ type: String.Type) throws -> String { try record(type) }
    func decode(_ type: Double.Type) throws -> Double { try record(type) }
    func decode(_ type: Float.Type) throws -> Float { try record(type) }
    func decode(_ type: Int.Type) throws -> Int { try record(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try record(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try record(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try record(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try record(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try record(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try record(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try record(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try record(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try record(type) }
}

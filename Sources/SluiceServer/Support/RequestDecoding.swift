import Foundation
import Hummingbird
import NIOCore
import SluiceKit
import Synchronization

/// Decodes a JSON body; malformed JSON or wrong types are a 400 that says what is wrong, never a 500. A body sent as
/// anything but JSON gets 415: those are the types a web page can send to another site without asking it.
func decodeJSON<T: Decodable>(_ type: T.Type, _ request: Request, _ context: APIContext, emptyAs empty: String? = nil) async throws -> T {
    var buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: context.maxUploadSize) } catch is NIOTooManyBytesError {
        throw HTTPError(.contentTooLarge, message: "the body is larger than \(context.maxUploadSize >> 20) MiB")
    }
    let data = buffer.readData(length: buffer.readableBytes) ?? Data()
    if !data.isEmpty { try requireMediaType("application/json", of: request) }
    let body = data.isEmpty ? Data((empty ?? "").utf8) : data
    // Before decoding: a misspelt required key is then named as the unknown one it is, with a suggestion.
    try refuseUnknownKeys(of: T.self, in: body)
    do { return try context.requestDecoder.decode(T.self, from: body) } catch let error as DecodingError {
        // Foundation's decoder calls a number too large for an `Int` field invalid JSON, and names no field.
        if case let .dataCorrupted(context) = error, context.codingPath.isEmpty, (try? JSONSerialization.jsonObject(with: body)) != nil {
            throw HTTPError(.badRequest, message: "invalid JSON body: a value does not fit its field (a number too large?)")
        }
        throw HTTPError(.badRequest, message: "invalid JSON body: \(describe(error))")
    } catch {
        throw HTTPError(.badRequest, message: "invalid JSON body: \(error.localizedDescription)")
    }
}

/// A key the body type does not take is refused, not ignored: `{"parms": ...}` would otherwise start a run with
/// none of the parameters meant.
private func refuseUnknownKeys<T: Decodable>(of type: T.Type, in body: Data) throws {
    guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let known = BodyKeys.of(type) else { return }
    guard let unknown = object.keys.sorted().first(where: { !known.contains($0) }) else { return }
    let hint =
        Suggestion.closest(to: unknown, among: known.sorted()).map { "did you mean '\($0)'?" } ?? "it takes \(known.sorted().joined(separator: ", "))"
    throw HTTPError(.badRequest, message: "invalid JSON body: unknown key \(unknown.debugDescription); \(hint)")
}

/// The keys of each body type, read once from its own decoding (``SchemaReflection``), as the API document lists them.
private enum BodyKeys {
    /// nil for a type that is no object of named keys (a test holds every body type to being one).
    static let known = Mutex<[ObjectIdentifier: Set<String>?]>([:])

    static func of<T: Decodable>(_ type: T.Type) -> Set<String>? {
        if let keys = known.withLock({ $0[ObjectIdentifier(type)] }) { return keys }
        let reflection = SchemaReflection()
        _ = try? reflection.schema(of: type)
        let keys = (reflection.components[SchemaReflection.name(of: type)]?["properties"] as? [String: Any]).map { Set($0.keys) }
        known.withLock { $0[ObjectIdentifier(type)] = keys }
        return keys
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return keys.isEmpty ? "" : "at '\(keys)': "
    }
    switch error {
    case let .typeMismatch(type, context): return "\(path(context))expected \(type)"
    case let .valueNotFound(type, context): return "\(path(context))missing \(type) value"
    case let .keyNotFound(key, context): return "\(path(context))missing key '\(key.stringValue)'"
    case let .dataCorrupted(context): return path(context) + context.debugDescription
    @unknown default: return "\(error)"
    }
}

/// JSON responses with a status other than 200.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status, headers: HTTPFields = [:]) throws -> Response {
        let data = try APIJSON.encoder().encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Refuses a body whose `Content-Type` is not `expected` (for JSON, `application/*+json` too) with 415.
func requireMediaType(_ expected: String, of request: Request) throws {
    let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    guard type != expected, !(expected == "application/json" && type?.hasPrefix("application/") == true && type?.hasSuffix("+json") == true) else {
        return
    }
    throw HTTPError(
        .unsupportedMediaType, message: "send the body as \(expected) (Content-Type: \(expected)), not \(type.map { "'\($0)'" } ?? "without a type")")
}

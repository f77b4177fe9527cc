import Foundation
import Hummingbird
import NIOCore

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

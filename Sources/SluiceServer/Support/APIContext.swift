import Foundation
import Hummingbird
import SluiceKit

/// The request context of every route: JSON with ISO 8601 dates and sorted keys in both directions.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }

    public var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public var responseEncoder: JSONEncoder { APIJSON.encoder() }
}

enum APIJSON {
    /// Sorted keys; dates as ISO 8601 with milliseconds (timelines of short steps need them).
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = Timestamp.jsonEncoding
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A JSON body of any encodable value.
struct JSON<Value: Encodable & Sendable>: ResponseEncodable, Encodable {
    var value: Value
    init(_ value: Value) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

extension HTTPError {
    /// 422 with one message per field: `{"error": {"message": ...}, "fields": {"name": "problem"}}`.
    static func unprocessable(_ message: String) -> HTTPError { HTTPError(.unprocessableContent, message: message) }
}

extension Parameters {
    /// A path segment as its resource is named: clients percent-encode names (`load%20data` for the step
    /// `load data`), and the router hands the segment over as sent.
    func name(_ key: String) throws -> String {
        let raw = try require(key)
        guard let name = raw.removingPercentEncoding else {
            throw HTTPError(.badRequest, message: "\(key) '\(raw)' is not valid percent-encoding")
        }
        return name
    }
}

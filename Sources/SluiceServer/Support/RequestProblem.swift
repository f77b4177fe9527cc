import Hummingbird
import SluiceKit

/// The body of every error the API answers with: `{"error": {"message": "..."}}`, and for values at fault one message
/// per field: `"fields": {"params.start_date": "..."}`.
struct RequestProblem: Codable {
    struct Message: Codable { var message: String }

    var error: Message
    var fields: [String: String]?

    init(message: String, fields: [String: String] = [:]) {
        error = Message(message: message)
        self.fields = fields.isEmpty ? nil : fields
    }
}

/// The API's one mapping of Sluice's errors to HTTP: a status for each code, and the body above.
extension SluiceError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .invalidInput: .unprocessableContent
        case .conflict, .nothingToDo: .conflict
        case .store: .serviceUnavailable
        default: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(RequestProblem(message: description, fields: fields), status: status)
    }
}

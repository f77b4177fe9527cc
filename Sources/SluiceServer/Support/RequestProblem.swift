import Hummingbird
import SluiceKit

/// A run request that failed its checks, as a 422 with one message per field:
/// `{"error": {"message": "..."}, "fields": {"params.start_date": "..."}}`.
struct RequestProblem: Encodable {
    struct Message: Encodable { var message: String }

    var error: Message
    var fields: [String: String]

    init(message: String, fields: [String: String]) {
        error = Message(message: message)
        self.fields = fields
    }

    init(_ problem: RunRequestError) {
        error = Message(message: problem.description)
        switch problem {
        case let .parameters(errors):
            fields = Dictionary(errors.problems.map { ("params.\($0.parameter)", $0.message) }, uniquingKeysWith: { "\($0); \($1)" })
        case let .missingSecrets(names): fields = Dictionary(uniqueKeysWithValues: names.map { ("secrets.\($0)", "has no value") })
        case let .selection(selection): fields = ["selection": selection.description]
        case .nothingSelected: fields = ["selection": problem.description]
        }
    }

    func response() throws -> Response { try JSONResponse.make(self, status: .unprocessableContent) }
}

import Foundation

/// The file parts of a `multipart/form-data` body (RFC 7578): enough for uploads, no streaming.
struct MultipartForm {
    struct FilePart {
        var field: String
        var filename: String
        var content: Data
    }

    enum Problem: Error, CustomStringConvertible {
        case notMultipart, malformed(String)
        var description: String {
            switch self {
            case .notMultipart: "the body must be multipart/form-data with a boundary"
            case let .malformed(what): "malformed multipart body: \(what)"
            }
        }
    }

    let files: [FilePart]

    init(contentType: String?, body: Data) throws(Problem) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundaryRange = contentType.range(of: "boundary=") else { throw .notMultipart }
        let boundary = contentType[boundaryRange.upperBound...].split(separator: ";").first.map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        } ?? ""
        guard !boundary.isEmpty else { throw .notMultipart }
        let delimiter = Data("--\(boundary)".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else { throw .malformed("no boundary line") }
        var files: [FilePart] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: Data("\r\n".utf8)) else { throw .malformed("a boundary is not followed by a line break") }
            let headersStart = cursor + 2
            guard let headersEnd = body.range(of: Data("\r\n\r\n".utf8), in: headersStart..<body.endIndex) else {
                throw .malformed("a part has no end of headers")
            }
            guard let next = body.range(of: Data("\r\n".utf8) + delimiter, in: headersEnd.upperBound..<body.endIndex) else {
                throw .malformed("the last part is not closed by the boundary")
            }
            let headers = String(decoding: body[headersStart..<headersEnd.lowerBound], as: UTF8.self)
            if let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
               let filename = Self.parameter("filename", in: disposition) {
                files.append(FilePart(field: Self.parameter("name", in: disposition) ?? "", filename: filename,
                                      content: body[headersEnd.upperBound..<next.lowerBound]))
            }
            cursor = next.upperBound
        }
        self.files = files
    }

    private static func parameter(_ name: String, in header: Substring) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }
        return nil
    }
}

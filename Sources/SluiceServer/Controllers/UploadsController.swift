import Foundation
import Hummingbird
import NIOCore
import SluiceKit

/// `POST /api/uploads`: input files for pipelines (seed 004's upload), as multipart/form-data, stored in the
/// workspace's `uploads/` folder under their own (checked) names. Bodies over 64 MiB get 413.
struct UploadsController {
    let state: ServerState
    static let limit = 64 << 20

    struct Stored: Codable, Sendable {
        var name: String
        var path: String
        var size: Int
        var sha256: String
    }

    func register(on router: Router<APIContext>) {
        router.post("api/uploads") { request, _ in
            var buffer = try await request.body.collect(upTo: Self.limit)
            let body = buffer.readData(length: buffer.readableBytes) ?? Data()
            let form: MultipartForm
            do { form = try MultipartForm(contentType: request.headers[.contentType], body: body) } catch {
                throw HTTPError(.badRequest, message: "\(error)")
            }
            guard !form.files.isEmpty else { throw HTTPError(.badRequest, message: "the form has no file part") }
            let folder = state.configuration.workspace + "/uploads"
            for part in form.files where !Self.isSafe(part.filename) {
                throw HTTPError(.badRequest, message: "'\(part.filename)' is not an acceptable file name: use letters, digits, '.', '-' and '_', not starting with '.'")
            }
            let stored = try await offPool {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                return try form.files.map { part -> Stored in
                    try AtomicFile.write(part.content, to: "\(folder)/\(part.filename)")
                    return Stored(name: part.filename, path: "uploads/\(part.filename)", size: part.content.count,
                                  sha256: FileHash.sha256(of: part.content))
                }
            }
            return try JSONResponse.make(stored, status: .created)
        }
    }

    /// A plain file name: no folders, no hidden files, nothing a shell or a path could misread.
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }
}

import Foundation
import Hummingbird
import NIOCore
import SluiceKit
import Synchronization

/// `POST /api/uploads`: input files for pipelines, as multipart/form-data, stored in the workspace's `uploads/`
/// folder under their own (checked) names. Bodies stream to disk; over 64 MiB they get 413, and uploads under way
/// hold at most 256 MiB in all (503 past that). An existing file is replaced only with `?overwrite=true` (409 otherwise).
struct UploadsController {
    let state: ServerState
    static let limit = 64 << 20
    static let inFlightLimit = 256 << 20

    struct Stored: Codable, Sendable {
        var name: String
        var path: String
        var size: Int
        var sha256: String
    }

    func register(on router: Router<APIContext>) {
        router.post("api/uploads") { request, _ in
            try requireMediaType("multipart/form-data", of: request)
            let overwrite = try QueryParameter.overwrite.boolean(in: request)
            let declared = request.headers[.contentLength].flatMap(Int.init) ?? Self.limit
            guard declared <= Self.limit else { throw Self.tooLarge }
            guard state.uploadBytes.reserve(declared, limit: Self.inFlightLimit) else {
                throw HTTPError(
                    .serviceUnavailable, headers: [.retryAfter: "5"],
                    message: "other uploads are under way (\(Self.inFlightLimit >> 20) MiB at most at once); try again shortly")
            }
            defer { state.uploadBytes.release(declared) }
            let folder = state.configuration.workspace + "/uploads"
            try await offPool { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let receiver: MultipartReceiver
            do { receiver = try MultipartReceiver(contentType: request.headers[.contentType], folder: folder) } catch let problem
                as MultipartReceiver.Problem
            {
                throw HTTPError(.badRequest, message: problem.description)
            }
            do {
                var received = 0
                for try await chunk in request.body {
                    received += chunk.readableBytes
                    guard received <= Self.limit else { throw Self.tooLarge }
                    let bytes = Array(buffer: chunk)
                    try await offPool { try receiver.receive(bytes) }
                }
                try receiver.finish()
                guard !receiver.parts.isEmpty else { throw HTTPError(.badRequest, message: "the form has no file part") }
                let stored = try await offPool { try Self.publish(receiver.parts, in: folder, overwrite: overwrite) }
                return try JSONResponse.make(stored, status: .created)
            } catch let problem as MultipartReceiver.Problem {
                try? await offPool { receiver.discard() }
                if case .io = problem { throw HTTPError(.internalServerError, message: problem.description) }
                throw HTTPError(.badRequest, message: problem.description)
            } catch {
                try? await offPool { receiver.discard() }
                throw error
            }
        }
    }

    private static let tooLarge = HTTPError(.contentTooLarge, message: "an upload may be at most \(limit >> 20) MiB")

    /// Gives the received files their names, all or none: a name already taken is refused unless `overwrite` (a hard
    /// link refuses atomically, where a check before a rename could race another upload), and a refusal takes back
    /// the names this upload had already given. Hashes are of the received files, before anyone else can replace them.
    private static func publish(_ parts: [MultipartReceiver.Part], in folder: String, overwrite: Bool) throws -> [Stored] {
        let stored = try parts.map { part in
            Stored(name: part.filename, path: "uploads/\(part.filename)", size: part.size, sha256: try SHA256.hex(ofFileAt: part.temporary))
        }
        var linked: [String] = []
        for part in parts {
            let target = "\(folder)/\(part.filename)"
            let moved = overwrite ? rename(part.temporary, target) == 0 : link(part.temporary, target) == 0
            guard moved else {
                let error = errno
                for name in linked { unlink(name) }
                if error == EEXIST {
                    throw HTTPError(.conflict, message: "uploads/\(part.filename) exists already; send ?overwrite=true to replace it")
                }
                throw HTTPError(.internalServerError, message: "cannot store \(target): \(String(cString: strerror(error)))")
            }
            if !overwrite { linked.append(target) }
        }
        for part in parts where !overwrite { unlink(part.temporary) }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return stored
    }
}

/// Bytes that uploads under way may still bring: a budget taken before a body is read.
final class ByteBudget: Sendable {
    private let used = Mutex(0)

    func reserve(_ bytes: Int, limit: Int) -> Bool {
        used.withLock { used in
            guard used + bytes <= limit else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) { used.withLock { $0 -= bytes } }
}

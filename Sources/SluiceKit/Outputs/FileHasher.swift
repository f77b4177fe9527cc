import CSluiceSupport
import Foundation
import Synchronization

/// A file's content hash and the metadata it was taken under.
public struct FileHash: Sendable, Codable, Equatable {
    public var size: Int64
    public var modifiedNS: Int64
    public var inode: UInt64
    public var sha256: String
}

extension FileHash {
    /// SHA-256 of bytes in memory, in hex.
    public static func sha256(of data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { sluice_sha256($0.baseAddress, $0.count, &digest) }
        return FileHasher.hex(digest)
    }

    /// SHA-256 of a file's bytes, in hex.
    public static func sha256(ofFileAt path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        defer { close(descriptor) }
        var digest = [UInt8](repeating: 0, count: 32)
        guard sluice_sha256_fd(descriptor, &digest) == 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        return FileHasher.hex(digest)
    }
}

/// SHA-256 of files, remembered across runs: a file is read again only when its size, mtime or inode changed
/// since it was last hashed, so a no-op rerun of a big pipeline reads metadata, not data.
final class FileHasher: Sendable {
    private struct State {
        var known: [String: FileHash]
        var fresh: [String: FileHash] = [:]
    }

    private let state: Mutex<State>

    /// `known` maps absolute paths to their hashes from earlier runs (the store's).
    init(known: [String: FileHash]) { state = Mutex(State(known: known)) }

    /// The hash of the file at `path`, or nil when there is no such file.
    func hash(_ path: String) throws -> FileHash? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw AtomicFile.posixError("cannot read \(path)")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        let size = Int64(info.st_size)
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let inode = UInt64(info.st_ino)
        if let known = state.withLock({ $0.known[path] }), known.size == size, known.modifiedNS == modified, known.inode == inode {
            return known
        }
        var digest = [UInt8](repeating: 0, count: 32)
        guard sluice_sha256_fd(descriptor, &digest) == 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        let hash = FileHash(size: size, modifiedNS: modified, inode: inode, sha256: Self.hex(digest))
        state.withLock { state in
            state.known[path] = hash
            state.fresh[path] = hash
        }
        return hash
    }

    /// Hashes computed since the last call, to be saved in the store.
    func takeFresh() -> [String: FileHash] {
        state.withLock { state in
            defer { state.fresh = [:] }
            return state.fresh
        }
    }

    static func sha256(_ text: String) -> String { FileHash.sha256(of: Data(text.utf8)) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

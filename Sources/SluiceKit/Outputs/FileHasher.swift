import CSluiceSupport
import Foundation
import Synchronization

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
        // One stat for a file that has not changed (a no-op rerun's every file); the one opened is read and hashed.
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw AtomicFile.posixError("cannot read \(path)")
        }
        if let known = state.withLock({ $0.known[path] }), known.matches(info) { return known }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw AtomicFile.posixError("cannot read \(path)")
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        let hash = FileHash(
            size: Int64(info.st_size), modifiedNS: FileHash.modifiedNS(info), inode: UInt64(info.st_ino),
            sha256: try SHA256.hex(ofDescriptor: descriptor, path: path))
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
}

extension FileHash {
    static func modifiedNS(_ info: stat) -> Int64 { Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) }

    /// Whether the file `info` describes is still the one hashed: same size, modification time and inode.
    func matches(_ info: stat) -> Bool {
        size == Int64(info.st_size) && modifiedNS == Self.modifiedNS(info) && inode == UInt64(info.st_ino)
    }
}

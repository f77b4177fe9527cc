import CSluiceSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes that are all or nothing: a temporary file beside the target, fsync, rename, fsync of the folder.
public enum AtomicFile {
    /// `mode` is the new file's permissions (less the umask), set from its creation on.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        try replace(path, with: try temporary(for: path, mode: mode, durable: true) { fill($0, with: data) })
    }

    /// Writes the text `produce` passes to its `emit`, a chunk at a time, so a large file is never held whole.
    public static func write(to path: String, mode: mode_t = 0o644, _ produce: (_ emit: (String) -> Void) -> Void) throws {
        try replace(
            path,
            with: try temporary(for: path, mode: mode, durable: true) { descriptor in
                var chunk = "", failure: Int32?
                chunk.reserveCapacity(1 << 16)
                func flush() {
                    if failure == nil, !chunk.withUTF8({ writeAll(UnsafeRawBufferPointer($0), to: descriptor) }) { failure = errno }
                    chunk.removeAll(keepingCapacity: true)
                }
                produce { text in
                    guard failure == nil else { return }
                    chunk += text
                    if chunk.utf8.count >= 1 << 16 { flush() }
                }
                flush()
                // What `produce` did after a failed write (looking for logs, say) must not hide why it failed.
                if let failure { errno = failure }
                return failure == nil
            })
    }

    /// Writes the whole buffer to `descriptor`, through short writes and interruptions; false (with `errno`) on failure.
    public static func writeAll(_ buffer: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Replaces `path` with a copy of `source`, creating its folder; `verify` sees the copy before it is committed
    /// and may refuse it by throwing.
    public static func copy(_ source: String, to path: String, verify: (_ temporary: String) throws -> Void = { _ in }) throws {
        try replace(path, with: try stageCopy(source, for: path, durable: true, verify: verify).temporary)
    }

    /// A file written beside its target and not yet in its place, nor synced. A batch of them is made durable by
    /// one sync of their file system (``GroupSync``) before each is committed: until then a crash leaves every target
    /// as it was, and after it no target can be replaced by a file whose bytes are not on disk.
    struct Staged {
        let temporary: String
        let target: String

        /// Puts the file in its place. The rename itself is durable after the next sync of the file system.
        func commit() throws {
            guard rename(temporary, target) == 0 else { throw AtomicFile.posixError("cannot write \(target)") }
        }

        func discard() { unlink(temporary) }
    }

    /// `data`, staged to replace `path`.
    static func stage(_ data: Data, for path: String) throws -> Staged {
        Staged(temporary: try temporary(for: path, durable: false) { fill($0, with: data) }, target: path)
    }

    /// A copy of `source`, staged to replace `path` (its folder created), fsynced when `durable`; `verify` may refuse
    /// it by throwing.
    static func stageCopy(_ source: String, for path: String, durable: Bool = false, verify: (String) throws -> Void) throws -> Staged {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw posixError("cannot read \(source)") }
        defer { close(input) }
        return Staged(temporary: try temporary(for: path, durable: durable, verify: verify) { sluice_copy_fd(input, $0) == 0 }, target: path)
    }

    private static func fill(_ descriptor: Int32, with data: Data) -> Bool {
        data.withUnsafeBytes { writeAll($0, to: descriptor) }
    }

    /// A new file beside `path`, filled, fsynced when `durable`, and seen by `verify`; removed again if any fails.
    private static func temporary(
        for path: String, mode: mode_t = 0o644, durable: Bool, verify: (String) throws -> Void = { _ in }, fill: (Int32) -> Bool
    ) throws -> String {
        let temporary = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw posixError("cannot create \(temporary)") }
        let ok = fill(descriptor) && (!durable || fsync(descriptor) == 0)
        let error = errno
        close(descriptor)
        do {
            guard ok else {
                errno = error
                throw posixError("cannot write \(path)")
            }
            try verify(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        return temporary
    }

    /// Renames the durable `temporary` over `path`, then makes the rename durable with an fsync of the folder.
    private static func replace(_ path: String, with temporary: String) throws {
        guard rename(temporary, path) == 0 else {
            let error = posixError("cannot write \(path)")
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let folder = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    static func posixError(_ message: String) -> FileError {
        FileError(code: errno, message: "\(message): \(String(cString: strerror(errno)))")
    }
}

/// A failed file operation: what was being done, and the system's reason (`errno`).
struct FileError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var description: String { message }
}

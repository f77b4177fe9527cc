import CSluiceSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes that are all or nothing: a temporary file beside the target, fsync, rename, fsync of the folder.
public enum AtomicFile {
    /// `mode` is the new file's permissions (less the umask), set from its creation on.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        try replace(path, mode: mode) { descriptor in data.withUnsafeBytes { writeAll($0, to: descriptor) } }
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
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw posixError("cannot read \(source)") }
        defer { close(input) }
        try replace(path, verify: verify) { sluice_copy_fd(input, $0) == 0 }
    }

    private static func replace(_ path: String, mode: mode_t = 0o644, verify: (String) throws -> Void = { _ in }, fill: (Int32) -> Bool) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw posixError("cannot create \(temporary)") }
        let ok = fill(descriptor) && fsync(descriptor) == 0
        let error = errno
        close(descriptor)
        do {
            guard ok else {
                errno = error
                throw posixError("cannot write \(path)")
            }
            try verify(temporary)
            guard rename(temporary, path) == 0 else { throw posixError("cannot write \(path)") }
        } catch {
            unlink(temporary)
            throw error
        }
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

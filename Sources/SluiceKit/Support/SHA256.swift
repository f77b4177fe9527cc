import CSluiceSupport
import Foundation

/// SHA-256 digests in lowercase hex, computed by the C implementation in CSluiceSupport.
public enum SHA256 {
    public static func hex(of data: Data) -> String { hex(digest(of: data)) }

    /// The 32 bytes of the digest.
    public static func digest(of data: Data) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { sluice_sha256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    public static func hex(of text: String) -> String { hex(of: Data(text.utf8)) }

    /// The digest of a file's content.
    public static func hex(ofFileAt path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        defer { close(descriptor) }
        return try hex(ofDescriptor: descriptor, path: path)
    }

    /// The digest of what an open file holds from its current offset; `path` names it in errors.
    static func hex(ofDescriptor descriptor: Int32, path: String) throws -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        guard sluice_sha256_fd(descriptor, &digest) == 0 else { throw AtomicFile.posixError("cannot read \(path)") }
        return hex(digest)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
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

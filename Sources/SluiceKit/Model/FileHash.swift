/// A file's content hash and the metadata it was taken under.
public struct FileHash: Sendable, Codable, Equatable {
    public var size: Int64
    var modifiedNS: Int64
    var inode: UInt64
    public var sha256: String
}

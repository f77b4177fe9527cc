import Foundation

/// A ZIP archive of stored (uncompressed) entries, enough for an XLSX workbook; no compression library needed.
struct ZipWriter {
    private var body = Data()
    private var directory = Data()
    private var count: UInt16 = 0

    mutating func add(_ name: String, _ content: Data) {
        let nameBytes = Data(name.utf8)
        let crc = CRC32.checksum(content)
        let offset = UInt32(body.count)
        // Local file header: version 2.0, no flags, stored, no time, CRC, sizes, name.
        body.append(le32: 0x0403_4b50)
        body.append(le16: 20)
        body.append(le16: 0)
        body.append(le16: 0)
        body.append(le16: 0)
        body.append(le16: 0x21)
        body.append(le32: crc)
        body.append(le32: UInt32(content.count))
        body.append(le32: UInt32(content.count))
        body.append(le16: UInt16(nameBytes.count))
        body.append(le16: 0)
        body.append(nameBytes)
        body.append(content)
        // Central directory entry for it.
        directory.append(le32: 0x0201_4b50)
        directory.append(le16: 20)
        directory.append(le16: 20)
        directory.append(le16: 0)
        directory.append(le16: 0)
        directory.append(le16: 0)
        directory.append(le16: 0x21)
        directory.append(le32: crc)
        directory.append(le32: UInt32(content.count))
        directory.append(le32: UInt32(content.count))
        directory.append(le16: UInt16(nameBytes.count))
        directory.append(le16: 0)
        directory.append(le16: 0)
        directory.append(le16: 0)
        directory.append(le16: 0)
        directory.append(le32: 0)
        directory.append(le32: offset)
        directory.append(nameBytes)
        count += 1
    }

    var data: Data {
        var archive = body
        archive.append(directory)
        archive.append(le32: 0x0605_4b50)
        archive.append(le16: 0)
        archive.append(le16: 0)
        archive.append(le16: count)
        archive.append(le16: count)
        archive.append(le32: UInt32(directory.count))
        archive.append(le32: UInt32(body.count))
        archive.append(le16: 0)
        return archive
    }
}

enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { value in
        (0..<8).reduce(UInt32(value)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum(_ data: Data) -> UInt32 {
        ~data.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}

private extension Data {
    mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}

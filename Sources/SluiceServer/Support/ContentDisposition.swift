import Foundation

/// `Content-Disposition` for downloads (RFC 6266): a plain ASCII `filename` for old clients, and the exact name as
/// `filename*` (RFC 8187), so no quote, semicolon or line break in a name can change the header.
enum ContentDisposition {
    static func attachment(_ name: String) -> String {
        let fallback = String(
            name.unicodeScalars.map {
                $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F && !"\"\\;%".unicodeScalars.contains($0) ? Character($0) : "_"
            })
        let exact = name.addingPercentEncoding(withAllowedCharacters: attrChar) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(exact)"
    }

    /// RFC 8187's attr-char: what `filename*` may hold unencoded.
    private static let attrChar = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")
}

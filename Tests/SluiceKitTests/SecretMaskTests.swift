import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Every written form of a secret is hidden, wherever a chunk of output happens to end.
struct SecretMaskTests {
    let mask = SecretMask(values: ["s3cr3t token/+="])

    @Test func clearBase64AndURLEncodedFormsAreMasked() {
        let base64 = Data("s3cr3t token/+=".utf8).base64EncodedString()
        let text = "a s3cr3t token/+= b \(base64) c s3cr3t%20token%2F%2B%3D d s3cr3t+token%2f%2b%3d e"
        #expect(mask.redact(text) == "a *** b *** c *** d *** e")
    }

    @Test func aSecretIsMaskedAsAReportOrAQuotedErrorEscapesIt() {
        let mask = SecretMask(values: [#"pa&ss<w>"rd\x"#])
        #expect(mask.redact(#"report: pa&amp;ss&lt;w&gt;&quot;rd\x."#) == "report: ***.")
        #expect(mask.redact(#"line "pa&ss<w>\"rd\\x" has no '='"#) == #"line "***" has no '='"#)
    }

    @Test func textWithoutSecretsIsUnchanged() {
        #expect(mask.redact("nothing to hide: s3cr3t alone") == "nothing to hide: s3cr3t alone")
        #expect(SecretMask(values: []).redact("anything") == "anything")
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16])
    func aSecretSplitAcrossChunksIsStillMasked(chunkSize: Int) {
        let text = Array("start s3cr3t token/+= middle s3cr3t token/+=s3cr3t token/+= end".utf8)
        var masker = StreamMasker(mask: mask)
        var output: [UInt8] = []
        for start in stride(from: 0, to: text.count, by: chunkSize) {
            output += masker.feed(Array(text[start..<min(start + chunkSize, text.count)]))
        }
        output += masker.finish()
        #expect(String(decoding: output, as: UTF8.self) == "start *** middle ****** end")
    }

    @Test func aBasicAuthorizationHeaderHidesItsPassword() {
        let mask = SecretMask(values: ["s3cr3t-value"])
        // base64("ana:s3cr3t-value"): the user name stays readable, the password does not.
        #expect(mask.redact("Authorization: Basic YW5hOnMzY3IzdC12YWx1ZQ==\n") == "Authorization: Basic YW5hOn***Q==\n")
    }

    /// base64 turns each 3 bytes into 4 characters, so a secret inside a longer text starts at one of 3 alignments;
    /// every character computed from the secret's bytes alone is hidden, whatever surrounds it.
    @Test(arguments: ["alice:", "alice1:", "alice12:"], ["", "!", ":and more text"])
    func aSecretInsideALongerBase64TextIsMaskedAtEveryAlignment(prefix: String, suffix: String) {
        let secret = "s3cr3t-value"
        let encoded = Data((prefix + secret + suffix).utf8).base64EncodedString()
        #expect(SecretMask(values: [secret]).redact("token \(encoded) end") == "token \(Self.hidden(secret, after: prefix, in: encoded)) end")
    }

    @Test(arguments: [50, 51, 52])
    func aSecretStraddlingALineBreakOfWrappedBase64IsMasked(offset: Int) throws {
        let secret = "s3cr3t-value"
        let prefix = String(repeating: "p", count: offset)
        let text = prefix + secret + String(repeating: "s", count: 40)
        let wrapped = try Shell.run("printf '%s' \"$1\" | base64", text).output  // 76 columns: the secret's characters span two lines
        #expect(wrapped.split(separator: "\n").first?.count == 76)
        let masked = SecretMask(values: [secret]).redact(wrapped)
        let lineBreaks = { (text: String) in text.count { $0 == "\n" } }
        #expect(lineBreaks(masked) == lineBreaks(wrapped), "the lines stay")
        let encoded = Data(text.utf8).base64EncodedString()
        #expect(masked.filter { $0 != "\n" } == Self.hidden(secret, after: prefix, in: encoded))
    }

    @Test(arguments: ["-p", "-p -u"])
    func aSecretInAHexDumpIsMaskedInEitherCase(options: String) throws {
        let secret = "s3cr3t-value"
        let prefix = String(repeating: "p", count: 25)  // xxd -p breaks lines at 60 characters: inside the secret
        let dump = try Shell.run("printf '%s' \"$1\" | xxd \(options)", prefix + secret + "suffix").output
        let masked = SecretMask(values: [secret]).redact(dump)
        let hex = { (text: String) in text.utf8.map { String(format: options.contains("-u") ? "%02X" : "%02x", $0) }.joined() }
        #expect(masked.filter { $0 != "\n" } == hex(prefix) + "***" + hex("suffix"))
    }

    @Test func ordinaryTextAndOtherEncodedDataAreLeftAlone() {
        let mask = SecretMask(values: ["s3cr3t-value", "hunter2-Zq9!/x"])
        let text = """
            2026-11-22 10:00:01 loaded 1204 rows from sources/january.csv in 0.42s
            Authorization: Basic \(Data("alice:another-password".utf8).base64EncodedString())
            \(Data((0..<200).map { UInt8($0) }).base64EncodedString())
            sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  out.csv
            the secret value is not here, nor s3cr3t, nor hunter2
            """
        #expect(mask.redact(text) == text)
    }

    /// `encoded` (base64 of `prefix`, `secret` and more) with the characters that only `secret`'s bytes determine
    /// replaced by `***`.
    static func hidden(_ secret: String, after prefix: String, in encoded: String) -> String {
        let first = (prefix.utf8.count * 8 + 5) / 6
        let end = (prefix.utf8.count + secret.utf8.count) * 8 / 6
        return String(encoded.prefix(first)) + "***" + String(encoded.dropFirst(end))
    }
}

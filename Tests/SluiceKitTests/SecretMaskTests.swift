import Foundation
import SluiceKit
import Testing

/// Every written form of a secret is hidden, wherever a chunk of output happens to end.
struct SecretMaskTests {
    let mask = SecretMask(values: ["s3cr3t token/+="])

    @Test func clearBase64AndURLEncodedFormsAreMasked() {
        let base64 = Data("s3cr3t token/+=".utf8).base64EncodedString()
        let text = "a s3cr3t token/+= b \(base64) c s3cr3t%20token%2F%2B%3D d s3cr3t+token%2f%2b%3d e"
        #expect(mask.redact(text) == "a *** b *** c *** d *** e")
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
}

import Foundation
import SluiceTestSupport
import Testing

/// The example pipelines of `examples/`, each run through the `sluice` binary in a copy of its own, with their real
/// outputs checked. One suite, serialized, for the reason given on ``CommandLineTests``; each example's tests are
/// in the extension named after it.
@Suite(.serialized)
struct ExampleTests {
    /// The lines of a text, for counting.
    func lines(_ text: String) -> [Substring] { text.split(whereSeparator: \.isNewline) }
}

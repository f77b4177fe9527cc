import Foundation

/// Everything a step's result depends on, hashed: what it runs, the run's parameters, its declared environment
/// and the content of its inputs. Equal fingerprints and intact outputs make a step up to date.
struct StepFingerprint: Sendable, Codable, Equatable {
    /// Hash of the script file's content, or of the command text and working folder.
    public var action: String
    /// Parameter name to the hash of its value (values may be sensitive; the run record holds them).
    public var parameters: [String: String]
    /// Declared `env` name to the hash of its value.
    public var environment: [String: String]
    /// Input path (workspace-relative) to its content hash.
    public var inputs: [String: String]

    /// One hash of all the above.
    var digest: String {
        let parts =
            ["action \(action)"]
            + [("parameter", parameters), ("env", environment), ("input", inputs)].flatMap { label, values in
                values.sorted { $0.key < $1.key }.map { "\(label) \($0.key) \($0.value)" }
            }
        return SHA256.hex(of: parts.joined(separator: "\n"))
    }

    /// What differs from `old`, one line each, with the old and new hashes.
    public func changes(since old: StepFingerprint) -> [String] {
        var lines: [String] = []
        if action != old.action { lines.append("the step's script or command changed (\(short(old.action)) -> \(short(action)))") }
        for (label, new, previous) in [
            ("parameter", parameters, old.parameters), ("env", environment, old.environment),
            ("input", inputs, old.inputs),
        ] {
            for name in Set(new.keys).union(previous.keys).sorted() where new[name] != previous[name] {
                switch (previous[name], new[name]) {
                case let (before?, after?): lines.append("\(label) '\(name)' changed (\(short(before)) -> \(short(after)))")
                case let (nil, after?): lines.append("\(label) '\(name)' is new (\(short(after)))")
                case let (before?, nil): lines.append("\(label) '\(name)' is gone (was \(short(before)))")
                case (nil, nil): break
                }
            }
        }
        return lines
    }

    /// The first 12 digits of a hash (a script's action is `script PATH HASH`: its hash is the last word).
    private func short(_ value: String) -> String { String((value.split(separator: " ").last ?? "").prefix(12)) }
}

/// What the last successful attempt of a step left behind: its fingerprint and its outputs' hashes.
public struct StepFingerprintRecord: Sendable, Codable, Equatable {
    public var pipeline: String
    public var step: String
    public var runID: String
    public var recordedAt: Date
    var fingerprint: StepFingerprint
    /// Output path (workspace-relative) to its content hash.
    public var outputs: [String: String]
    /// What the step passed on (`$SLUICE_OUTPUT`): a run where it is up to date passes the same on.
    public var outputValues: [String: String]?
}

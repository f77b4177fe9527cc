import Foundation

/// One place a run's manual-review notification is delivered to (`notify:` in a pipeline or `sluice.yaml`).
public struct NotificationTarget: Sendable, Equatable {
    /// Where the notification goes: a file, a webhook or a command.
    public enum Kind: Sendable, Equatable {
        /// Append the text to a file (relative to the workspace).
        case file(String)
        /// POST the JSON document to a URL.
        case webhook(String)
        /// Run a shell command with the text on its standard input (e.g. sendmail).
        case command(String)
    }

    public var kind: Kind
    /// The run statuses that notify; failed and partial_success unless `on:` says otherwise.
    public var on: Set<RunStatus> = [.failed, .partialSuccess]
    /// Seconds a webhook or command may take per attempt.
    public var timeout: Double = 10
    /// Further webhook attempts after a failed one, with doubling delays.
    public var retries: Int = 3

    public init(kind: Kind) { self.kind = kind }

    /// The target as settings show it: a webhook cut to its scheme and host (paths and queries often hold tokens), a
    /// command to its program.
    public var summary: String {
        switch kind {
        case let .file(path): "file \(path)"
        case let .command(command): "command \(command.split(separator: " ").first ?? "")"
        case let .webhook(url): "webhook " + (URL(string: url).map { "\($0.scheme ?? "http")://\($0.host ?? "")/…" } ?? "(invalid URL)")
        }
    }
}

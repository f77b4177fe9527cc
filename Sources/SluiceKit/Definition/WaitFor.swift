/// `wait_for:`: a step that waits for something outside the pipeline (a file another system drops, a service that
/// comes up), as Airflow's sensors do in reschedule mode.
///
/// Each check is one short attempt of the step; between checks the step waits out a retry delay, which holds none
/// of the run's `--jobs` slots, so the step it waits for can run meanwhile. A run stopped while it waits is resumed
/// as any run is, and waits on; a cancel stops the wait.
public struct WaitFor: Sendable, Equatable {
    public enum Check: Sendable, Equatable {
        /// A file (or a folder) exists, relative to the workspace.
        case file(String)
        /// At least one file matches the glob, relative to the workspace.
        case glob(String)
        /// The command exits 0.
        case command(String)
        /// The URL answers a 2xx status.
        case http(String)
    }

    public var check: Check
    /// Seconds between checks.
    public var interval: Double
    /// Seconds after the first check that the step gives up: it fails, or with `softFail` is skipped.
    public var timeout: Double
    public var softFail: Bool

    public static let defaultInterval = 30.0
    public static let defaultTimeout = 24 * 3600.0

    /// The checks, as retries: the first at once, then one every `interval` until `timeout` has passed.
    var retry: RetryPolicy {
        RetryPolicy(retries: Int((timeout / interval).rounded(.up)), delay: interval, backoff: 1, maxDelay: interval)
    }

    /// The command of one check: the check itself for `command`, else `sluice probe` (templates in the target are
    /// filled in, shell-quoted, as in a command).
    var command: String {
        switch check {
        case let .command(text): text
        case let .file(path): Self.probe("--file", path)
        case let .glob(pattern): Self.probe("--glob", pattern)
        case let .http(url): Self.probe("--http", url)
        }
    }

    private static func probe(_ option: String, _ target: String) -> String {
        #"exec "${SLUICE_BINARY:-sluice}" probe -C "$SLUICE_WORKSPACE" "# + option + " " + Template.shellWord(target)
    }
}

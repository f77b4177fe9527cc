import ArgumentParser
import SluiceKit

/// The documented exit codes (see `sluice --help`).
enum ExitStatus {
    static let failed = ExitCode(1)
    static let partialSuccess = ExitCode(2)
    static let invalidInput = ExitCode(65)
    static let internalError = ExitCode(70)
    /// Another Sluice process owns the run.
    static let busy = ExitCode(75)
    static let cancelled = ExitCode(130)

    /// The command line's one mapping of Sluice's errors.
    static func of(_ code: SluiceError.Code) -> ExitCode {
        switch code {
        case .nothingToDo: .success
        case .notFound, .invalidInput: invalidInput
        case .conflict: busy
        default: internalError
        }
    }

    static func of(_ status: RunStatus) -> ExitCode {
        switch status {
        case .success: .success
        case .partialSuccess: partialSuccess
        case .failed, .running, .queued, .interrupted: failed
        case .cancelled: cancelled
        }
    }
}

/// Prints a message on stderr and exits with `code`.
func fail(_ message: String, _ code: ExitCode) -> ExitCode {
    Console.error(message)
    return code
}

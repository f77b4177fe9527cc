import Foundation

/// One recovery Sluice performed for a failed step: a rollback of its outputs, or a healing script.
public struct RecoveryAction: Sendable, Codable, Equatable {
    /// What the recovery did: put outputs back, or ran a healing script.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case rollback = "ROLLBACK_TO_BACKUP"
        case healingScript = "RUN_HEALING_SCRIPT"
    }

    /// Whether the recovery succeeded.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case success = "SUCCESS"
        case failed = "FAILED"
    }

    public var kind: Kind
    /// What it acted on: the step's outputs, or the script it ran.
    public var target: String
    public var status: Status
    /// What was done, or why it could not be.
    public var message: String
    public var at: Date

    public var succeeded: Bool { status == .success }
}

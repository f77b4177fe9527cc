import Foundation
import GRDB

/// A run as the store keeps it.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var pipeline: String
    public var status: RunStatus
    /// What started it: `cli`, `step`, later `api` or `schedule`.
    public var trigger: String
    public var parameters: [String: String]
    public var selection: Selection
    public var runDirectory: String
    public var ownerPID: Int32
    public var createdAt: Date
    public var finishedAt: Date?
    public var stepsTotal: Int

    public var duration: Double? { finishedAt.map { $0.timeIntervalSince(createdAt) } }
}

/// The current state of one step in one run.
public struct StepRunRecord: Sendable, Codable, Equatable {
    public var runID: String
    public var step: String
    public var position: Int
    public var state: StepState
    public var reason: String?
    public var attempts: Int
    public var exitCode: Int32?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var duration: Double?
    public var error: String?
    public var peakMemoryKB: Int?
    public var cpuSeconds: Double?
    public var allowedFailure: Bool
}

/// One attempt of one step: a process that was started.
public struct AttemptRecord: Sendable, Codable, Equatable {
    public var runID: String
    public var step: String
    public var attempt: Int
    public var state: StepState
    public var pid: Int32
    public var startedAt: Date
    public var finishedAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var error: String?
    public var peakMemoryKB: Int?
    public var userCPU: Double?
    public var systemCPU: Double?
}

/// The latest known state of a step across runs, with its tested mark: what seed 002's status file shows.
public struct StepStatusRecord: Sendable, Codable, Equatable {
    public var pipeline: String
    public var step: String
    public var completed: Bool
    public var tested: Bool
    public var lastRun: Date?
    public var lastRunID: String?
    public var lastState: StepState?
    public var lastDuration: Double?
    public var error: String?
}

/// An event as stored, numbered in the order it was written.
public struct StoredEvent: Sendable, Codable, Equatable {
    public var seq: Int64
    public var runID: String
    public var at: Date
    public var kind: String
    public var step: String?
    public var attempt: Int?
    public var state: String?
    public var message: String?
}

extension RunRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runs"

    /// Every time in the store is seconds since 1970 (sortable, sub-millisecond), as the engine writes them;
    /// GRDB's default would be text. (Reading accepts numbers by default.)
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
}

extension StepRunRecord: FetchableRecord, TableRecord { public static let databaseTableName = "stepRuns" }
extension AttemptRecord: FetchableRecord, TableRecord { public static let databaseTableName = "attempts" }
extension StepStatusRecord: FetchableRecord {}
extension StoredEvent: FetchableRecord, TableRecord { public static let databaseTableName = "events" }

/// What a trigger recorded on the run it started.
public struct TriggerDetail: Codable, Sendable, Equatable {
    /// The schedule or watch, by name.
    public var name: String?
    /// For a schedule: the time the run was due, in the schedule's time zone (ISO 8601).
    public var scheduledFor: String?
    /// For a watch: the files that appeared or changed, relative to the workspace when inside it.
    public var paths: [String]?
    /// For a backfill: its id, the interval (`2026-10-01`, or `2026-10-01..2026-10-07`) and how many of its runs
    /// may run at once.
    public var backfill: String?
    public var interval: String?
    public var maxActive: Int?

    public init(
        name: String? = nil, scheduledFor: String? = nil, paths: [String]? = nil, backfill: String? = nil,
        interval: String? = nil, maxActive: Int? = nil
    ) {
        self.name = name
        self.scheduledFor = scheduledFor
        self.paths = paths
        self.backfill = backfill
        self.interval = interval
        self.maxActive = maxActive
    }
}

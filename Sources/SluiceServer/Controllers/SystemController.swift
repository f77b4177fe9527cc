import Foundation
import Hummingbird
import SluiceKit

/// `/api/health` and `/api/config`.
struct SystemController {
    let state: ServerState

    struct Health: Codable, Sendable {
        var status: String
        var version: String
        var activeRuns: Int
        var store: String
    }

    struct Setting: Codable, Sendable {
        var key: String
        var value: String
        var source: String
    }

    struct Settings: Codable, Sendable {
        var workspace: String
        var settings: [Setting]
        /// Notification handlers, with webhook URLs cut to scheme and host (their paths and queries often hold tokens).
        var notify: [String]
    }

    func register(on router: Router<APIContext>) {
        router.get("api/health") { _, _ in
            // A query proves the store answers; a failure becomes a 5xx the monitoring sees.
            _ = try await state.store.runs(pipeline: nil, limit: 1, offset: 0)
            return JSON(
                Health(
                    status: "ok", version: SluiceVersion.current, activeRuns: await state.launcher.activeCount,
                    store: state.configuration.store.description))
        }
        router.get("api/config") { _, _ in
            let configuration = state.configuration
            return JSON(
                Settings(
                    workspace: configuration.workspace,
                    settings: configuration.values.map { Setting(key: $0.key, value: $0.shown, source: $0.source.description) },
                    notify: configuration.notify.map(\.summary)))
        }
    }
}

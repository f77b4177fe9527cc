import Foundation
import Yams

/// Reads `schedule:` and `watch:`: each one entry (a mapping, or for schedules just the cron text) or a list.
enum TriggerReader {

    static func schedules(_ node: Node, reader: DefinitionReader) -> [Schedule] {
        entries(node).enumerated().compactMap { index, item in
            readSchedule(item, defaultName: index == 0 ? "schedule" : "schedule-\(index + 1)", reader: reader)
        }
    }

    static func watches(_ node: Node, reader: DefinitionReader) -> [FileWatch] {
        entries(node).enumerated().compactMap { index, item in
            readWatch(item, defaultName: index == 0 ? "watch" : "watch-\(index + 1)", reader: reader)
        }
    }

    private static func entries(_ node: Node) -> [Node] { node.sequence.map(Array.init) ?? [node] }

    private static func readSchedule(_ node: Node, defaultName: String, reader: DefinitionReader) -> Schedule? {
        var name = defaultName, zone = TimeZone(identifier: "UTC")!, zoneName = "UTC", catchUp = CatchUpPolicy.none, limit = 100
        var parameters: [String: ParameterTemplate] = [:]
        var cron: CronExpression?
        if let text = node.scalar?.string {
            cron = readCron(text, node, reader: reader)
        } else {
            let entries = reader.entries(of: node, known: PipelineFormat.schedule.names, context: "a schedule")
            guard node.mapping != nil else { return nil }
            for (key, _, value) in entries {
                switch key {
                case "name": name = reader.string(value, key) ?? defaultName
                case "cron": cron = reader.string(value, key).flatMap { readCron($0, value, reader: reader) }
                case "timezone":
                    guard let text = reader.string(value, key) else { continue }
                    guard let named = TimeZone(identifier: text) else {
                        reader.report(
                            .badValue, value, "unknown time zone '\(text)'", fix: "write an IANA name such as Europe/Berlin, America/New_York or UTC")
                        continue
                    }
                    zone = named
                    zoneName = text
                case "catch_up":
                    guard let text = reader.string(value, key) else { continue }
                    guard let policy = CatchUpPolicy(rawValue: text) else {
                        reader.report(.badValue, value, "'catch_up' must be none, latest or all, not '\(text)'")
                        continue
                    }
                    catchUp = policy
                case "max_catch_up": limit = reader.wholeNumber(value, key, in: 1...10_000) ?? limit
                case "params": parameters = readTemplates(value, known: TriggerVariables.schedule, reader: reader)
                default: break
                }
            }
            if entries.allSatisfy({ $0.key != "cron" }) {
                reader.report(.missingKey, node, "a schedule has no 'cron'", fix: "add cron: \"0 6 * * *\" (or @daily, @hourly, ...)")
            }
        }
        guard let cron else { return nil }
        return Schedule(
            name: name, cron: cron, timeZone: zone, timeZoneName: zoneName, catchUp: catchUp, catchUpLimit: limit, parameters: parameters,
            location: reader.location(node))
    }

    private static func readCron(_ text: String, _ node: Node, reader: DefinitionReader) -> CronExpression? {
        do { return try CronExpression(text) } catch {
            let fix =
                switch error.code {
                case .syntax: "write five fields such as \"30 6 * * mon-fri\", or @daily"
                case .neverFires: "choose days those months have: February has 29 at most; April, June, September and November 30"
                }
            reader.report(.badValue, node, "invalid cron expression: \(error)", fix: fix)
            return nil
        }
    }

    private static func readWatch(_ node: Node, defaultName: String, reader: DefinitionReader) -> FileWatch? {
        var watch = FileWatch(name: defaultName, folder: "", patterns: ["*"], debounce: 5, parameters: [:], location: reader.location(node))
        let entries = reader.entries(of: node, known: PipelineFormat.watch.names, context: "a watch")
        guard node.mapping != nil else { return nil }
        for (key, _, value) in entries {
            switch key {
            case "name": watch.name = reader.string(value, key) ?? defaultName
            case "path": watch.folder = reader.string(value, key) ?? ""
            case "pattern": watch.patterns = reader.strings(value, key).map(\.0)
            case "debounce": watch.debounce = reader.duration(value, key) ?? watch.debounce
            case "params": watch.parameters = readTemplates(value, known: TriggerVariables.watch, reader: reader)
            default: break
            }
        }
        guard !watch.folder.isEmpty, !watch.folder.contains("\0") else {
            reader.report(.missingKey, node, "a watch has no 'path'", fix: "add path: incoming/ (a folder, relative to the workspace)")
            return nil
        }
        return watch
    }

    private static func readTemplates(_ node: Node, known: [String], reader: DefinitionReader) -> [String: ParameterTemplate] {
        guard let mapping = node.mapping else {
            reader.report(.wrongType, node, "'params' must map parameter names to values", fix: "write date_start: \"{{ schedule.date }}\"")
            return [:]
        }
        var templates: [String: ParameterTemplate] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, let text = reader.string(value, name) else { continue }
            if let unknown = ParameterTemplate.check(text, known: known) {
                reader.report(
                    .badValue, value, "unknown placeholder '{{ \(unknown) }}' in parameter '\(name)'",
                    fix: "use one of: \(known.map { "{{ \($0) }}" }.joined(separator: ", "))")
                continue
            }
            templates[name] = ParameterTemplate(text: text)
        }
        return templates
    }
}

import Foundation

/// `report.html`: a self-contained page per run (the run's dashboard and final report): summary,
/// a timeline of attempts, every step, errors, recovery actions and an index of outputs. No external assets.
public struct RunReport: Sendable {
    public var run: RunRecord
    public var steps: [StepRunRecord]
    public var attempts: [AttemptRecord]
    public var actions: [RecoveryActionRecord]
    /// Files in the run's `outputs/` folder, relative, with sizes.
    public var outputs: [(path: String, size: Int64)]

    public init(
        run: RunRecord, steps: [StepRunRecord], attempts: [AttemptRecord], actions: [RecoveryActionRecord],
        outputs: [(path: String, size: Int64)]
    ) {
        self.run = run
        self.steps = steps
        self.attempts = attempts
        self.actions = actions
        self.outputs = outputs
    }

    /// Files under `folder`, relative and sorted.
    public static func files(in folder: String) -> [(path: String, size: Int64)] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [(String, Int64)] = []
        while let relative = walker.nextObject() as? String {
            guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            files.append((relative, (walker.fileAttributes?[.size] as? NSNumber)?.int64Value ?? 0))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The report runs no script and loads nothing: its style is inline, its links are to the run's outputs.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"

    /// Writes the page to `path` a piece at a time, each piece through `redact`: a report of many thousand steps is
    /// never held whole.
    public func write(to path: String, redact: (String) -> String) throws {
        try AtomicFile.write(to: path) { emit in render { emit(redact($0)) } }
    }

    /// The page, in pieces each made of whole values (so that a secret is never split between two).
    private func render(_ emit: (String) -> Void) {
        let counts = Dictionary(FanOutSummary.shown(steps).map { ($0.state.rawValue, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
        func row(_ step: StepRunRecord) -> String {
            "<tr><td>\(e(step.step))</td><td><span class=\"badge \(e(step.state.rawValue))\">\(e(step.state.rawValue))</span>"
                + (step.recovered ? " recovered" : "")
                + "</td><td>\(step.attempts)</td><td>\(step.duration.map { e(DurationFormat.short($0)) } ?? "")</td>"
                + "<td>\(step.peakMemoryKB.map { "\($0 / 1024) MiB" } ?? "")</td><td>\(step.exitCode.map(String.init) ?? "")</td>"
                + "<td>\(e(step.error ?? step.reason ?? ""))</td></tr>"
        }
        emit(
            """
            <!doctype html><html lang="en"><head><meta charset="utf-8">\
            <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)"><title>Run \(e(run.id)) · \(e(run.pipeline))</title>
            <style>\(Self.style)</style></head><body>
            <h1>\(e(run.pipeline)) <span class="muted">run \(e(run.id))</span> <span class="badge \(e(run.status.rawValue))">\(e(run.status.rawValue))</span></h1>
            <p class="muted">started \(e(Timestamp.iso(run.createdAt)))\(run.duration.map { " · took \(e(DurationFormat.short($0)))" } ?? "") · trigger \(e(run.trigger))\
            \(run.parameters.isEmpty ? "" : " · " + run.parameters.sorted { $0.key < $1.key }.map { "\(e($0.key))=\(e($0.value))" }.joined(separator: " "))</p>
            <section class="cards">\(counts.map { "<div class=\"card \(e($0.key))\"><b>\($0.value)</b>\(e($0.key.replacingOccurrences(of: "_", with: " ")))</div>" }.joined())</section>
            <h2>Timeline</h2>
            """)
        timeline(emit)
        emit("\n<h2>Resources</h2>\(resources)\n")
        emit(
            "<h2>Steps</h2><table><tr><th>step</th><th>state</th><th>attempts</th><th>duration</th><th>peak memory</th><th>exit</th><th>note</th></tr>"
        )
        // A fan-out's row, counting its instances, comes before them: in place of the first, or of the fan-out's own
        // row for one over an upstream step's value (its instances were added after the run's steps).
        var fanOuts = Dictionary(uniqueKeysWithValues: FanOutSummary.of(steps.lazy.map { ($0.step, $0.state) }).map { ($0.step, $0) })
        // Positions, not copies: a fan-out of many thousand instances would otherwise be held twice.
        let members = Dictionary(grouping: steps.indices.filter { FanOutSummary.fanOut(of: steps[$0].step) != nil }) {
            FanOutSummary.fanOut(of: steps[$0].step)!
        }
        for step in steps {
            let name = fanOuts[step.step] != nil ? step.step : FanOutSummary.fanOut(of: step.step)
            guard let name, members[name] != nil else {
                emit(row(step))
                continue
            }
            guard let fanOut = fanOuts.removeValue(forKey: name) else { continue }
            emit("<tr class=\"fan-out\"><td><b>\(e(name))</b></td><td colspan=\"6\">\(e(fanOut.summary)) (\(fanOut.total) instances)</td></tr>")
            members[name]!.forEach { emit(row(steps[$0])) }
        }
        emit("</table>")
        // What steps passed on ($SLUICE_OUTPUT): the first 50 of them; a big fan-out's are in the JSON export.
        let passing = steps.filter { $0.outputValues?.isEmpty == false }
        if !passing.isEmpty {
            emit("<h2>Values passed on</h2><table><tr><th>step</th><th>key</th><th>value</th></tr>")
            for step in passing.prefix(50) {
                for (key, value) in step.outputValues!.sorted(by: { $0.key < $1.key }) {
                    emit("<tr><td>\(e(step.step))</td><td>\(e(key))</td><td><pre>\(e(value))</pre></td></tr>")
                }
            }
            emit("</table>" + (passing.count > 50 ? "<p class=\"muted\">and \(passing.count - 50) more steps: see the JSON export</p>" : ""))
        }
        let failed = steps.filter { $0.state.isFailure }
        if !failed.isEmpty {
            // With the end of each failed step's log, which usually says more than its exit status.
            let logs = RunDirectory(root: run.runDirectory)
            emit("<h2>Errors</h2><ul>")
            for step in failed {
                let tail = LogTail.lines(of: logs.log(of: step.step), count: 5)
                emit(
                    "<li><b>\(e(step.step))</b>: \(e(step.error ?? step.state.rawValue))"
                        + (tail.isEmpty ? "" : "<pre>\(e(tail.joined(separator: "\n")))</pre>") + "</li>")
            }
            emit("</ul>")
        }
        if !actions.isEmpty {
            emit(
                "<h2>Recovery actions</h2><table><tr><th>step</th><th>action</th><th>target</th><th>status</th><th>message</th></tr>"
                    + actions.map {
                        "<tr><td>\(e($0.step))</td><td>\(e($0.action.kind.rawValue))</td><td>\(e($0.action.target))</td>"
                            + "<td>\(e($0.action.status.rawValue))</td><td>\(e($0.action.message))</td></tr>"
                    }.joined() + "</table>")
        }
        emit(
            "<h2>Outputs</h2>"
                + (outputs.isEmpty
                    ? "<p class=\"muted\">none</p>"
                    : "<ul>"
                        + outputs.map {
                            "<li><a href=\"outputs/\(e($0.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0.path))\">\(e($0.path))</a> "
                                + "<span class=\"muted\">\($0.size) bytes</span></li>"
                        }.joined() + "</ul>"))
        emit("</body></html>\n")
    }

    /// Attempts as bars on a time axis (an SVG Gantt chart).
    private func timeline(_ emit: (String) -> Void) {
        guard let start = attempts.map(\.startedAt).min() else { return emit("<p class=\"muted\">no step ran</p>") }
        let end = attempts.compactMap(\.finishedAt).max() ?? run.finishedAt ?? Date()
        let span = max(end.timeIntervalSince(start), 0.001)
        let rowHeight = 22, labelWidth = 180, width = 900
        // Grouped once: a scan of every attempt for each step is quadratic, seconds for a run of 10,000 steps.
        let attemptsByStep = Dictionary(grouping: attempts.indices) { attempts[$0].step }
        let names = steps.map(\.step).filter { attemptsByStep[$0] != nil }
        emit(
            "<svg class=\"timeline\" viewBox=\"0 0 \(width) \(rowHeight * names.count + 20)\" width=\"100%\" role=\"img\" aria-label=\"timeline of attempts\">"
        )
        for (row, name) in names.enumerated() {
            let y = row * rowHeight
            emit("<text x=\"0\" y=\"\(y + 15)\">\(e(name))</text>")
            for attempt in (attemptsByStep[name] ?? []).lazy.map({ attempts[$0] }) {
                let x0 = Double(labelWidth) + attempt.startedAt.timeIntervalSince(start) / span * Double(width - labelWidth)
                let x1 = Double(labelWidth) + (attempt.finishedAt ?? end).timeIntervalSince(start) / span * Double(width - labelWidth)
                emit(
                    "<rect class=\"\(e(attempt.state.rawValue))\" x=\"\(Int(x0))\" y=\"\(y + 3)\" width=\"\(max(2, Int(x1 - x0)))\" height=\"16\">"
                        + "<title>\(e(name)) attempt \(attempt.attempt): \(e(attempt.state.rawValue))</title></rect>")
            }
        }
        emit("<text x=\"\(labelWidth)\" y=\"\(rowHeight * names.count + 15)\" class=\"muted\">0s</text>")
        emit("<text x=\"\(width - 60)\" y=\"\(rowHeight * names.count + 15)\" class=\"muted\">\(e(DurationFormat.short(span)))</text></svg>")
    }

    /// Peak memory and CPU time per step, side by side: a bar to the median, a line from the least to the most of a
    /// fan-out's instances.
    private var resources: String {
        let figures = ResourceFigures(steps)
        let rows = figures.rows.filter { $0.memoryKB != nil || $0.cpuSeconds != nil }
        guard !rows.isEmpty else { return "<p class=\"muted\">nothing measured</p>" }
        let rowHeight = 22, labelWidth = 180, panel = 340, gap = 30, width = labelWidth + 2 * panel + gap
        let memoryTop = rows.compactMap { $0.memoryKB?.max }.max() ?? 0, cpuTop = rows.compactMap { $0.cpuSeconds?.max }.max() ?? 0
        func bars(_ spread: ResourceFigures.Spread?, top: Double, left: Int, y: Int, name: String, said: (Double) -> String) -> String {
            guard let spread, top > 0 else { return "" }
            let scale = Double(panel - 60) / top, x = Double(left)
            let title =
                spread.min == spread.max ? said(spread.max) : "least \(said(spread.min)), median \(said(spread.median)), most \(said(spread.max))"
            return "<rect class=\"bar\" x=\"\(left)\" y=\"\(y + 4)\" width=\"\(max(1, Int(spread.median * scale)))\" height=\"14\">"
                + "<title>\(e(name)): \(e(title))</title></rect>"
                + (spread.min == spread.max
                    ? ""
                    : "<line class=\"spread\" x1=\"\(Int(x + spread.min * scale))\" x2=\"\(Int(x + spread.max * scale))\" y1=\"\(y + 11)\" y2=\"\(y + 11)\"/>")
                + "<text x=\"\(Int(x + spread.max * scale) + 4)\" y=\"\(y + 16)\" class=\"muted\">\(e(said(spread.max)))</text>"
        }
        var svg =
            "<svg class=\"resources\" viewBox=\"0 0 \(width) \(rowHeight * rows.count + 24)\" width=\"100%\" role=\"img\" "
            + "aria-label=\"peak memory and CPU time of the steps\"><text x=\"\(labelWidth)\" y=\"14\">peak memory</text>"
            + "<text x=\"\(labelWidth + panel + gap)\" y=\"14\">CPU time</text>"
        for (index, row) in rows.enumerated() {
            let y = 20 + index * rowHeight
            let name = row.measured > 1 ? "\(row.step) ×\(row.measured)" : row.step
            svg += "<text x=\"0\" y=\"\(y + 16)\">\(e(name))</text>"
            svg += bars(row.memoryKB, top: memoryTop, left: labelWidth, y: y, name: name) {
                $0 < 1024 ? "\(Int($0)) KiB" : String(format: "%.1f MiB", $0 / 1024)
            }
            svg += bars(row.cpuSeconds, top: cpuTop, left: labelWidth + panel + gap, y: y, name: name) { DurationFormat.short($0) }
        }
        return svg + "</svg>"
            + (figures.more > 0
                ? "<p class=\"muted\">and \(figures.more) more steps with less memory, or none measured: see the JSON export</p>" : "")
    }

    private func e(_ text: String) -> String { Markup.escape(text) }

    private static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#1d2330}
        h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}.muted{color:#6b7280;font-weight:normal}
        table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
        td,p,h1,code{overflow-wrap:anywhere}
        .badge{border-radius:.6rem;padding:.05rem .5rem;font-size:.8rem;background:#e5e7eb}
        .cards{display:flex;gap:.75rem;flex-wrap:wrap}.card{border:1px solid #e5e7eb;border-radius:.5rem;padding:.5rem 1rem}.card b{display:block;font-size:1.4rem}
        .succeeded,.success{background:#d1fae5}.failed,.timed_out{background:#fee2e2}.partial_success,.cancelled,.interrupted{background:#fef3c7}
        .up_to_date{background:#e0e7ff}.running{background:#dbeafe}pre{background:#f3f4f6;padding:.5rem;overflow:auto;font-size:12px}
        svg text{font-size:12px;fill:#1d2330}rect.succeeded{fill:#10b981}rect.failed,rect.timed_out{fill:#ef4444}rect.cancelled,rect.interrupted{fill:#f59e0b}rect.running{fill:#3b82f6}
        svg.resources rect.bar{fill:#6366f1}svg.resources line.spread{stroke:#1d2330;stroke-width:2}
        """
}

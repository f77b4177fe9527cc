import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Change detection, versions and notifications through the `sluice` binary.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct RecoveryCommandTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String..., environment: [String: String] = [:]) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root, environment: environment)
    }

    @Test func whyVersionsAndRestoreExplainAndUndoChanges() throws {
        try workspace.pipeline(
            "copy",
            """
            steps:
              - {name: copy, command: 'mkdir -p out && cp data/in.txt out/in.txt', inputs: [data], outputs: [out]}
            """)
        try workspace.write("data/in.txt", "first\n")
        #expect(try sluice("run", "copy").status == 0)
        let skipped = try sluice("why", "copy", "copy")
        #expect(skipped.stdout.hasPrefix("copy/copy would be skipped: up to date"))

        try workspace.write("data/in.txt", "second\n")
        let why = try sluice("why", "copy", "copy")
        #expect(why.stdout.contains("copy/copy would run:"))
        #expect(why.stdout.contains("input 'data/in.txt' changed ("), "names the input with old and new hashes")
        #expect(try sluice("run", "copy").stdout.contains("1 succeeded"))

        let versions = try sluice("versions", "copy").stdout
        #expect(versions.contains("v2  out/in.txt  7 bytes"))
        #expect(versions.contains("(newest, last good)"))
        #expect(versions.contains("v1  out/in.txt  6 bytes"))

        #expect(try sluice("restore", "copy", "copy", "1").status == 0)
        #expect(try workspace.read("out/in.txt") == "first\n")
        let restored = try sluice("why", "copy", "copy").stdout
        #expect(restored.contains("output 'out/in.txt' changed since run"), "a restored old version is not the last good state")
        #expect(try sluice("restore", "copy", "copy").status == 0)
        #expect(try workspace.read("out/in.txt") == "second\n")

        let unknown = try sluice("restore", "copy", "copy", "9")
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("has no version 9"))
    }

    @Test func theWebhookIsRetriedAndAnUnreachableOneNeverFailsTheRun() throws {
        let receiver = try WebhookReceiver(in: workspace, failFirst: 1)
        try workspace.pipeline(
            "alerting",
            """
            notify:
              - {webhook: "\(receiver.url)", retries: 2, timeout: 5s}
              - {command: 'cat > command-received.txt'}
            steps:
              - {name: broken, command: 'echo about to fail; exit 4'}
            """)
        let first = try sluice("run", "alerting")
        #expect(first.status == 1)
        #expect(first.stdout.contains("delivered (HTTP 200, attempt 2)"))
        let body = try #require(try receiver.bodies().first)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let notification = try #require(document["notification"] as? [String: Any])
        #expect(notification["status"] as? String == "failed")
        #expect((document["text"] as? String)?.contains("MANUAL REVIEW NOTIFICATION") == true)
        #expect(try workspace.read("command-received.txt").contains("ERROR #1:"))

        receiver.stop()
        let second = try sluice("run", "alerting")
        #expect(second.status == 1, "the run's own status, not the handler's")
        #expect(second.stdout.contains("failed after 3 attempts"))
        let id = try #require(second.stdout.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try workspace.read("runs/\(id)/notifications.log").contains("failed after 3 attempts"))
    }

    @Test func handlersNotifyOnTheOutcomesTheyAskFor() throws {
        try workspace.write("sluice.yaml", "notify:\n  - {file: all-outcomes.txt, on: [success, failure]}\n")
        try workspace.pipeline(
            "fine",
            """
            notify:
              - file: failures-only.txt
            steps:
              - {name: ok, command: 'true'}
            """)
        #expect(try sluice("run", "fine").status == 0)
        #expect(try workspace.read("all-outcomes.txt").contains("Status       : SUCCESS"), "the workspace handler asked for success")
        #expect(!workspace.exists("failures-only.txt"), "by default a handler hears only failures and partial successes")
    }

    @Test func aSecretAppearsInNoFileSluiceWrites() throws {
        let secret = "s3cr3t/value+with=symbols"
        let receiver = try WebhookReceiver(in: workspace)
        defer { receiver.stop() }
        try workspace.pipeline(
            "leaky",
            """
            secrets: [API_TOKEN]
            notify:
              - webhook: "\(receiver.url)"
              - file: alerts/review.txt
            steps:
              - name: leak
                command: |
                  echo "clear $API_TOKEN"
                  printf %s "$API_TOKEN" | base64
                  python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["API_TOKEN"], safe=""))'
                  echo "failing with $API_TOKEN" >&2
                  exit 1
                outputs: [out.txt]
                on_failure: rollback
            """)
        let result = try sluice("run", "leaky", environment: ["API_TOKEN": secret])
        #expect(result.status == 1)
        #expect(try receiver.bodies().count == 1)
        let forms = [
            secret, Data(secret.utf8).base64EncodedString(),
            secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
        ]
        var checked = 0
        for folder in [".sluice", "runs", "alerts", "pipelines", receiver.folderName] {
            guard let walker = FileManager.default.enumerator(atPath: workspace.path(folder)) else { continue }
            while let relative = walker.nextObject() as? String {
                guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular,
                    let data = FileManager.default.contents(atPath: workspace.path("\(folder)/\(relative)"))
                else { continue }
                let text = String(decoding: data, as: UTF8.self)
                for form in forms { #expect(!text.contains(form), "\(form) found in \(folder)/\(relative)") }
                checked += 1
            }
        }
        #expect(checked >= 8, "the logs, run log, summary, notifications, store and webhook body were all read")
        #expect(result.stdout.contains("***"))
        let id = try #require(result.stdout.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try sluice("status", id).stdout.contains("recovery of leak: ROLLBACK_TO_BACKUP FAILED: no good version to roll back to"))
    }
}

/// `sluice export`, checked by the programs that read its files.
@Suite(.serialized)
struct ExportCommandTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    @Test func libreOfficeOpensTheWorkbook() throws {
        try workspace.pipeline("two", "steps:\n  - {name: first, command: 'true'}\n  - {name: second, command: 'exit 3', depends_on: [first]}\n")
        let run = try SluiceBinary.run(["run", "two"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try SluiceBinary.run(["export", id, "--format", "xlsx", "-o", "exports/run.xlsx"], in: workspace.root).status == 0)

        let office = Process()
        office.executableURL = URL(fileURLWithPath: "/usr/bin/soffice")
        // Every sheet to its own CSV file (the last filter option, -1), with a profile of its own.
        office.arguments = [
            "-env:UserInstallation=file://\(workspace.path("office-profile"))", "--headless", "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir", workspace.path("converted"), workspace.path("exports/run.xlsx"),
        ]
        office.standardOutput = FileHandle.nullDevice
        office.standardError = FileHandle.nullDevice
        try office.run()
        office.waitUntilExit()
        #expect(office.terminationStatus == 0)
        let steps = try workspace.read("converted/run-Steps.csv").split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(steps.map { $0.prefix(4).joined(separator: ",") } == ["step,state,attempts,exit_code", "first,succeeded,1,0", "second,failed,1,3"])
        #expect(try workspace.read("converted/run-Run.csv").contains("\(id),two,failed,cli"))
        #expect(try workspace.read("converted/run-Attempts.csv").split(separator: "\n").count == 3)
    }

    /// Step names a spreadsheet takes for formulas, and errors with line breaks and control characters (written into the
    /// store as another process could), read back by Python's csv module and by openpyxl.
    @Test func exportsKeepEveryCharacterAsTextAndDatesAsDates() throws {
        try workspace.pipeline(
            "odd",
            """
            steps:
              - {name: "=cmd", command: 'true'}
              - {name: "+1", command: 'true'}
              - {name: "@x", command: 'sleep 0.2'}
              - {name: "-x", command: 'true'}
            """)
        let run = try SluiceBinary.run(["run", "odd"], in: workspace.root)
        let id = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        for (step, error) in [
            ("=cmd", "'line one' || char(10) || 'line two'"), ("+1", "'before' || char(13) || 'after'"),
            ("@x", "'=HYPERLINK(\"http://example.com\")'"), ("-x", "char(9) || 'tab, then' || char(1)"),
        ] {
            _ = try Python.sqlite(workspace.storePath, "UPDATE step_runs SET error = \(error) WHERE step = '\(step)'")
        }
        _ = try Python.sqlite(workspace.storePath, "UPDATE step_runs SET exitcode = -1, cpuseconds = -0.5 WHERE step = '@x'")
        #expect(try SluiceBinary.run(["export", id, "--format", "csv", "-o", "run.csv"], in: workspace.root).status == 0)
        #expect(try SluiceBinary.run(["export", id, "--format", "xlsx", "-o", "run.xlsx"], in: workspace.root).status == 0)

        let check = try workspace.write(
            "check.py",
            """
            import csv, datetime, json, openpyxl
            rows = list(csv.reader(open("run.csv", newline="", encoding="utf-8")))
            book = openpyxl.load_workbook("run.xlsx")
            steps = [[cell.value for cell in row] for row in book["Steps"].iter_rows(min_row=2)]
            dates = [cell.value for sheet in book for row in sheet.iter_rows(min_row=2) for cell in row[4:6] if cell.value is not None]
            # The workbook's times are the CSV's, to the millisecond (each rounds the same instant).
            gaps = [abs(step[4] - datetime.datetime.fromisoformat(row[4].rstrip("Z"))).total_seconds() for step, row in zip(steps, rows[1:])]
            print(json.dumps({"csv": [[row[0], row[3], row[11]] for row in rows], "cpu": rows[3][8],
                              "xlsx": [[step[0], str(step[3]), step[11]] for step in steps],
                              "dates": len(dates), "allDates": all(isinstance(d, datetime.datetime) for d in dates),
                              "gap": max(gaps), "napped": (steps[2][5] - steps[2][4]).total_seconds()}))
            """)
        let (status, printed) = try Python.run([check], in: workspace.root, mergingErrors: true, interpreter: Python.tools)
        #expect(status == 0, "\(printed)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        #expect(
            read["csv"] as? [[String]] == [
                ["step", "exit_code", "error"],
                ["'=cmd", "0", "line one\nline two"],
                ["'+1", "0", "before\rafter"],
                ["'@x", "-1", "'=HYPERLINK(\"http://example.com\")"],
                ["'-x", "0", "'\ttab, then\u{1}"],
            ], "one row per step; formulas defused with a quote, negative numbers left as they are")
        #expect(read["cpu"] as? String == "-0.5")
        // openpyxl leaves the OOXML escape of a character XML cannot hold as it is; Excel and LibreOffice turn it back.
        #expect(
            read["xlsx"] as? [[String]] == [
                ["=cmd", "0", "line one\nline two"], ["+1", "0", "before\rafter"],
                ["@x", "-1", "=HYPERLINK(\"http://example.com\")"], ["-x", "0", "\ttab, then_x0001_"],
            ])
        #expect(read["dates"] as? Int == 2 + 8 + 8 && read["allDates"] as? Bool == true, "started and finished on every sheet are dates")
        #expect((read["gap"] as? Double ?? 1) <= 0.001)
        #expect((0.15...5).contains(read["napped"] as? Double ?? 0), "milliseconds kept")
    }
}

import Foundation
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Seed 004's analytics platform: seven stages to a dashboard, from the command line and through the REST API.
extension ExampleTests {
    @Test func analyticsPlatformWritesASelfContainedDashboard() throws {
        let workspace = try TestWorkspace.example("analytics_platform")
        let run = try workspace.runThroughBinary("analytics_platform", "-p", "rows=500")
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(run.states.count == 7 && Set(run.states.values) == ["succeeded"])
        let dashboard = try run.output("dashboard.html")
        #expect(dashboard.components(separatedBy: "<svg").count - 1 >= 4, "charts drawn as inline SVG")
        #expect(!dashboard.contains("<script") && !dashboard.contains("http://") && !dashboard.contains("https://"), "self-contained")
        #expect(dashboard.contains("revenue by month") && dashboard.contains("correlation with revenue"))
        let results = try workspace.json("\(run.directory)/outputs/results.json") as! [String: Any]
        #expect((results["summary"] as? [String: Any])?["rows"] as? Int == 500)
        #expect((results["insights"] as? [String])?.contains { $0.hasPrefix("revenue grows") } == true)
    }

    @Test func analyticsPlatformRunsThroughTheAPIFromAnUploadedFile() async throws {
        let workspace = try TestWorkspace.example("analytics_platform")
        // A CSV of its own, with other column names and a semicolon separator: amount grows with visits.
        let rows = (0..<120).map { day in
            "2025-\(String(format: "%02d", day / 30 + 1))-\(String(format: "%02d", day % 28 + 1));\(["north", "south"][day % 2]);\(10 + day);\(100 + 3 * day)"
        }
        let csv = try workspace.write("incoming/sales_data.csv", (["day;store;visits;amount"] + rows).joined(separator: "\n") + "\n")
        let server = try SluiceBinary.start(["serve", "--port", "0"], in: workspace.root)
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        let banner = String(decoding: server.stdout.availableData, as: UTF8.self)
        let address = try #require(banner.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })

        let client = try Python.run(
            [
                "pipelines/analytics_platform/client.py", csv, "--server", address, "--target", "amount",
                "--time", "day", "--context", "finance", "--out", workspace.root,
            ], in: workspace.root, mergingErrors: true)
        #expect(client.status == 0, "\(client.output)")
        #expect(client.output.contains("uploaded uploads/sales_data.csv"))
        #expect(client.output.contains("progress: 100.0%  success"))
        let results = try workspace.json("results.json") as! [String: Any]
        #expect((results["config"] as? [String: Any])?["data_source"] as? String == "uploads/sales_data.csv")
        let strongest = (results["summary"] as? [String: Any])?["strongest_correlation"] as? [Any]
        #expect(strongest?.first as? String == "visits" && (strongest?.last as? Double ?? 0) > 0.99)
        #expect(try workspace.read("dashboard.html").contains("Finance dashboard"))

        // The same run, as the API lists it.
        let (listed, _) = try await URLSession.shared.data(from: try #require(URL(string: address + "/api/runs?pipeline=analytics_platform")))
        let runs = try JSONSerialization.jsonObject(with: listed) as! [[String: Any]]
        #expect(runs.count == 1 && runs[0]["status"] as? String == "success" && runs[0]["trigger"] as? String == "api")

        let refused = try Python.run(
            [
                "pipelines/analytics_platform/client.py", csv, "--server", address, "--target", "store",
                "--time", "day", "--out", workspace.root,
            ], in: workspace.root, mergingErrors: true)
        #expect(refused.status == 1)
        #expect(refused.output.contains("target_column 'store' is not numeric; choose one of: visits, amount"))
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
    }
}

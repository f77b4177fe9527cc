import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Peak memory is the step's own, measured by the `sluice` binary as a user runs it, or unknown: never Sluice's size.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct ResourceFigureTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// Each step's recorded peak memory, in MiB (nil: unknown), from `sluice status --json` of the latest run.
    private func peaks() throws -> [String: Double] {
        let runs =
            try JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["runs", "--json"], in: workspace.root).stdout.utf8)) as? [[String: Any]]
        let id = try #require(runs?.first?["id"] as? String)
        let status = try JSONSerialization.jsonObject(with: Data(try SluiceBinary.run(["status", id, "--json"], in: workspace.root).stdout.utf8))
        let steps = try #require((status as? [String: Any])?["steps"] as? [[String: Any]])
        return Dictionary(
            uniqueKeysWithValues: steps.compactMap { step in
                (step["peak_memory_kb"] as? NSNumber).map { (step["step"] as? String ?? "", $0.doubleValue / 1024) }
            })
    }

    @Test func aStepsPeakMemoryIsItsOwnOrUnknown() throws {
        try workspace.script("memory", "big.py", "x = b'x' * (200 << 20)\nprint(len(x))\n")
        try workspace.script("memory", "child.sh", "python3 \"$(dirname \"$0\")/big.py\"\necho done\n")
        try workspace.script("memory", "small.py", "import time\nx = b'x' * (20 << 20)\ntime.sleep(0.5)\n")
        try workspace.pipeline(
            "memory",
            """
            steps:
              - {name: tiny, command: /bin/true}
              - {name: big, script: big.py, depends_on: [tiny]}
              - {name: child, script: child.sh, depends_on: [big]}
              - {name: small, script: small.py, depends_on: [child]}
            """)
        let run = try SluiceBinary.run(["run", "memory", "--jobs", "1"], in: workspace.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let peaks = try peaks()
        print(
            "peak memory (MiB): \(["tiny", "big", "child", "small"].map { "\($0)=\(peaks[$0].map { String(format: "%.1f", $0) } ?? "unknown")" }.joined(separator: " "))"
        )
        #expect(peaks["tiny"].map { $0 < 5 } ?? true, "/bin/true is not Sluice's size: \(String(describing: peaks["tiny"]))")
        let big = try #require(peaks["big"]), child = try #require(peaks["child"])
        #expect(abs(big - 200) < 20, "a 200 MiB allocation: \(big) MiB")
        #expect(abs(child - 200) < 20, "a child process's 200 MiB: \(child) MiB")
        let small = try #require(peaks["small"], "a step smaller than Sluice, alive for a sample")
        #expect(small > 20 && small < 40, "20 MiB and Python itself: \(small) MiB")
    }
}

import ArgumentParser
import Foundation
import SluiceKit

/// What a Slurm job runs: one attempt of a step, from the order file the Slurm executor wrote.
struct AttemptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attempt", abstract: "Run one attempt of a step from an order file (what Slurm jobs run).",
        shouldDisplay: false)

    @Argument(help: "The order file: the step's launch, timeout and limits.") var order: String
    @Argument(help: "Where to write how the attempt ended.") var result: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: order) else { throw fail("cannot read \(order)", ExitStatus.internalError) }
        let decoded: AttemptOrder
        do { decoded = try JSONDecoder.attempts.decode(AttemptOrder.self, from: data) } catch {
            throw fail("\(order) is not an attempt order: \(error)", ExitStatus.internalError)
        }
        // The step sees its job as any Slurm job does: SLURM_JOB_ID, SLURM_CPUS_PER_TASK…
        var order = decoded
        order.launch.environment += ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("SLURM_") }.map { "\($0.key)=\($0.value)" }
        let ended: AttemptResult = await withCheckedContinuation { continuation in
            _ = order.run { continuation.resume(returning: $0) }
        }
        do { try AtomicFile.write(try JSONEncoder.attempts.encode(ended), to: result) } catch {
            throw fail("cannot write \(result): \(error)", ExitStatus.internalError)
        }
        if ended.state != .succeeded { throw ExitCode(ended.exitCode.map { $0 == 0 ? 1 : $0 } ?? 1) }
    }
}

import Foundation

extension PipelineRunner {
    /// Records a run whose own process could not finish recording it as failed, and says why in its `run.log`; both
    /// are tried and may fail too (the store is what failed), which the periodic recovery then mends.
    func recordStopped(_ id: String, because error: any Error) async {
        guard let run = try? await store.run(id: id), run.status == .running || run.status == .queued else { return }
        let line = "\(Timestamp.iso(Date())) the run stopped: its state could not be recorded: \(StoreLocation.explain(error))\n"
        if let handle = FileHandle(forWritingAtPath: RunDirectory(root: run.runDirectory).runLog) {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(line.utf8))
            try? handle.close()
        }
        try? await store.writeEvents([RunEvent(runID: id, pipeline: run.pipeline, kind: .runFinished(status: .failed))])
    }
}

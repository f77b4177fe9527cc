import Foundation

/// Writes a run's manual-review notification to its run directory and hands it to the configured handlers.
/// A handler that fails is logged (`notifications.log` in the run directory) and never fails the run.
struct NotificationDelivery: Sendable {
    public let workspace: String
    public let mask: SecretMask
    /// Pause before the first webhook retry; doubled for each further one.
    var retryDelay: Double = 0.5

    public init(workspace: String, mask: SecretMask) {
        self.workspace = workspace
        self.mask = mask
    }

    /// Writes `manual_review_TIMESTAMP.txt` and `.json` into `directory`, then delivers to every target that asks
    /// for the run's status. Returns one line per handler saying how it went.
    @discardableResult
    func deliver(_ notification: ReviewNotification, to targets: [NotificationTarget], directory: RunDirectory) async -> [String] {
        let text = mask.redact(notification.text)
        let json = Data(mask.redact(String(decoding: notification.json, as: UTF8.self)).utf8)
        let stamp = notification.timestamp.filter { $0.isNumber || $0 == "T" }
        var report: [String] = []
        let file = directory.root + "/manual_review_\(stamp).txt"
        do {
            try AtomicFile.write(Data(text.utf8), to: file)
            try AtomicFile.write(json, to: directory.root + "/manual_review_\(stamp).json")
            report.append("written to \(file)")
        } catch {
            report.append("cannot write \(file): \(error)")
        }
        for target in targets where target.on.contains(notification.status) {
            let outcome: String
            switch target.kind {
            case let .file(path):
                do {
                    try append(text + "\n", to: path.hasPrefix("/") ? path : "\(workspace)/\(path)")
                    outcome = "file \(path): delivered"
                } catch {
                    outcome = "file \(path): failed: \(error)"
                }
            case let .webhook(url): outcome = "webhook \(mask.redact(HTTPExchange.shown(url))): " + (await post(json, to: url, target: target))
            case let .command(command): outcome = "command: " + (await runCommand(command, input: text, timeout: target.timeout))
            }
            report.append(outcome)
        }
        if report.count > 1 {
            try? append(report.map { "\(Timestamp.iso(Date())) \(mask.redact($0))\n" }.joined(), to: directory.root + "/notifications.log")
        }
        return report
    }

    /// Appends to a file, creating it and its folder.
    private func append(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw SluiceError(.file, "cannot open for writing", file: path) }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// POSTs `body`, retrying with doubling delays after a connection error, a timeout or a 5xx answer.
    private func post(_ body: Data, to url: String, target: NotificationTarget) async -> String {
        var problem = ""
        for attempt in 0...target.retries {
            if attempt > 0 { try? await Task.sleep(for: .seconds(retryDelay * pow(2, Double(attempt - 1)))) }
            do {
                let code = try await HTTPExchange.status(
                    .POST, url, body: body, headers: [("Content-Type", "application/json")], timeout: target.timeout)
                if (200..<300).contains(code) { return "delivered (HTTP \(code), attempt \(attempt + 1))" }
                problem = "HTTP \(code)"
                if code < 500 { break }
            } catch {
                problem = HTTPExchange.reason(error)
            }
        }
        return "failed after \(target.retries + 1) attempts: \(problem)"
    }

    /// Runs `command` with bash, the text on its standard input; ends it after `timeout` seconds.
    private func runCommand(_ command: String, input: String, timeout: Double) async -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace)
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let status: Int32? = await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                return continuation.resume(returning: nil)
            }
            DispatchQueue.global().async {
                try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
                try? stdin.fileHandleForWriting.close()
            }
            // SIGKILL: Foundation's children inherit the SIGTERM that Sluice ignores (it handles it with a dispatch source).
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        }
        switch status {
        case nil: return "failed: cannot start bash"
        case 0?: return "delivered"
        case let code?: return process.terminationReason == .uncaughtSignal ? "failed: ended after \(timeout)s" : "failed: exit status \(code)"
        }
    }
}

import CSluiceSupport
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches every running child from one thread with epoll: its exit (a pidfd) and its output (a pipe).
///
/// Output is appended to the step's log file, which is created when the first byte arrives: a step that prints
/// nothing costs no file. When a child's main process exits, it is reaped with `wait4` (which gives its resource
/// usage), whatever it left in its process group is killed, and its remaining output is drained.
final class ProcessMonitor: Sendable {
    static let shared = ProcessMonitor()

    /// How long output may keep arriving after the main process exited (from processes that escaped its group).
    static let drainGrace = 0.5

    private let epoll: Int32
    private let children = Mutex<[UInt64: WatchedChild]>([:])
    private let nextID = Atomic<UInt64>(1)

    private init() {
        epoll = sluice_epoll_create()
        let thread = Thread { [self] in loop() }
        thread.name = "sluice.monitor"
        thread.start()
    }

    /// Watches `pid`; its stdout and stderr arrive on `output` (the read end of a pipe). `completion` runs on the
    /// monitor thread once the process has exited and its output is in the log.
    func watch(pid: pid_t, output: Int32, logFile: String, logHeader: String?, logLimit: Int64, mask: SecretMask?,
               completion: @escaping @Sendable (ChildExit) -> Void) throws(SpawnError) {
        let pidfd = sluice_pidfd_open(pid)
        guard pidfd >= 0 else {
            let reason = String(cString: strerror(errno))
            killpg(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            Glibc.close(output)
            throw SpawnError(description: "cannot watch the process (pidfd_open: \(reason)); Sluice needs Linux 5.3 or later")
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let child = WatchedChild(pid: pid, pidfd: pidfd, output: output, logFile: logFile, logHeader: logHeader, logLimit: logLimit,
                                 masker: mask.map(StreamMasker.init), completion: completion)
        children.withLock { $0[id] = child }
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        sluice_epoll_add(epoll, output, id << 1 | 1)
        sluice_epoll_add(epoll, pidfd, id << 1)
    }

    private func loop() {
        var tokens = [UInt64](repeating: 0, count: 64)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        // Children whose main process exited but whose pipe is still held open (by something that escaped the
        // group), with when to stop waiting for its output. Usually empty.
        var draining: [UInt64: (child: WatchedChild, deadline: Date)] = [:]
        while true {
            let deadline = draining.values.map(\.deadline).min()
            let timeout = deadline.map { max(0, Int32(($0.timeIntervalSinceNow * 1000).rounded(.up))) } ?? -1
            let count = sluice_epoll_wait(epoll, &tokens, 64, timeout)
            for index in 0..<max(0, Int(count)) {
                let id = tokens[index] >> 1
                guard let child = children.withLock({ $0[id] }) else { continue }
                if tokens[index] & 1 == 0 { child.reap(epoll: epoll) }
                child.readOutput(into: &buffer, epoll: epoll)
                if child.isFinished {
                    draining[id] = nil
                    finish(id, child)
                } else if child.exit != nil, draining[id] == nil {
                    draining[id] = (child, Date().addingTimeInterval(Self.drainGrace))
                }
            }
            guard !draining.isEmpty else { continue }
            let now = Date()
            for (id, entry) in draining where entry.deadline <= now {
                draining[id] = nil
                finish(id, entry.child)
            }
        }
    }

    private func finish(_ id: UInt64, _ child: WatchedChild) {
        children.withLock { $0[id] = nil }
        child.close(epoll: epoll)
        var exit = child.exit!
        exit.logProblem = child.logProblem
        child.completion(exit)
    }
}

/// One watched child; touched only by the monitor thread once registered.
private final class WatchedChild: @unchecked Sendable {
    let pid: pid_t
    let pidfd: Int32
    let output: Int32
    let logFile: String
    let logHeader: String?
    let completion: @Sendable (ChildExit) -> Void
    /// Hides secrets; bytes that might begin one wait in it for the next read.
    var masker: StreamMasker?
    var log: Int32 = -1
    var outputOpen = true
    var exit: ChildExit?

    let logLimit: Int64
    /// Bytes in the current log file.
    var logSize: Int64 = 0
    /// The first failed write, and the end of what could not be written (kept for the error message).
    var writeFailure: String?
    var unwritten: [UInt8] = []

    init(pid: pid_t, pidfd: Int32, output: Int32, logFile: String, logHeader: String?, logLimit: Int64, masker: StreamMasker?,
         completion: @escaping @Sendable (ChildExit) -> Void) {
        self.logLimit = logLimit
        self.pid = pid
        self.pidfd = pidfd
        self.output = output
        self.logFile = logFile
        self.logHeader = logHeader
        self.masker = masker
        self.completion = completion
    }

    var isFinished: Bool { exit != nil && !outputOpen }

    func reap(epoll: Int32) {
        guard exit == nil else { return }
        sluice_epoll_remove(epoll, pidfd)
        exit = ChildProcess.wait(pid)
        // Whatever the step left running in its group goes with it.
        killpg(pid, SIGKILL)
    }

    func readOutput(into buffer: inout [UInt8], epoll: Int32) {
        guard outputOpen else { return }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                if let masked = masker?.feed(Array(buffer[0..<count])) {
                    append(masked, count: masked.count)
                } else {
                    append(buffer, count: count)
                }
            } else if count == 0 {
                outputOpen = false
                sluice_epoll_remove(epoll, output)
                return
            } else if errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// Appends output to the log, whose memory cost is this one buffer however much a step prints. Past
    /// `logLimit`, the log moves to `STEP.log.1` (replacing an older one) and a new one starts. A failed write
    /// (a full disk) loses that output but not the step: the failure and the end of what was lost are reported.
    private func append(_ buffer: [UInt8], count: Int) {
        if log < 0 {
            log = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            logSize = log >= 0 ? Int64(lseek(log, 0, SEEK_END)) : 0
            if let logHeader { write(Array(logHeader.utf8), count: logHeader.utf8.count) }
        } else if logSize + Int64(count) > logLimit, logSize > 0 {
            Glibc.close(log)
            rename(logFile, logFile + ".1")
            log = open(logFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            logSize = 0
            let note = "--- sluice: the log passed \(logLimit) bytes; its previous part is \((logFile as NSString).lastPathComponent).1 ---\n"
            write(Array(note.utf8), count: note.utf8.count)
        }
        write(buffer, count: count)
    }

    private func write(_ buffer: [UInt8], count: Int) {
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < count, log >= 0 {
                let written = Glibc.write(log, bytes.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    writeFailure = writeFailure ?? String(cString: strerror(errno))
                    break
                }
                offset += written
                logSize += Int64(written)
            }
        }
        if log < 0 { writeFailure = writeFailure ?? "cannot create \(logFile)" }
        if offset < count {
            unwritten = Array((unwritten + buffer[offset..<count]).suffix(1024))
        }
    }

    /// Why part of the output is not in the log, with the end of what was lost.
    var logProblem: String? {
        guard let writeFailure else { return nil }
        let tail = String(decoding: unwritten, as: UTF8.self).split(whereSeparator: \.isNewline).suffix(3).joined(separator: " | ")
        return "some of its output could not be written to its log (\(writeFailure))" + (tail.isEmpty ? "" : "; it ended: \(tail)")
    }

    func close(epoll: Int32) {
        if let rest = masker?.finish(), !rest.isEmpty { append(rest, count: rest.count) }
        if outputOpen { sluice_epoll_remove(epoll, output) }
        Glibc.close(output)
        Glibc.close(pidfd)
        if log >= 0 { Glibc.close(log) }
    }
}

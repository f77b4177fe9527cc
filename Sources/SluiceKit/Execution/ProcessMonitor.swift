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
    /// Written to when a child is added, so that a loop asleep with nothing to sample starts sampling it.
    private let wake: (read: Int32, write: Int32)
    private let children = Mutex<[UInt64: WatchedChild]>([:])
    private let nextID = Atomic<UInt64>(1)

    private init() {
        epoll = sluice_epoll_create()
        var fds: [Int32] = [-1, -1]
        _ = sluice_pipe_cloexec(&fds)
        wake = (fds[0], fds[1])
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        sluice_epoll_add(epoll, wake.read, Self.wakeToken)
        let thread = Thread { [self] in loop() }
        thread.name = "sluice.monitor"
        thread.start()
    }

    /// Watches `pid`; its stdout and stderr arrive on `output` (the read end of a pipe). `completion` runs on the
    /// monitor thread once the process has exited and its output is in the log.
    func watch(
        pid: pid_t, output: Int32, logFile: String, logHeader: String?, logLimit: Int64, mask: SecretMask?,
        completion: @escaping @Sendable (ChildExit) -> Void
    ) throws(SpawnError) {
        let pidfd = sluice_pidfd_open(pid)
        guard pidfd >= 0 else {
            let reason = String(cString: strerror(errno))
            killpg(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            Glibc.close(output)
            throw SpawnError(description: "cannot watch the process (pidfd_open: \(reason)); Sluice needs Linux 5.3 or later")
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let child = WatchedChild(
            pid: pid, pidfd: pidfd, output: output, logFile: logFile, logHeader: logHeader, logLimit: logLimit,
            masker: mask.map(StreamMasker.init), inheritedKB: ProcessMemory.inheritedKB(), completion: completion)
        children.withLock { $0[id] = child }
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        sluice_epoll_add(epoll, output, id << 1 | 1)
        sluice_epoll_add(epoll, pidfd, id << 1)
        var byte: UInt8 = 1
        _ = Glibc.write(wake.write, &byte, 1)
    }

    /// The token of the wake pipe: child ids start at 1, so no child's pidfd has it.
    private static let wakeToken: UInt64 = 0

    private func loop() {
        var tokens = [UInt64](repeating: 0, count: 64)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        // Children whose main process exited but whose pipe is still held open (by something that escaped the
        // group), with when to stop waiting for its output. Usually empty.
        var draining: [UInt64: (child: WatchedChild, deadline: Date)] = [:]
        var nextSample = Date()
        while true {
            // Memory is sampled only while children run; an idle Sluice sleeps in epoll.
            let running = children.withLock { !$0.isEmpty }
            let deadline = (draining.values.map(\.deadline) + (running ? [nextSample] : [])).min()
            let timeout = deadline.map { max(0, Int32(($0.timeIntervalSinceNow * 1000).rounded(.up))) } ?? -1
            let count = sluice_epoll_wait(epoll, &tokens, 64, timeout)
            if running, Date() >= nextSample {
                for child in children.withLock({ Array($0.values) }) where child.exit == nil { child.sampleMemory() }
                nextSample = Date().addingTimeInterval(ProcessMemory.samplingInterval)
            }
            for index in 0..<max(0, Int(count)) {
                if tokens[index] == Self.wakeToken {
                    var drained = [UInt8](repeating: 0, count: 64)
                    while read(wake.read, &drained, drained.count) > 0 {}
                    continue
                }
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
    /// Where the kernel's peak-memory figure for this child starts (Sluice's own size at spawn).
    let inheritedKB: Int
    /// The largest sum of its live processes' high-water marks seen by sampling.
    var sampledPeakKB: Int?

    let logLimit: Int64
    /// Bytes in the current log file.
    var logSize: Int64 = 0
    /// The first failed write, and the end of what could not be written (kept for the error message).
    var writeFailure: String?
    var unwritten: [UInt8] = []

    init(
        pid: pid_t, pidfd: Int32, output: Int32, logFile: String, logHeader: String?, logLimit: Int64, masker: StreamMasker?,
        inheritedKB: Int, completion: @escaping @Sendable (ChildExit) -> Void
    ) {
        self.inheritedKB = inheritedKB
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

    func sampleMemory() {
        guard let sample = ProcessMemory.sampleTreeKB(pid) else { return }
        sampledPeakKB = max(sampledPeakKB ?? 0, sample)
    }

    func reap(epoll: Int32) {
        guard exit == nil else { return }
        sluice_epoll_remove(epoll, pidfd)
        var ended = ChildProcess.wait(pid, inheritedKB: inheritedKB)
        // The kernel's figure where it is the step's own; else what sampling saw; else nothing.
        ended.peakMemoryKB = ended.peakMemoryKB ?? sampledPeakKB
        exit = ended
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

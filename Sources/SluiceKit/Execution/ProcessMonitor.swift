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
    func watch(pid: pid_t, output: Int32, logFile: String, logHeader: String?, mask: SecretMask?,
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
        let child = WatchedChild(pid: pid, pidfd: pidfd, output: output, logFile: logFile, logHeader: logHeader,
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
        child.completion(child.exit!)
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

    init(pid: pid_t, pidfd: Int32, output: Int32, logFile: String, logHeader: String?, masker: StreamMasker?,
         completion: @escaping @Sendable (ChildExit) -> Void) {
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

    private func append(_ buffer: [UInt8], count: Int) {
        if log < 0 {
            log = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if let logHeader { _ = logHeader.withCString { write(log, $0, strlen($0)) } }
        }
        guard log >= 0 else { return }
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < count {
                let written = write(log, bytes.baseAddress! + offset, count - offset)
                if written < 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }

    func close(epoll: Int32) {
        if let rest = masker?.finish(), !rest.isEmpty { append(rest, count: rest.count) }
        if outputOpen { sluice_epoll_remove(epoll, output) }
        Glibc.close(output)
        Glibc.close(pidfd)
        if log >= 0 { Glibc.close(log) }
    }
}

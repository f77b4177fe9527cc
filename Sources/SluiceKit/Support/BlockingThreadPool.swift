import Foundation

/// Threads for work that blocks (waiting for a child process), kept off Swift's cooperative pool, which has as
/// few threads as the machine has cores. It grows whenever queued jobs outnumber idle threads, so a job never
/// waits behind a blocked one, and keeps idle threads for reuse.
final class BlockingThreadPool: @unchecked Sendable {
    /// Guards `queue`, `head` and `idle`.
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var idle = 0
    private let name: String

    init(name: String) { self.name = name }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(job)
        if queue.count - head > idle { startThread() } else { condition.signal() }
        condition.unlock()
    }

    private func startThread() {
        let thread = Thread { [self] in
            while true { next()() }
        }
        thread.name = name
        thread.stackSize = 512 << 10
        thread.start()
    }

    private func next() -> @Sendable () -> Void {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            idle += 1
            condition.wait()
            idle -= 1
        }
        let job = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }
}

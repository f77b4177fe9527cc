import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns Ctrl-C and SIGTERM into a cancellation of the run, so running steps are stopped and recorded.
final class SignalTrap: @unchecked Sendable {
    /// Set once in `init`; dispatch sources are thread-safe.
    private let sources: [any DispatchSourceSignal]
    private let first: FirstSignal

    private final class FirstSignal: Sendable {
        let number = Mutex<Int32?>(nil)
        let count = Mutex(0)
    }

    /// `onSignal` receives how many signals have arrived so far (1 for the first).
    init(onSignal: @escaping @Sendable (Int) -> Void) {
        let first = FirstSignal()
        sources = [SIGINT, SIGTERM].map { number in
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // The handler holds its source until `release()` cancels it, which frees the handler.
            source.setEventHandler {
                first.number.withLock { $0 = $0 ?? number }
                // Signals that arrive before the handler runs are delivered as one event; `data` counts them.
                onSignal(
                    first.count.withLock { count in
                        count += Int(source.data)
                        return count
                    })
            }
            source.resume()
            return source
        }
        self.first = first
    }

    /// The first signal received, if any.
    var received: Int32? { first.number.withLock { $0 } }

    func release() {
        for source in sources { source.cancel() }
    }
}

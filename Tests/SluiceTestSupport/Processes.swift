import Foundation
import SluiceKit

/// Whether a process still runs (a zombie counts as ended), as Sluice itself decides it.
public func processIsAlive(_ pid: Int32) -> Bool { ProcessTable.isAlive(pid) }

/// Waits until `condition` holds, checking every few milliseconds, up to `timeout` seconds.
/// For waiting on another process's effect (a file it writes), where no event can be awaited.
public func waitUntil(timeout: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}

/// Waits until `condition` holds, checking every few milliseconds, up to `timeout` seconds, without blocking a thread
/// of the cooperative pool: for async tests waiting on work that runs in the background of this process.
public func eventually(timeout: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

import CSluiceSupport
import Foundation

/// Durability for many writers with one system call: files written before `sync()` was called are on disk when
/// it returns, and writers that wait together share one `syncfs` of the file system, as the store's transactions
/// share one commit.
///
/// The descriptor is opened once, before anything is written (``prepare()``): `syncfs` reports a write-back error
/// (a full disk, a failing device) to descriptors opened before it happened.
///
/// It blocks its caller: call it from a dispatch thread, never from the cooperative pool.
final class GroupSync: @unchecked Sendable {
    private let folder: String
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var descriptor: Int32 = -1
    private var started = 0, finished = 0, syncing = false
    /// The newest sync that failed, and why. A caller fails if any sync since its writes failed: `syncfs` reports
    /// a write-back error once, and the pages it could not write count as clean afterwards.
    private var lastFailure: (sync: Int, code: Int32)?

    /// Syncs the file system that holds `folder`, created by the first ``prepare()``: a dry run creates nothing.
    init(folder: String) { self.folder = folder }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Call before writing what `sync()` is to make durable.
    func prepare() {
        condition.lock()
        defer { condition.unlock() }
        guard descriptor < 0 else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// Returns once everything written to the file system before the call is durable.
    func sync() throws {
        condition.lock()
        defer { condition.unlock() }
        // The sync under way may have begun before this caller's writes: only one begun after them covers them.
        let needed = started + 1
        while finished < needed {
            if syncing {
                condition.wait()
                continue
            }
            syncing = true
            started += 1
            if descriptor < 0 { descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            let target = descriptor
            condition.unlock()
            let failure = target < 0 ? errno : (sluice_syncfs(target) == 0 ? 0 : errno)
            condition.lock()
            syncing = false
            finished = started
            if failure != 0 { lastFailure = (finished, failure) }
            condition.broadcast()
        }
        if let (sync, code) = lastFailure, sync >= needed {
            throw FileError(code: code, message: "cannot make \(folder) durable: \(String(cString: strerror(code)))")
        }
    }
}

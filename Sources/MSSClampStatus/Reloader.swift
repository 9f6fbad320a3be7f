import FoundationEssentials
import Glibc

/// `mssclamp reload` (the unit's ExecReload): signals the worker and returns only once the
/// worker has confirmed the outcome in its state file, as `nginx -s reload` does. Without it,
/// `systemctl reload` returned at once and said OK even when a typo kept the old policy.
///
/// The confirmation is the worker's reload `generation`, which only grows: no later write
/// (the worker republishes every second) can hide or fake it, unlike a status text that the
/// next stats line overwrites.
public struct Reloader: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// The new policy is in force.
        case applied(WorkerStatus.Reload)
        /// The worker kept its policy, and said why.
        case refused(WorkerStatus.Reload)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public let store: StatusStore
    /// How long to wait for the confirmation (a reload under emulation takes seconds).
    public var timeout: Double

    public init(store: StatusStore, timeout: Double = 60) {
        self.store = store
        self.timeout = timeout
    }

    /// The running worker this namespace publishes (`pid`, if given: systemd's $MAINPID).
    public func target(pid: Int32?) throws(Failure) -> WorkerStatus {
        let running = store.running()
        if let pid {
            guard let worker = running.first(where: { $0.pid == pid }) else {
                throw Failure("no running mssclamp worker with pid \(pid) publishes its state in \(store.directory)")
            }
            return worker
        }
        guard let worker = running.first else {
            throw Failure("no running mssclamp worker publishes its state in \(store.directory) in this network namespace")
        }
        return worker
    }

    /// Sends SIGHUP and waits for the worker to say what came of it.
    public func reload(pid: Int32?) async throws(Failure) -> Outcome {
        let worker = try target(pid: pid)
        let before = worker.reload?.generation ?? 0
        guard kill(worker.pid, SIGHUP) == 0 else {
            throw Failure("cannot signal pid \(worker.pid): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().timeIntervalSince1970 + timeout
        while Date().timeIntervalSince1970 < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            guard let now = store.read().first(where: { $0.pid == worker.pid }) else { continue }
            if let reload = now.reload, reload.generation > before {
                return reload.applied ? .applied(reload) : .refused(reload)
            }
            if now.state != .running || !StatusStore.isAlive(worker.pid) {
                throw Failure("the worker (pid \(worker.pid)) stopped before confirming the reload")
            }
        }
        throw Failure("the worker (pid \(worker.pid)) did not confirm the reload within \(Int(timeout)) s (its log says why)")
    }
}

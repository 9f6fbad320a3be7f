import CThread
import Glibc

/// A POSIX thread for one queue, optionally pinned to one CPU.
///
/// Plain pthreads instead of Foundation's Thread: the worker's modules then do not need
/// Foundation (and its ICU data, most of a Swift process's resident memory). Pinning is a
/// lever for the operator: the thread that sends a verdict also runs the SYN's whole
/// forwarding path in the kernel, so where it runs decides which CPU pays for that.
enum QueueThread {
    /// Starts `body` on a new detached thread named `name` (Linux keeps 15 characters),
    /// pinned to `cpu` if given; `body` learns whether pinning worked (nil: not asked).
    /// False if no thread could be made (resource limits): `body` then never runs.
    static func start(name: String, cpu: Int?, _ body: @escaping @Sendable (_ pinned: Bool?) -> Void) -> Bool {
        let context = Unmanaged.passRetained(Context(cpu: cpu, body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let created = pthread_create(
            &thread, &attributes,
            { argument in
                let context = Unmanaged<Context>.fromOpaque(argument!).takeRetainedValue()
                context.body(context.cpu.map(QueueThread.pinCurrentThread))
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<Context>.fromOpaque(context).release()
            return false
        }
        _ = pthread_setname_np(thread, String(decoding: name.utf8.prefix(15), as: UTF8.self))
        return true
    }

    /// Restricts the calling thread to one CPU; false if the CPU does not exist or is not
    /// allowed (a cgroup cpuset, a seccomp filter without sched_setaffinity).
    static func pinCurrentThread(to cpu: Int) -> Bool {
        guard cpu >= 0, cpu < 1024 else { return false }
        var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs, like glibc's cpu_set_t
        mask[cpu / 64] |= 1 << UInt64(cpu % 64)
        return mask.withUnsafeBytes {
            sched_setaffinity(0, $0.count, $0.baseAddress!.assumingMemoryBound(to: cpu_set_t.self))
        } == 0
    }

    private final class Context: Sendable {
        let cpu: Int?
        let body: @Sendable (Bool?) -> Void
        init(cpu: Int?, body: @escaping @Sendable (Bool?) -> Void) {
            self.cpu = cpu
            self.body = body
        }
    }
}

import Glibc
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue
import NIOConcurrencyHelpers

/// One queue's receive → decide → verdict loop, on a thread of its own.
///
/// Every packet received gets exactly one verdict, in the same batch: ACCEPT with the new
/// bytes when the core changed it, plain ACCEPT otherwise, DROP where the kernel rule would
/// drop. The hot path allocates nothing: buffers are made once, here.
///
/// `@unchecked Sendable` only to cross into its thread: made on the starting thread, it is
/// touched by its queue thread alone from then on, so its buffers and counters need no lock
/// (a lock per packet would cost what the hot path is measured on). Its socket is shared
/// with `Worker` as documented there.
final class QueueWorker: @unchecked Sendable {
    /// nil only for `PacketPath` (benchmarks): verdicts are then built and discarded.
    let socket: QueueSocket?
    /// The queues the socket binds: which block a packet came on is its IPsec class.
    let configuration: QueueConfiguration
    let state: WorkerState
    let names = InterfaceNames()
    let routes = RouteMTU()
    let links = LinkMTUs()
    /// The batch's policy has `clamp-to-interface` rules.
    private var followsLinks = false
    /// A packet's bytes with 4 spare bytes for an inserted MSS option.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x10000 + 64, alignment: 8)
    private var decoder = MessageDecoder()
    private var verdicts = VerdictBatch()
    private var outcomes = OutcomeCounters(ruleCount: 0)
    private var transport = TransportCounters()
    private var sampleSecond = 0
    private var samplesThisSecond = 0
    /// Messages taken per batch before the verdicts go out.
    static let batchLimit = 64

    init(socket: QueueSocket?, configuration: QueueConfiguration, state: WorkerState) {
        self.socket = socket
        self.configuration = configuration
        self.state = state
    }

    deinit {
        scratch.deallocate()
    }

    /// Runs until asked to stop and the queue has gone quiet (nothing left unanswered).
    func run() {
        guard let socket else { return }
        state.running.add(1, ordering: .relaxed)
        defer { state.running.subtract(1, ordering: .relaxed) }
        let batch = ReceiveBatch(capacity: QueueWorker.batchLimit)
        var failures = 0
        while true {
            let (policy, needsNames, classes) = beginBatch()
            var received = 0
            do {
                // One system call for everything waiting, up to a batch (recvmmsg).
                switch try socket.receive(into: batch) {
                case .messages(let count):
                    for index in 0..<count {
                        let messages = batch[index]
                        handle(messages, count: messages.count, policy: policy, needsNames: needsNames, classes: classes)
                    }
                    received = count
                case .overrun:
                    transport.overruns &+= 1
                case .idle:
                    break
                }
                failures = 0
            } catch {
                // A receive error other than a timeout or overrun: count and go on, but do
                // not spin if the socket is broken for good.
                transport.sendErrors &+= 1
                failures += 1
                if failures > 100 { break }
            }
            endBatch()
            if received == 0 && state.isStopping { break }
        }
    }

    /// The policy for one batch (taken once, under the lock), whether it needs names, and
    /// the IPsec classes its rules were rendered with.
    func beginBatch() -> (Policy, needsNames: Bool, classes: IPsecClasses) {
        let policy = state.policy
        if outcomes.byRule.count != policy.rules.count { outcomes = OutcomeCounters(ruleCount: policy.rules.count) }
        let needsNames = policy.rules.contains { $0.inInterface != nil || $0.outInterface != nil }
        if needsNames { names.refreshIfLinksChanged() }
        followsLinks = policy.rules.contains { $0.action.followedInterface != nil }
        return (policy, needsNames, IPsecClasses(policy))
    }

    /// Sends the batch's verdicts, publishes its counts.
    func endBatch() {
        flush()
        state.publish(outcomes, transport)
        outcomes.reset()
        transport = TransportCounters()
    }

    /// Every packet in `count` bytes of netlink messages: decided, its verdict batched.
    func handle(_ messages: UnsafeRawBufferPointer, count: Int, policy: Policy, needsNames: Bool, classes: IPsecClasses) {
        // After the receive, not before: a link change announced before these SYNs were
        // queued is then already in the notification socket, so none is clamped to an MTU
        // the interface no longer has.
        if followsLinks { links.refreshIfLinksChanged() }
        decoder.decode(
            messages, count: count,
            packet: { packet in
                handle(packet, policy: policy, needsNames: needsNames, classes: classes)
            },
            error: { _ in
                transport.verdictErrors &+= 1
            })
    }

    private func handle(_ packet: QueuedPacket, policy: Policy, needsNames: Bool, classes: IPsecClasses) {
        let queue = packet.queue
        if !verdicts.hasRoom(payloadLength: 0x10000) { flush() }
        guard !packet.isTruncated, packet.payload.count > 0, packet.payload.count <= scratch.count - 4 else {
            transport.truncated &+= 1
            outcomes.record(Decision(outcome: .unchanged(.truncated), length: packet.payload.count))
            verdicts.accept(packet.id, queue: queue)
            return
        }
        if let learner = state.learner, let signal = PathMTUSignal.parse(UnsafeRawBufferPointer(packet.payload)) {
            // Observed, never changed or held back: the ICMP goes on to whoever it was for.
            let now = WorkerState.now()
            learner.withLockedValue { _ = $0.observe(signal, now: now) }
            verdicts.accept(packet.id, queue: queue)
            return
        }
        scratch.baseAddress!.copyMemory(from: packet.payload.baseAddress!, byteCount: packet.payload.count)
        var metadata = PacketMetadata()
        // The rule that queued it said xt_policy's answer by the block of queues it chose.
        if !classes.isEmpty { metadata.ipsec = classes.state(ofClass: configuration.block(of: queue)) }
        if needsNames {
            metadata.inInterface = names.name(packet.inInterfaceIndex)
            metadata.outInterface = names.name(packet.outInterfaceIndex)
        }
        let checksum: ChecksumMode = packet.checksumNotReady ? .recompute : .incremental
        let decision: Decision
        if let learner = state.learner {
            decision = policy.apply(
                to: scratch, length: packet.payload.count, metadata: metadata, pathMTU: KernelMTUs(routes: routes, links: links),
                ceiling: SharedLearner(box: learner, now: WorkerState.now()), checksum: checksum)
            if decision.learned { learner.withLockedValue { $0.noteClamp() } }
        } else {
            decision = policy.apply(
                to: scratch, length: packet.payload.count, metadata: metadata, pathMTU: KernelMTUs(routes: routes, links: links), checksum: checksum)
        }
        outcomes.record(decision)
        switch decision.outcome {
        case .clamped, .inserted:
            verdicts.accept(packet.id, queue: queue, payload: UnsafeRawBufferPointer(rebasing: scratch[0..<decision.length]))
            if state.sampling { sample(decision) }
        case .dropped:
            verdicts.drop(packet.id, queue: queue)
        case .unchanged:
            verdicts.accept(packet.id, queue: queue)
        }
    }

    /// Debug sampling, off the common path: only when asked for, at most sampleRate a second.
    private func sample(_ decision: Decision) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        if now.tv_sec != sampleSecond {
            sampleSecond = now.tv_sec
            samplesThisSecond = 0
        }
        guard samplesThisSecond < WorkerState.sampleRate,
            let flow = FlowInfo.inspect(scratch, length: decision.length)
        else { return }
        samplesThisSecond += 1
        state.addSample(flow, decision)
    }

    func flush() {
        guard !verdicts.isEmpty else { return }
        guard let socket else { return verdicts.discard() }
        do {
            try verdicts.flush(to: socket)
        } catch {
            transport.sendErrors &+= 1
        }
    }
}

/// What the kernel says of paths and links, as the core asks it: route MTUs for
/// `clamp-mss-to-pmtu`, interface MTUs for `clamp-to-interface`.
struct KernelMTUs: PathMTUSource {
    let routes: RouteMTU
    let links: LinkMTUs

    func pathMTU(family: IPFamily, source: IPAddress, destination: IPAddress) -> Int? {
        routes.pathMTU(family: family, source: source, destination: destination)
    }

    func interfaceMTU(_ name: String) -> Int? { links.mtu(name) }
}

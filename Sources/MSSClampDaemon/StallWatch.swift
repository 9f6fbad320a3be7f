import FoundationEssentials
import Glibc
import Logging
import MSSClampConfig
import MSSClampCore
import MSSClampLearning
import MSSClampNFQueue
import NIOConcurrencyHelpers
import Synchronization

/// `--learn-stalls`, the user-space half: the kernel copies the first large segments servers
/// send on forwarded flows whose clients have sent only a handful of packets (the stall
/// watch's NFLOG rule); this reads the copies, judges stalls (`StallDetector`), learns a
/// path MTU per client (`StallLearner`), and hands the result to the table the queue
/// threads read for every SYN. Nothing here is on the packet path: the copies are taken
/// from the socket every 100 ms, and forwarding never waits for them.
///
/// Not `Sendable`: one task owns it.
final class StallWatch {
    let socket: LogSocket
    var detector = StallDetector()
    var learner: StallLearner
    let table: NIOLockedValueBox<PathMTULearner>
    let logger: Logger
    /// Where the learned entries are kept across restarts; nil: nowhere.
    let file: String?
    /// Counted for the stats line, status and metrics.
    private(set) var overruns = 0
    private var copy = [UInt8](repeating: 0, count: 256)
    private var dirty = false

    init(
        group: UInt16, table: NIOLockedValueBox<PathMTULearner>, file: String?, limits: StallLearner.Limits = StallLearner.Limits(),
        logger: Logger
    ) throws(DaemonError) {
        do {
            socket = try LogSocket(group: group, copyRange: UInt32(128))
        } catch {
            throw DaemonError(
                "--learn-stalls: cannot bind NFLOG group \(group) (\(error)); another logger (ulogd?) may hold it: choose another with --stall-log-group"
            )
        }
        self.table = table
        self.logger = logger
        self.file = file
        let kept = file.map { StallWatch.load($0, logger: logger) } ?? []
        learner = StallLearner(limits: limits, entries: kept)
        if !kept.isEmpty {
            logger.notice("learn-stalls: \(kept.count) path MTU(s) learned from stalled flows before this start, kept from \(file ?? "")")
        }
        publish()
    }

    /// Every 100 ms: the copies waiting, judged.
    func poll(monotonic: Double, wall: Double) {
        let drained = socket.drain { bytes in
            let length = min(bytes.count, copy.count)
            copy.withUnsafeMutableBytes { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
                guard let segment = DataSegment.inspect(target, length: length), let stall = detector.see(segment, now: monotonic) else {
                    return
                }
                judge(stall, wall: wall)
            }
        }
        if drained.overruns > 0 {
            overruns += drained.overruns
            logger.warning(
                "learn-stalls: the kernel's copies came faster than they were read (\(drained.overruns) overrun(s)); some flows went unwatched")
        }
    }

    private func judge(_ stall: StallDetector.Stall, wall: Double) {
        let flow = "\(stall.client.text).\(stall.clientPort) < \(stall.server.text).\(stall.serverPort)"
        let seconds = ((stall.detected - stall.firstSeen) * 10).rounded() / 10
        let what = "a \(stall.size)-byte segment sent \(stall.copies) times in \(seconds) s with nothing newer and no ICMP"
        if let starvation = stall.starvation {
            logger.info("learn-stalls: flow \(flow) looked stalled (\(what)), \(starvation); nothing learned")
            publish()
            return
        }
        switch learner.stalled(stall, now: wall) {
        case .learned(let entry):
            logger.notice(
                "learn-stalls: flow \(flow) stalled: \(what); SYNs from \(entry.host.text) are clamped to MSS \(entry.mss) (path MTU \(entry.mtu)) from now on"
            )
        case .lowered(let entry, let from):
            logger.notice(
                "learn-stalls: flow \(flow) stalled at path MTU \(from): \(what); SYNs from \(entry.host.text) are clamped to MSS \(entry.mss) (path MTU \(entry.mtu)) from now on"
            )
        case .atFloor(let entry):
            logger.warning(
                "learn-stalls: flow \(flow) stalled: \(what), and SYNs from \(entry.host.text) are at the lowest step already (path MTU \(entry.mtu)); the path toward it is smaller still, or broken another way"
            )
        case .none:
            logger.info("learn-stalls: flow \(flow) stalled: \(what); its SYN was not clamped by what is learned (it came before)")
        default: break
        }
        dirty = true
        publish()
    }

    /// Once a second: SYNs clamped by a step (for its confirmation), confirmations and
    /// raises due, and the table kept.
    func tick(monotonic: Double, wall: Double) {
        let clamped = table.withLockedValue { $0.stallCeilings }
        for (host, ceiling) in clamped {
            if let at = ceiling.clampedAt, monotonic - at < 2 { learner.clamped(host, now: wall) }
        }
        for change in learner.tick(now: wall) {
            dirty = true
            switch change {
            case .confirmed(let entry):
                logger.notice("learn-stalls: path MTU \(entry.mtu) toward \(entry.host.text) confirmed: a clamped flow went without stalling")
            case .raised(let entry, let from):
                logger.notice(
                    "learn-stalls: trying path MTU \(entry.mtu) toward \(entry.host.text) again (was \(from) for \(Int(entry.raiseInterval)) s); SYNs from it are clamped to MSS \(entry.mss)"
                )
            case .released(let entry):
                logger.notice(
                    "learn-stalls: \(entry.host.text) released after \(Int(entry.raiseInterval)) s without a stall: SYNs from it follow the policy alone again"
                )
            default: break
            }
        }
        if dirty {
            publish()
            save()
            dirty = false
        }
    }

    private func publish() {
        let ceilings = learner.ceilings
        let stalled = detector.stalls
        let starved = detector.starved
        table.withLockedValue {
            $0.setStallCeilings(ceilings)
            $0.stalledFlows = stalled
            $0.starvedFlows = starved
            $0.watchesStalls = true
        }
    }

    // MARK: kept across restarts

    /// One line per entry: host, MTU, smallest stalled size, state, stalls, learned,
    /// changed, raise time, raise interval (wall clock, seconds).
    func save() {
        guard let file else { return }
        let lines = learner.entries.values.sorted { $0.learned < $1.learned }.map { entry in
            [
                entry.host.text, "\(entry.mtu)", "\(entry.stalledAt)", entry.state.rawValue, "\(entry.stalls)", "\(entry.learned)",
                "\(entry.changed)", "\(entry.raiseAt)", "\(entry.raiseInterval)",
            ].joined(separator: "\t")
        }
        let text =
            (["# mssclamp --learn-stalls: host mtu stalled-at state stalls learned changed raise-at raise-interval"] + lines)
            .joined(separator: "\n") + "\n"
        let temporary = file + ".new"
        guard let handle = fopen(temporary, "w") else {
            logger.warning("learn-stalls: cannot keep the learned entries in \(file): \(String(cString: strerror(errno)))")
            return
        }
        fputs(text, handle)
        fclose(handle)
        rename(temporary, file)
    }

    static func load(_ file: String, logger: Logger) -> [StallLearner.Entry] {
        guard let handle = fopen(file, "r") else { return [] }
        defer { fclose(handle) }
        var entries: [StallLearner.Entry] = []
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), handle) != nil {
            let line = String(cString: buffer).trimmingSpaces
            guard !line.hasPrefix("#"), !line.isEmpty else { continue }
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 9, let host = IPAddress(text: fields[0]), let mtu = Int(fields[1]), let stalledAt = Int(fields[2]),
                let state = StallLearner.Entry.State(rawValue: fields[3]), let stalls = Int(fields[4]), let learned = Double(fields[5]),
                let changed = Double(fields[6]), let raiseAt = Double(fields[7]), let interval = Double(fields[8]),
                StallLearner.ladder(host.family).contains(mtu)
            else {
                logger.warning("learn-stalls: \(file): a line that does not read as an entry is left out: \(line)")
                continue
            }
            entries.append(
                StallLearner.Entry(
                    host: host, mtu: mtu, stalledAt: stalledAt, state: state, stalls: stalls, learned: learned, changed: changed,
                    raiseAt: raiseAt, raiseInterval: interval))
        }
        return entries
    }
}

extension StallWatch {
    /// Hands the watch to the task that runs it (a `Mutex` makes the hand-over checked).
    final class Handle: Sendable {
        let watch: Mutex<StallWatch?>
        init(_ watch: sending StallWatch?) { self.watch = Mutex(watch) }
    }
}

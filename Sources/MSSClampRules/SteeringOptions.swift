import MSSClampCore

/// Where and how the kernel hands candidate SYNs to the worker.
public struct SteeringOptions: Sendable, Equatable {
    /// Queues the worker reads; more than one is spread with `--queue-balance`.
    public var queues: ClosedRange<UInt16>
    /// The chain of our own in the mangle table: install and remove touch nothing else.
    public var chain = "MSSCLAMP"
    /// The safety net's chain, in mangle POSTROUTING.
    public var safetyNetChain = "MSSCLAMP_NET"
    /// Counters in mangle POSTROUTING for SYNs that passed the queue unclamped.
    public var bypassChain = "MSSCLAMP_BYPASS"
    /// The builtin chains that jump to ours.
    public var hooks: [Hook] = [.forward]
    /// `--queue-bypass`: with no worker bound, packets pass unclamped instead of being dropped.
    public var bypass = true
    /// Also install kernel TCPMSS rules in mangle POSTROUTING that clamp the SYNs the worker
    /// never saw (daemon down, queue full and failing open).
    public var safetyNet = false
    /// `--learn-pmtu`: also queue ICMP frag-needed / packet-too-big (forwarded, and sent by
    /// this host), and every SYN rather than only the policy's candidates, since a learned
    /// path MTU can lower any SYN from the host it names.
    public var learnPathMTU = false
    /// `--learn-stalls`: also copy (NFLOG) the first large segments servers send back on
    /// forwarded flows whose client has sent only a handful of packets, for the worker to
    /// notice black holes that send no ICMP. Copies only: forwarding never waits.
    public var learnStalls = false
    /// The chain holding the NFLOG rule, jumped to from FORWARD.
    public var stallChain = "MSSCLAMP_STALL"
    /// The NFLOG group the copies go to.
    public var stallLogGroup: UInt16 = 1360
    /// The worker also reads the queue blocks of IPsec classes (`IPsecClasses`): set when
    /// the policy it starts with has `ipsec:` rules; a reload can add such rules only then.
    public var ipsecQueues = false

    /// Whether the bypass counters can work: a SYN that bypasses a queue in POSTROUTING
    /// itself resumes past every mangle POSTROUTING rule, counters included.
    public var countsBypass: Bool { !hooks.contains(.postrouting) }

    public init(queues: ClosedRange<UInt16> = 0...0, hooks: [Hook] = [.forward], safetyNet: Bool = false, learnPathMTU: Bool = false) {
        self.queues = queues
        self.hooks = hooks
        self.safetyNet = safetyNet
        self.learnPathMTU = learnPathMTU
    }

    /// The queues of IPsec class `block`: the options' range, moved up by whole ranges.
    public func queues(block: Int) -> ClosedRange<UInt16> {
        // Clamped, not trapping: `Firewall.validate` refuses a range that would overflow.
        let shift = block * queues.count
        return UInt16(clamping: Int(queues.lowerBound) + shift)...UInt16(clamping: Int(queues.upperBound) + shift)
    }

    /// Where path-MTU signals are taken from: those crossing the router and those it sends.
    public static let signalHooks: [Hook] = [.forward, .output]

    /// The comment every rule carries, so a person reading `iptables -S` knows whose it is.
    public static let comment = "mssclamp"

    /// Whether a rule as iptables-save prints it is one of ours: it carries our comment
    /// (quoted when it has more words, as the learn-pmtu label does). The one test of it for
    /// rules, doctor and backend detection.
    public static func carriesOurComment(_ line: some StringProtocol) -> Bool {
        line.contains("--comment \(comment)") || line.contains("--comment \"\(comment)")
    }
    /// The label of the rules that bring path-MTU signals and all SYNs in (`--learn-pmtu`).
    public static let learnComment = "mssclamp learn-pmtu"
    /// The label of the stall watch's jump and rule (`--learn-stalls`).
    public static let stallComment = "mssclamp stall-watch"

    /// What the stall watch copies, from a flow this gateway saw open while its client has
    /// sent at most `stallClientPackets` (no acknowledgements coming back) and the server at
    /// most `stallServerPackets` (a bound per flow on what is copied): the server's packets
    /// larger than IPv6's minimum MTU (smaller ones cross every path), and the client's
    /// (what they acknowledge).
    public static let stallBaseSize = 1280
    public static let stallClientPackets = 8
    public static let stallServerPackets = 64
    /// Bytes copied of each packet (IPv6 with extension headers, TCP with options) and the
    /// batch the kernel gathers before it sends.
    public static let stallCopyRange = 128
    public static let stallThreshold = 8
    public static let nftTable = "mssclamp"
}

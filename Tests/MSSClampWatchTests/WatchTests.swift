import MSSClampCapture
import MSSClampCore
import MSSClampLearning
import MSSClampWatch
import TestSupport
import Testing

@Suite struct PathMTUSignalTests {
    /// ICMP frag-needed from 198.51.100.254 to 198.51.100.1, MTU 1400, quoting
    /// TCP 198.51.100.1.443 > 192.0.2.1.40000.
    static let fragNeeded: [UInt8] = [
        0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 198, 51, 100, 254, 198, 51, 100, 1,
        3, 4, 0, 0, 0, 0, 0x05, 0x78,
        0x45, 0, 5, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 1, 192, 0, 2, 1,
        0x01, 0xbb, 0x9c, 0x40, 0, 0, 0, 1,
    ]

    @Test func readsTheMTUAndTheQuotedFlow() throws {
        let signal = try #require(PathMTUSignal.parse(Self.fragNeeded[...]))
        #expect(signal.family == .ipv4 && signal.mtu == 1400)
        #expect(signal.quoted?.protocolNumber == 6 && signal.quoted?.sourcePort == 443 && signal.quoted?.destinationPort == 40000)
        #expect(signal.quoted?.destination == .v4(0xc000_0201))
    }

    @Test func otherICMPAndShortQuotesAreNotMisread() {
        var unreachable = Self.fragNeeded
        unreachable[21] = 1  // host unreachable
        #expect(PathMTUSignal.parse(unreachable[...]) == nil)
        let short = Array(Self.fragNeeded.prefix(40))
        #expect(PathMTUSignal.parse(short[...])?.quoted == nil)
        #expect(PathMTUSignal.parse([][...]) == nil)
    }
}

/// `mssclamp watch` on a live interface in a namespace lab (Tests/Integration/watch.sh).
@Suite(.root, .serialized) struct WatchIntegrationTests {
    @Test func watchesALiveInterfaceAsNobodyWithCapNetRaw() async {
        let run = await TestSupport.scenario("watch.sh", timeout: 240)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        #expect(r["text_status"] == "0")
        #expect(r["syn4"] == "1" && r["syn6"] == "1", "real IPv4 1460 and IPv6 1440 SYNs, judged")
        #expect(r["crafted"] == "2", "MSS 1400 and no MSS")
        #expect(r["icmp4"] == "1" && r["icmp6"] == "1", "frag-needed and packet-too-big with MTU and quoted flow")
        #expect(r["histogram4"] == "1" && r["histogram6"] == "1")
        #expect(r["json_status"] == "0" && r["json_lines"] == "5" && r["json_valid"] == "1", "--count 4 then the histogram")
        // --learn-pmtu on the live interface: the frag-needed about a seen flow is believed,
        // and the server's next SYN-ACK is judged with it (the client's own SYN is not lowered).
        #expect(r["learn_status"] == "0" && r["learn_icmp"] == "1", "learned from a live frag-needed")
        #expect(r["learn_synack"] == "1" && r["learn_syn"] == "1", "SYN-ACK from the learned host lowered below the rule; the SYN by the rule alone")
        #expect(r["noraw_status"] == "1" && r["noraw_says"] == "1")
        #expect(r["missing_status"] == "1" && r["missing_says"] == "1")
        #expect(r["default_said"] == "1", "no worker here: the default policy, said")
        // A worker runs: watch judges by its policy (1300), not by the default (1360).
        #expect(r["running_status"] == "0" && r["running_said"] == "1" && r["running_syn"] == "1", "\(run.stdout)")
    }
}

/// `watch --learn-pmtu`: the learner the worker runs, fed what the capture shows, judging
/// later SYNs through the same `Policy.apply`.
@Suite struct WatchLearningTests {
    /// SYN 192.0.2.1.40000 > 198.51.100.1.443, MSS 1460 (raw IP).
    static let syn: [UInt8] = [
        0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1,
        0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
        2, 4, 0x05, 0xb4,
    ]

    func frame(_ bytes: [UInt8], at second: Int) -> CapturedFrame {
        CapturedFrame(seconds: second, microseconds: 0, bytes: bytes)
    }

    @Test func learnsFromTheICMPItSeesAndLowersLaterSYNs() throws {
        var watcher = Watcher(policy: .default, learning: PathMTULearner.Limits())
        // The first SYN: the policy's 1360; the flow is noted.
        guard case .handshake(let first)? = watcher.observe(frame(Self.syn, at: 1), linkLayer: .raw) else { throw Failure() }
        #expect(first.decision.outcome == .clamped(from: 1460, to: 1360) && !first.decision.learned)
        // The server's answer does not fit a hop of MTU 1400: frag-needed, quoting that flow.
        guard case .pathMTU(_, _, _, let verdict)? = watcher.observe(frame(PathMTUSignalTests.fragNeeded, at: 2), linkLayer: .raw)
        else { throw Failure() }
        guard case .learned(let entry)? = verdict else { throw Failure() }
        #expect(entry.host == .v4(0xc000_0201) && entry.mtu == 1400)
        #expect(
            Watcher.text(.pathMTU(seconds: 2, microseconds: 0, try #require(PathMTUSignal.parse(PathMTUSignalTests.fragNeeded[...])), verdict))
                .hasSuffix("; learned: SYNs from 192.0.2.1 at most MSS 1360"))
        // A tighter hop later: 1300. The next SYN from the client is lowered below the policy.
        var tighter = PathMTUSignalTests.fragNeeded
        tighter[26] = 0x05
        tighter[27] = 0x14  // MTU 1300
        _ = watcher.observe(frame(tighter, at: 3), linkLayer: .raw)
        guard case .handshake(let second)? = watcher.observe(frame(Self.syn, at: 4), linkLayer: .raw) else { throw Failure() }
        #expect(second.decision.outcome == .clamped(from: 1460, to: 1260) && second.decision.learned)
        #expect(Watcher.text(.handshake(second)).hasSuffix("mss 1460 -> 1260, clamped (rule 1, learned path MTU)"))
    }

    @Test func withoutLearningICMPIsOnlyShown() throws {
        var watcher = Watcher(policy: .default)
        _ = watcher.observe(frame(Self.syn, at: 1), linkLayer: .raw)
        guard case .pathMTU(_, _, _, let verdict)? = watcher.observe(frame(PathMTUSignalTests.fragNeeded, at: 2), linkLayer: .raw)
        else { throw Failure() }
        #expect(verdict == nil)
        guard case .handshake(let again)? = watcher.observe(frame(Self.syn, at: 3), linkLayer: .raw) else { throw Failure() }
        #expect(again.decision.outcome == .clamped(from: 1460, to: 1360))
    }

    struct Failure: Error {}
}

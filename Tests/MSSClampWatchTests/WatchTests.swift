import MSSClampCore
import MSSClampLearning
import MSSClampWatch
import Testing
import TestSupport

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
    @Test func watchesALiveInterfaceAsNobodyWithCapNetRaw() {
        let run = TestSupport.scenario("watch.sh", timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        #expect(r["text_status"] == "0")
        #expect(r["syn4"] == "1" && r["syn6"] == "1", "real IPv4 1460 and IPv6 1440 SYNs, judged")
        #expect(r["crafted"] == "2", "MSS 1400 and no MSS")
        #expect(r["icmp4"] == "1" && r["icmp6"] == "1", "frag-needed and packet-too-big with MTU and quoted flow")
        #expect(r["histogram4"] == "1" && r["histogram6"] == "1")
        #expect(r["json_status"] == "0" && r["json_lines"] == "5" && r["json_valid"] == "1", "--count 4 then the histogram")
        #expect(r["noraw_status"] == "1" && r["noraw_says"] == "1")
        #expect(r["missing_status"] == "1" && r["missing_says"] == "1")
    }
}

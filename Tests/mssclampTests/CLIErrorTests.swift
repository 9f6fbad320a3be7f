import Foundation
import TestSupport
import Testing

/// Errors as an operator meets them: one prefix, one line, the value named.
@Suite struct CLIErrorTests {
    /// ArgumentParser's own errors began `Error:`, ours `mssclamp:`: now all `mssclamp:`.
    @Test(arguments: [
        ["mss", "--tunnel", "gre", "--outer", "ipx"], ["rules", "print", "--set-mss", "0"], ["status", "--nonsense"],
        ["rules", "print", "--clamp-to-mtu", "100"],
    ])
    func everyErrorStartsTheSame(_ arguments: [String]) {
        let result = TestSupport.run(TestSupport.binary, arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("mssclamp: "), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Error: "))
    }

    /// A negative number is a value, not a flag: the reason names it (it said "Missing value").
    @Test func negativeValuesAreNamed() {
        let result = TestSupport.run(TestSupport.binary, ["rules", "print", "--set-mss", "-5"])
        #expect(result.status == 2)
        #expect(result.stderr == "mssclamp: command line: --set-mss: MSS -5 is outside 1-65535\n")
        let mtu = TestSupport.run(TestSupport.binary, ["rules", "print", "--clamp-to-mtu", "-1400"])
        #expect(mtu.status == 2 && mtu.stderr.contains("MTU -1400 is outside 576-65535"))
    }

    /// `--clamp-to-mtu 100` meant MSS 60 / 40: refused, with the floor and why.
    @Test func absurdMTUsAreRefused() {
        let result = TestSupport.run(TestSupport.binary, ["rules", "print", "--clamp-to-mtu", "100"])
        #expect(result.status == 2 && result.stderr.contains("576: the datagram every IPv4 host accepts"))
        let v6 = TestSupport.run(TestSupport.binary, ["rules", "print", "--clamp-to-mtu", "1000"])
        #expect(v6.status == 2 && v6.stderr.contains("below 1280, the least every IPv6 link carries"))
        let v4only = TestSupport.run(TestSupport.binary, ["rules", "print", "--clamp-to-mtu", "1000", "--family", "ipv4"])
        #expect(v4only.status == 0, "\(v4only.stderr)")
    }
}

import MSSClampProbe
import Testing

/// The command line's probe options, checked before anything is sent.
@Suite struct ProbeOptionsTests {
    func options(
        method: String = "auto", port: Int = 443, maximum: Int? = nil, tries: Int = 2, timeout: Double = 2, rate: Double = 20,
        maxProbes: Int = 100, maxHops: Int = 30
    ) throws(ProbeError) -> ProbeOptions {
        try ProbeOptions(
            method: method, port: port, maximum: maximum, tries: tries, timeout: timeout, rate: rate, maxProbes: maxProbes, maxHops: maxHops)
    }

    @Test func theDefaultsAreTheCommandsDefaults() throws {
        #expect(try options() == ProbeOptions())
    }

    @Test func aShortTimeoutShortensTheShortestWait() throws {
        let quick = try options(method: "tcp", port: 8443, maximum: 1400, timeout: 0.2)
        #expect(quick.method == .tcp && quick.port == 8443 && quick.maximum == 1400)
        #expect(quick.timeout == .milliseconds(200) && quick.shortestWait == .milliseconds(200))
    }

    @Test func eachFlagOffItsRangeIsNamed() {
        let cases: [(String, () throws(ProbeError) -> ProbeOptions)] = [
            ("--method: 'udp' must be auto, icmp or tcp", { () throws(ProbeError) in try options(method: "udp") }),
            ("--port: 0 must be 1-65535", { () throws(ProbeError) in try options(port: 0) }),
            ("--max: 67 must be 68-65535", { () throws(ProbeError) in try options(maximum: 67) }),
            ("--tries: 11 must be 1-10", { () throws(ProbeError) in try options(tries: 11) }),
            ("--timeout: 0.01 must be 0.05-30.0", { () throws(ProbeError) in try options(timeout: 0.01) }),
            ("--rate: 0.0 must be 0.1-1000.0", { () throws(ProbeError) in try options(rate: 0) }),
            ("--max-probes: 1 must be 2-1000", { () throws(ProbeError) in try options(maxProbes: 1) }),
            ("--max-hops: 65 must be 1-64", { () throws(ProbeError) in try options(maxHops: 65) }),
        ]
        for (message, make) in cases {
            #expect(throws: ProbeError.usage(message)) { try make() }
        }
    }
}

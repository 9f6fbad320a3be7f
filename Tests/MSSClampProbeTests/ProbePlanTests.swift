import MSSClampCore
import MSSClampProbe
import Testing

/// What `probe` refuses before the first probe leaves, now decided in the module.
@Suite struct ProbePlanTests {
    @Test func anIPv6MaximumBelow1280IsRefusedBeforeAnyRoute() {
        #expect(throws: ProbeError.usage("--max: 1000 is below 1280, the least every IPv6 link carries")) {
            try ProbePlan(destination: "2001:db8::1", families: [.ipv6], maximum: 1000)
        }
    }

    @Test func anAddressOfAnotherFamilyIsAUsageError() {
        do {
            _ = try ProbePlan(destination: "2001:db8::1", families: [.ipv4], maximum: nil)
            Issue.record("an IPv6 address probed as IPv4 only was accepted")
        } catch {
            guard case .usage(let message) = error else { return #expect(Bool(false), "\(error)") }
            #expect(message.contains("2001:db8::1") && message.contains("IPv4"), "\(message)")
        }
    }

    @Test func anEmptyOutcomeIsStillADocument() {
        #expect(ProbeOutcome().json == #"{"failures":[],"paths":[]}"#)
    }
}

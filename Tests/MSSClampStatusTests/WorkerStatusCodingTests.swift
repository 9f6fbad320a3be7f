import Foundation
import MSSClampRules
import Testing

/// The state file's typed fields read what this version writes and what earlier ones wrote:
/// a `status` run during an upgrade must not take a running worker's file for garbage.
@Suite struct WorkerStatusCodingTests {
    @Test func hooksReadTheirNamesAndTheChainsEarlierVersionsWrote() throws {
        let decoded = try JSONDecoder().decode([Hook].self, from: Data(#"["forward","OUTPUT","PostRouting"]"#.utf8))
        #expect(decoded == [.forward, .output, .postrouting])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Hook].self, from: Data(#"["INPUT"]"#.utf8)) }
        #expect(String(decoding: try JSONEncoder().encode([Hook.forward]), as: UTF8.self) == #"["forward"]"#)
    }

    @Test func backendsAreWrittenByName() throws {
        #expect(String(decoding: try JSONEncoder().encode(Backend.iptablesNFT), as: UTF8.self) == #""iptables-nft""#)
        #expect(try JSONDecoder().decode(Backend.self, from: Data(#""nftables""#.utf8)) == .nftables)
        #expect("\(Backend.iptablesLegacy)" == "iptables-legacy")
    }
}

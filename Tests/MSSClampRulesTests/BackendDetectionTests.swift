import Testing

@testable import MSSClampRules

/// `--backend auto`: which backend, and the reason the log gives. A fallback away from
/// nf_tables must say why (a kernel without nf_tables' modules once fell back silently).
@Suite struct BackendDetectionTests {
    let broken = FirewallError(
        "iptables-nft-save exit 1: iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument")

    @Test func noRulesAnywhereIsNFTables() {
        let detection = Backend.choose(legacy: .success(0), nft: .success(0), legacyTables: [])
        #expect(detection.backend == .iptablesNFT && !detection.isFallback)
        #expect(detection.reason.contains("no rules in either"))
    }

    @Test func theBackendWithMoreRulesWins() {
        #expect(Backend.choose(legacy: .success(5), nft: .success(2), legacyTables: ["filter"]).backend == .iptablesLegacy)
        #expect(Backend.choose(legacy: .success(2), nft: .success(2), legacyTables: ["filter"]).backend == .iptablesNFT)
    }

    @Test func unusableNFTablesFallsBackAndSaysWhy() {
        let detection = Backend.choose(legacy: .success(0), nft: .failure(broken), legacyTables: [])
        #expect(detection.backend == .iptablesLegacy && detection.isFallback)
        #expect(detection.reason.contains("cannot use the kernel's nf_tables"))
        #expect(detection.reason.contains("Could not fetch rule set generation id"), "the tool's own words")
    }

    @Test func legacyTablesThisProcessCannotReadStillMeanLegacy() {
        let denied = FirewallError(
            "iptables-legacy-save exit 1: iptables-legacy-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)")
        let detection = Backend.choose(legacy: .failure(denied), nft: .success(0), legacyTables: ["filter", "mangle"])
        #expect(detection.backend == .iptablesLegacy && detection.isFallback)
        #expect(detection.reason.contains("filter, mangle") && detection.reason.contains("Permission denied"))
        // No legacy tables in the kernel: legacy unreadable means unused.
        #expect(Backend.choose(legacy: .failure(denied), nft: .success(0), legacyTables: []).backend == .iptablesNFT)
    }

    /// Not root: the kernel's list of legacy tables is root's, and iptables-legacy-save then
    /// dumps nothing, so "0 legacy rules" means nothing. Said, with the way out.
    @Test func legacyTablesNobodyMayListAreSaidToBeUnknown() {
        let detection = Backend.choose(legacy: .success(0), nft: .success(0), legacyTables: nil)
        #expect(detection.backend == .iptablesNFT && detection.isFallback)
        #expect(detection.reason.contains("only root may list them") && detection.reason.contains("--backend iptables-legacy"))
    }
}

/// A stopping worker names the safety net it leaves in the backend's own words (nftables
/// has no MSSCLAMP_NET chain: it once said so).
@Suite struct SafetyNetLocationTests {
    @Test func eachBackendNamesItsOwn() {
        var options = SteeringOptions()
        options.safetyNet = true
        let nft = NFTablesFirewall(options: options)
        #expect(nft.safetyNetLocation == "chain safety_net of table inet \(SteeringOptions.nftTable)")
        #expect(NFTablesRenderer.script(.default, options: options).contains("chain safety_net {"))
        #expect(!nft.safetyNetLocation.contains(options.safetyNetChain))
        #expect(Backend.iptablesNFT.firewall(options).safetyNetLocation == "mangle/MSSCLAMP_NET")
    }
}

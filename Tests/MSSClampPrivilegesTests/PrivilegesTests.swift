import Glibc
import MSSClampPrivileges
import TestSupport
import Testing

@Suite struct CapabilityTests {
    @Test func namesFollowLinuxCapabilityH() {
        #expect(Capability.netAdmin.name == "CAP_NET_ADMIN")
        #expect(Capability.netRaw.name == "CAP_NET_RAW")
        #expect(Capability.setpcap.name == "CAP_SETPCAP")
    }

    @Test func theTestProcessStateIsReadFromTheKernel() throws {
        let state = Privileges.State.current()
        #expect(state.uid == geteuid())
        if TestSupport.isRoot {
            #expect(state.effective.contains(.netAdmin))
            #expect(state.description.contains("caps=") && state.description.contains("no_new_privs="))
            #expect(Privileges.needsConfining(keep: [.netAdmin], user: nil), "root holds more than CAP_NET_ADMIN")
        }
        #expect(throws: PrivilegeError.self) { try Account.named("no-such-user-mssclamp") }
        #expect(try Account.named("nobody").uid == 65534)
    }
}

/// Least privilege on every backend and the shipped unit, in a namespace lab
/// (Tests/Integration/privileges.sh).
@Suite(.root, .serialized) struct PrivilegesIntegrationTests {
    @Test func confinedOnEveryBackendAndUnderTheUnit() async {
        let run = await TestSupport.scenario("privileges.sh", timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let r = TestSupport.results(run.stdout)
        let netAdmin = "0000000000001000", netAdminRaw = "0000000000003000"
        // 1-3: started as root, each backend keeps what it needs and nothing else; clamps.
        for (prefix, uid, caps) in [
            ("nft_root", "0", netAdmin), ("nft_user", "65534", netAdmin),
            ("legacy_root", "0", netAdminRaw), ("legacy_user", "65534", netAdminRaw),
        ] {
            #expect(r["\(prefix)_ready"] == "1", "\(prefix)")
            #expect(r["\(prefix)_uid"] == uid && r["\(prefix)_eff"] == caps && r["\(prefix)_bnd"] == caps, "\(prefix)")
            #expect(r["\(prefix)_nnp"] == "1", "\(prefix): no_new_privs")
            #expect(r["\(prefix)_mss"] == "1360", "\(prefix) still clamps")
            #expect(r["\(prefix)_stop"] == "0" && r["\(prefix)_left"] == "0", "\(prefix)")
        }
        #expect(r["nft_root_logged"] == "1")
        #expect(r["nft_user_state"] == "1" && r["nft_user_state_owner"] == "65534")
        // 4: the legacy lock as root leaves it: refused up front, the lock and the fix named.
        #expect(r["legacy_lock_status"] == "1" && r["legacy_lock_names"] == "1" && r["legacy_lock_fix"] == "1")
        #expect(r["legacy_lock_left"] == "0")
        // 6: CAP_NET_ADMIN alone on legacy: says CAP_NET_RAW.
        #expect(r["legacy_noraw_status"] == "1" && r["legacy_noraw_says"] == "1")
        // 7: nftables as nobody reaches the same (kernel) obstacle as root, no "permission denied".
        #expect(r["nftables_user_says"] == "1" && r["nftables_root_says"] == "1" && r["nftables_denied"] == "0")
        // 8: make install, systemd-analyze verify and security, the unit's lines as systemd runs them.
        #expect(r["install_status"] == "0" && r["installed"] == "5")
        #expect(r["unit_verify"] == "0" && r["unit_verify_output"] == "0")
        #expect((Double(r["unit_exposure"] ?? "") ?? 10) <= 2.5, "exposure \(r["unit_exposure"] ?? "?")")
        #expect(r["unit_ready"] == "1" && r["unit_uid"] == "65534" && r["unit_eff"] == netAdmin && r["unit_bnd"] == netAdmin)
        #expect(r["unit_nnp"] == "1" && r["unit_seccomp"] == "2", "no_new_privs and a seccomp filter")
        #expect(r["unit_filter_probe"] == "1", "the filter refuses what the unit denies")
        #expect(r["unit_mss"] == "1360" && (Int(r["unit_metrics"] ?? "") ?? 0) > 0 && r["unit_errors"] == "0")
        #expect(r["unit_state_mode"] == "644", "status readable by others despite UMask=0077")
        // A SIGKILL leaves queue rules, bypass counters and the safety net; the net clamps
        // meanwhile; `rules remove` as the unit's user takes all of it out, twice harmlessly;
        // it cannot read iptables-legacy's table list (root's), so it never says "all gone":
        // exit 4, could not look at every firewall.
        #expect(r["unit_crash_left"] == "6" && r["unit_crash_mss"] == "1360")
        #expect(r["unit_remove"] == "4" && r["unit_remove_left"] == "0")
        #expect(r["unit_remove_again"] == "4" && r["unit_remove_said"] == "1", "nothing found where it could look; iptables-legacy unread")
        // 9: with the iptables-legacy drop-in.
        #expect(r["unit_legacy_ready"] == "1" && r["unit_legacy_mss"] == "1360" && r["unit_legacy_rules"] == "6")
        #expect(r["unit_legacy_eff"] == netAdminRaw && r["unit_legacy_seccomp"] == "2")
        #expect(r["unit_legacy_remove"] == "0" && r["unit_legacy_left"] == "0")
    }
}

# Debian 13 (trixie: its kernel, systemd 257, iptables 1.8.11, nftables 1.1, libpcap0.8t64)
# with the package built on Debian 12, as an operator upgrading a gateway meets it: apt
# installs it, the packaged default clamps forwarded SYNs (the backend chosen by itself),
# status says OK, the journal has no error, and apt remove leaves the firewall as it found
# it. Then the README's WireGuard recipe over a real WireGuard tunnel at the MTU its tools
# make, and its PPPoE recipe over a real PPPoE uplink: without a rule for the client the
# download stalls, with the recipe as written it completes. Sourced by agent.sh.

# ---- the package, in agent.sh's client -- router -- server lab ----
net_up
rulesets >"$state/before.rules"
install_deb "$lab/mssclamp.deb" install
. /etc/os-release
result "d13_release=$VERSION_ID d13_kernel=$(uname -r) install_active=$(systemctl is-active mssclamp) install_enabled=$(systemctl is-enabled mssclamp)"
result "d13_ready_said=$(jlog -o cat | grep -cE 'ready: queue 0, 1 rule\(s\), .* installed in (mangle/MSSCLAMP \(iptables-nft\)|.*nftables)')"
jlog -o cat | grep -E 'backend|ready' | head -4 | sed 's/^/journal: /' >&3
probe d13 5
# The packaged default: 1341-1536 -> 1360 (IPv4) / 1340 (IPv6).
result "d13_at_default=$(counter v4_1360),$(counter v6_1340)"
status_check d13
service_facts d13
DEBIAN_FRONTEND=noninteractive apt-get remove -y mssclamp >"$state/remove.log" 2>&1
result "remove_apt=$? remove_ruleset_diff=$(rulesets | diff "$state/before.rules" - | grep -c '^[<>]')"
rulesets | diff "$state/before.rules" - | head -20 | sed 's/^/ruleset: /' >&3
ip link del eth0; ip link del r-cli; ip netns del cli; ip netns del srv

# ---- the WireGuard recipe, in the tunnel lab (scenario-tunnels.sh's picture) ----
source "$lab/tunnel-lab.sh"
tunnels_net_up
install_deb "$lab/mssclamp.deb" reinstall
policy none
systemctl restart mssclamp
tunnel_extras=recipe
tunnel wg4 wireguard wireguard ipv4
# ---- the PPPoE uplink recipe: the gateway dials a concentrator and reaches a server behind
# it through ppp0 (tunnel-lab.sh's pppoe_check) ----
pppoe_check
status_check tunnels

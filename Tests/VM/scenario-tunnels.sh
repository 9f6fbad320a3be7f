# Real VPN tunnels on Debian's kernel: strongSwan (IKEv2, kernel ESP with AES-GCM, plain and
# with NAT-T), WireGuard, OpenVPN (UDP, AES-GCM), GRE and VXLAN, each over an IPv4 and where it
# applies an IPv6 outer header. Sourced by agent.sh; the VM's root namespace is the gateway:
#
#   client --u0--eth1-- [gateway: mssclamp] --eth0--s0-- server 203.0.113.2 / 2001:db8:2::2
#   192.0.2.2 / 2001:db8:1::2 (underlay)        inside the tunnel: client 198.51.100.1NN /
#                                                 2001:db8:100::1NN (NN: the tunnel's place in
#                                                 the list below), gateway 198.51.100.1 / ::1
#
# As operators report the black hole: the client believes its MTU is 1500 (its SYNs say MSS
# 1460, 1440 for IPv6 but inside IPv4 IPsec), the server's network drops ICMP frag-needed and
# packet-too-big, and the underlay drops IP fragments (as many middleboxes do), so only
# packets whose encapsulation fits the 1500-byte underlay cross.
#
# Per tunnel: (1) the largest DF packet that crosses it (ping -M do from the gateway, IPv4 and
# IPv6 inside: the calculator's figure crosses and one byte more does not, else bisection
# finds the real figure), beside what `mssclamp mss --tunnel STACK --outer FAMILY` computes;
# (2) a 1 MiB download over IPv4 and IPv6 with the gateway's tunnel MTU as the calculator
# says and nothing clamped (mssclamp runs, its policy covering another client: the previous
# tunnel's): it stalls; then `systemctl reload` with this client's `source:` and
# `set-mss-for-tunnel: STACK/FAMILY`: it completes. (3) For esp4 (iptables-nft) and espnatt4
# (nftables): the same with `ipsec: in` as the rule's only selector: the download completes,
# the IPsec client's SYNs reach the server clamped, and a plain forwarded SYN (the server
# calling the client's underlay address) reaches the client as it was sent. (4) For wg4:
# `clamp-to-interface: wg0` while the gateway's wg0 changes MTU and is deleted and made again,
# downloads right after each change: every SYN carries the MSS of wg0's MTU then. (5) For
# wg4, gre4, esp4: `mssclamp probe` from the server finds the inner MTU and the gateway as
# the black hole; for wg4, gre4: doctor's tunnel findings on the kernel's own link kinds.
# (6) For wg4, gre4, ovpn4 and esp4: the README's recipe for that VPN, as written.
source "$lab/tunnel-lab.sh"

# tunnel NAME KIND STACK OUTER: one tunnel, measured, then the download without and with.
tunnel() {
    local name=$1 kind=$2 stack=$3 outer=$4 computed m4 m6 without with start=$(now_ms)
    flush_pmtu
    client_addresses "$name"
    ${kind}_up "$outer"
    computed=$(mssclamp mss --tunnel "$stack" --outer "$outer" --json | grep -o '"inner_mtu":[0-9]*' | cut -d: -f2)
    read -r m4 m6 <<<"$(largest "$computed")"
    result "${name}_measured4=$m4 ${name}_measured6=$m6 ${name}_computed=$computed ${name}_stack=$stack/$outer"
    # As deployed: the gateway's tunnel MTU is the calculator's, the client believes 1500.
    if [ -n "$gw_if" ]; then ip link set "$gw_if" mtu "$computed"; ip -n cli link set "$cli_if" mtu 1500; fi
    flush_pmtu
    local t0=$(now_ms) t1 t2 t3 t4
    without=$(both_downloads 3)
    t1=$(now_ms); reload_policy "$stack/$outer"; local reloaded=$?; t2=$(now_ms)
    with=$(both_downloads 60)
    t3=$(now_ms)
    result "${name}_without=${without% *} ${name}_without_connected=${without#* } ${name}_with=${with% *} ${name}_reloaded=$reloaded"
    [ "${with% *}" = 1048576,1048576 ] || diagnose "$name"
    # probe, from the server's side, finds the MTU and the gateway as the black hole; doctor
    # reads the real WireGuard and GRE links.
    case $name in wg4 | gre4 | esp4) probe_tunnel "$name" ;; esac
    case $name in wg4 | gre4) doctor_tunnel "$name" ;; esac
    # The README's recipes as written (the strongSwan one is the IPsec selector's policy).
    case $name in
    wg4) recipe_check "$name" wireguard ;;
    gre4) recipe_check "$name" gre ;;
    ovpn4) recipe_check "$name" openvpn ;;
    esac
    # The IPsec selector instead of the client's addresses: iptables-nft (the default), and
    # the native nftables table with NAT-T.
    case $name in
    wg4) follow_wireguard "$name" "$outer" ;;
    esp4) ipsec_selector "$name" "$stack/$outer" ;;
    espnatt4) ipsec_selector "$name" "$stack/$outer" nftables ;;
    esac
    ${kind}_down
    t4=$(now_ms)
    result "${name}_seconds=$(( (t4 - start) / 1000 )) ${name}_ms=measure:$((t0 - start)),without:$((t1 - t0)),reload:$((t2 - t1)),with:$((t3 - t2)),after:$((t4 - t3))"
}

tunnels_net_up
install_deb "$lab/mssclamp.deb" install
policy none
systemctl restart mssclamp
result "tunnels_kernel=$(uname -r)"
# The lab disk's `tunnels` file may name a subset (vmlab.sh: TUNNELS="wg6 esp4").
only=$(cat "$lab/tunnels" 2>/dev/null)
want() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
while read -r name kind stack outer; do
    want "$name" || continue
    if [ "$kind" = esp ] || [ "$kind" = espnatt ]; then [ -n "${cli_charon:-}" ] || charons_up; fi
    tunnel "$name" "$kind" "$stack" "$outer"
done <<'LIST'
wg4 wireguard wireguard ipv4
wg6 wireguard wireguard ipv6
gre4 gre gre ipv4
gre6 gre gre ipv6
vxlan4 vxlan vxlan ipv4
vxlan6 vxlan vxlan ipv6
ovpn4 openvpn openvpn-gcm ipv4
ovpn6 openvpn openvpn-gcm ipv6
esp4 esp esp-gcm ipv4
esp6 esp esp-gcm ipv6
espnatt4 espnatt esp-gcm+nat-t ipv4
LIST
[ -n "${cli_charon:-}" ] && charons_down
result "tunnels_active=$(systemctl is-active mssclamp) tunnels_frag_dropped=$({ nft list table netdev labfrag; ip netns exec cli nft list table netdev labfrag; } | grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}')"
status_check tunnels

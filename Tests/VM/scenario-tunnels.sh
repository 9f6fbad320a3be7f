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

# `--learn-stalls` on Debian's kernel under systemd: a real GRE tunnel beyond the gateway,
# no ICMP from it, no MTU given to mssclamp. Sourced by agent.sh; the VM's root namespace is
# the gateway:
#
#   client 198.51.100.130 -- edge ==[GRE, MTU 1476]== hop 198.51.100.2 -- [gateway] -- server
#   2001:db8:102::2          (underlay 192.0.2.0/30)      2001:db8:100::2       203.0.113.2
#
# The client's own link is 1500 (its SYNs say MSS 1460 / 1440); the hop puts the server's
# 1500-byte segments into a tunnel of 1476 and drops the frag-needed / packet-too-big it
# would send: a black hole that says nothing. The gateway's route toward the client is 1500,
# so its policy (clamp-mss-to-pmtu) clamps nothing.
#
#   1  iptables-nft: the first downloads stall, the stall is judged (journal), the next
#      ones complete; status lists the clients
#   2  the learned entries survive `systemctl restart` (StateDirectory=): the first download
#      after it completes
#   3  nftables (its own stall-watch chain), learned afresh: the same story
#   4  control: the client's link at the tunnel's 1476 (no black hole), 5% loss both ways
#      (netem on the gateway's and the hop's links): 8 downloads, nothing learned
stall_net_up() {
    ip netns add hop; ip netns add edge; ip netns add cli; ip netns add srv
    ip link add r-hop type veth peer name h0 netns hop
    ip link add eth0 type veth peer name s0 netns srv
    ip link add u0 netns hop type veth peer name u1 netns edge
    ip link add e0 netns edge type veth peer name c0 netns cli
    local ns
    for ns in hop edge cli srv; do ip -n $ns link set lo up; done
    ip addr add 198.51.100.1/26 dev r-hop; ip -6 addr add 2001:db8:100::1/64 dev r-hop nodad; ip link set r-hop up
    ip addr add 203.0.113.1/24 dev eth0; ip -6 addr add 2001:db8:2::1/64 dev eth0 nodad; ip link set eth0 up
    ip -n srv addr add 203.0.113.2/24 dev s0; ip -n srv -6 addr add 2001:db8:2::2/64 dev s0 nodad; ip -n srv link set s0 up
    ip -n hop addr add 198.51.100.2/26 dev h0; ip -n hop -6 addr add 2001:db8:100::2/64 dev h0 nodad; ip -n hop link set h0 up
    ip -n hop addr add 192.0.2.1/30 dev u0; ip -n hop link set u0 up
    ip -n edge addr add 192.0.2.2/30 dev u1; ip -n edge link set u1 up
    ip -n hop link add gre1 type gre local 192.0.2.1 remote 192.0.2.2
    ip -n edge link add gre1 type gre local 192.0.2.2 remote 192.0.2.1
    ip -n hop addr add 198.51.100.65/30 dev gre1; ip -n hop -6 addr add 2001:db8:101::1/64 dev gre1 nodad; ip -n hop link set gre1 up
    ip -n edge addr add 198.51.100.66/30 dev gre1; ip -n edge -6 addr add 2001:db8:101::2/64 dev gre1 nodad; ip -n edge link set gre1 up
    ip -n edge addr add 198.51.100.129/25 dev e0; ip -n edge -6 addr add 2001:db8:102::1/64 dev e0 nodad; ip -n edge link set e0 up
    ip -n cli addr add 198.51.100.130/25 dev c0; ip -n cli -6 addr add 2001:db8:102::2/64 dev c0 nodad; ip -n cli link set c0 up
    ip route add 198.51.100.128/25 via 198.51.100.2; ip -6 route add 2001:db8:102::/64 via 2001:db8:100::2
    ip -n srv route add default via 203.0.113.1; ip -n srv -6 route add default via 2001:db8:2::1
    ip -n hop route add default via 198.51.100.1; ip -n hop -6 route add default via 2001:db8:100::1
    ip -n hop route add 198.51.100.128/25 via 198.51.100.66; ip -n hop -6 route add 2001:db8:102::/64 via 2001:db8:101::2
    ip -n edge route add default via 198.51.100.65; ip -n edge -6 route add default via 2001:db8:101::1
    ip -n cli route add default via 198.51.100.129; ip -n cli -6 route add default via 2001:db8:102::1
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    for ns in hop edge; do ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; done
    ip netns exec srv sysctl -qw net.ipv4.tcp_mtu_probing=0
    # The hop says nothing.
    ip netns exec hop iptables-nft -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
    ip netns exec hop ip6tables-nft -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
    ip netns exec srv python3 "$lab/download.py" >/run/stall-server.out 2>&1 &
    ip netns exec cli ping -c 1 -W 2 203.0.113.2 >/dev/null 2>&1; ip netns exec cli ping -6 -c 1 -W 2 2001:db8:2::2 >/dev/null 2>&1
    lab_net_check
}
fetch() {  # FAMILY SECONDS: the body's bytes received
    local url=http://203.0.113.2:8080/1M
    [ "$1" = 6 ] && url="http://[2001:db8:2::2]:8080/1M"
    ip netns exec cli curl -s -o /dev/null -w '%{size_download}' --max-time "$2" "$url" 2>/dev/null
}
stall_story() {  # LABEL: first downloads stall and are judged, the next complete
    local f4 f6
    f4=$(fetch 4 10); f6=$(fetch 6 10)
    wait_journal "learn-stalls: flow 2001:db8:102::2" 30
    result "$1_first=$f4,$f6 $1_judged4=$(jlog -o cat | grep -c 'learn-stalls: flow 198.51.100.130\..* clamped to MSS 1360 (path MTU 1400)') $1_judged6=$(jlog -o cat | grep -c 'learn-stalls: flow 2001:db8:102::2\..* clamped to MSS 1340 (path MTU 1400)')"
    result "$1_detect=$(jlog -o cat | sed -n 's/.*learn-stalls: flow 198.51.100.130.* sent [0-9]* times in \([0-9.]*\) s .*/\1/p' | head -1)"
    result "$1_second=$(fetch 4 20),$(fetch 6 20)"
}

stall_net_up
install_deb "$lab/mssclamp.deb" install
cat >/etc/mssclamp.yaml <<'YAML'
rules:
  - clamp-mss-to-pmtu: true
YAML
sed -i 's/^MSSCLAMP_OPTIONS=.*/MSSCLAMP_OPTIONS="--backend iptables-nft --learn-stalls"/' /etc/default/mssclamp
systemctl restart mssclamp
result "stalls_active=$(systemctl is-active mssclamp) stalls_jump=$(iptables-nft -t mangle -S FORWARD | grep -c 'mssclamp stall-watch')"
stall_story ipt
sleep 1.5
result "ipt_status_lists=$(mssclamp status | grep -c '198.51.100.130: path MTU 1400 -> MSS 1360 (stalled at 1500')"
result "ipt_kept_file=$(grep -vc '^#' /var/lib/mssclamp/learned-stalls.tsv 2>/dev/null)"
systemctl restart mssclamp
result "restart_kept_said=$(jlog -o cat | grep -c 'learned from stalled flows before this start, kept from /var/lib/mssclamp/learned-stalls.tsv') restart_first=$(fetch 4 20),$(fetch 6 20)"

# nftables, learned afresh.
systemctl stop mssclamp
rm -f /var/lib/mssclamp/learned-stalls.tsv
jsince=$(date +%s); sleep 1
sed -i 's/^MSSCLAMP_OPTIONS=.*/MSSCLAMP_OPTIONS="--backend nftables --learn-stalls"/' /etc/default/mssclamp
systemctl start mssclamp
result "nft_active=$(systemctl is-active mssclamp) nft_chain=$(nft list table inet mssclamp 2>/dev/null | grep -c 'chain stall_watch')"
stall_story nft

# Control: no black hole, 5% loss both ways.
systemctl stop mssclamp
rm -f /var/lib/mssclamp/learned-stalls.tsv
jsince=$(date +%s); sleep 1
ip -n cli link set c0 mtu 1476; ip -n edge link set e0 mtu 1476
tc qdisc add dev r-hop root netem loss 5%
ip netns exec hop tc qdisc add dev h0 root netem loss 5%
systemctl start mssclamp
complete=0
for n in 1 2 3 4; do
    [ "$(fetch 4 20)" = 1048576 ] && complete=$((complete + 1))
    [ "$(fetch 6 20)" = 1048576 ] && complete=$((complete + 1))
done
dropped=$(tc -s qdisc show dev r-hop | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
result "lossy_complete=$complete lossy_dropped=$dropped lossy_stalls=$(jlog -o cat | grep 'learn-stalls: flow' | grep -vc 'looked stalled') lossy_starved=$(jlog -o cat | grep -c 'learn-stalls: flow .* looked stalled')"
tc qdisc del dev r-hop root 2>/dev/null
status_check stalls
DEBIAN_FRONTEND=noninteractive apt-get purge -y mssclamp >"$state/purge.log" 2>&1
result "stalls_purge=$? stalls_state_gone=$([ -e /var/lib/mssclamp ] && echo 0 || echo 1)"
ip netns pids srv | xargs -r kill 2>/dev/null

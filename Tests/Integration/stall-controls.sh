#!/bin/bash
# `mssclamp run --learn-stalls` must learn nothing where there is no black hole it could
# fix: the false-alarm controls, in the four-namespace lab of stall.sh (client — hop —
# router with the worker — server, the hop silent: no frag-needed / packet-too-big).
#
#   1  asymmetric routing: the client's packets reach the server by another link (IPv6),
#      the router sees only the server's; the black hole is there, the router never saw
#      the flow open: nothing learned
#   2  the gateway's own traffic: the router itself sends 1 MB into the black hole: stalls,
#      not forwarded: nothing learned
#   3  flows clamped below the size that stalls (--set-mss 1300): complete, nothing learned
#   then the hop's link at 1500 (no black hole):
#   4  idle clients whose window closes (they read nothing for 4 s): nothing learned
#   5  congestion: the hop's link toward the client shaped to 20 Mbit/s (tbf, a 16-packet
#      queue), 4 downloads of one family at once, each family twice: drops, and new flows
#      starved (their whole first window and two retransmissions dropped by the tail-drop
#      queue the others keep full: what a black hole looks like to the segments alone).
#      The client acknowledges the others' 1500-byte packets, so nothing is learned; the
#      starved flows are counted (congestion_starved).
#
# Prints RESULT key=value lines. Documentation addresses only; every loop bounded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"

id="msfa$$"
work=$(mktemp -d)
NS="c h r s"
down() {
    [ -n "${LAB_WORKER_PID:-}" ] && kill -KILL "$LAB_WORKER_PID" 2>/dev/null
    local ns
    for ns in $NS; do ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
    for ns in $NS; do ip netns del "$id-$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap down EXIT
trap 'exit 130' INT TERM

lab_four_up "$id" || exit 1
ip netns exec "$id-h" iptables -w -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
ip netns exec "$id-h" ip6tables -w -A OUTPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
for ns in s r; do ip netns exec "$id-$ns" sysctl -qw net.ipv4.tcp_mtu_probing=0; done
ip netns exec "$id-c" ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1
ip netns exec "$id-c" ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null 2>&1
lab_mb_server "$id"
# Flows judged stalled (black holes), and flows that looked stalled toward a client that
# acknowledged packets as large on another flow (starved by congestion: nothing learned).
stalls() { grep "learn-stalls: flow" "$1" | grep -vc "looked stalled"; }
starved() { grep -c "learn-stalls: flow .* looked stalled" "$1"; }
start_worker() {  # LOG [ARGS...]
    local log=$1
    shift
    lab_worker_start "$id" "$log" --backend iptables-nft --clamp-mss-to-pmtu --state-dir "$work/state" --learn-stalls "$@"
}
r2_packets() { ip -n "$id-r" -s -j link show r2 | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }
r1_packets() { ip -n "$id-r" -s -j link show r1 | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"][sys.argv[1]]["packets"])' "$1"; }

# 1. Asymmetric: a link hop <-> server (2001:db8:4::/64) carries the client's packets.
ip link add hb netns "$id-h" type veth peer name sb netns "$id-s"
ip -n "$id-h" addr add 2001:db8:4::1/64 dev hb nodad; ip -n "$id-h" link set hb up
ip -n "$id-s" addr add 2001:db8:4::2/64 dev sb nodad; ip -n "$id-s" link set sb up
ip netns exec "$id-h" ethtool -K hb tx off tso off gso off >/dev/null 2>&1
ip netns exec "$id-s" ethtool -K sb tx off tso off gso off >/dev/null 2>&1
ip -n "$id-h" -6 route replace 2001:db8:2::/64 via 2001:db8:4::2
start_worker "$work/asym.log" || exit 1
before=$(r2_packets)
asym_got=$(lab_fetch "$id" 2001:db8:2::1 5)
seen=$(($(r2_packets) - before))
echo "RESULT asym_got=$asym_got asym_router_saw=$seen asym_stalls=$(stalls "$work/asym.log")"
lab_worker_stop >/dev/null
ip -n "$id-h" -6 route del 2001:db8:2::/64 via 2001:db8:4::2

# 2. The router's own traffic into the black hole (a sender in the router's namespace).
start_worker "$work/own.log" || exit 1
lab_mb_server "$id" 8081 r
sent=$(r1_packets tx)
own_got=$(lab_fetch "$id" 203.0.113.254 5 8081)
echo "RESULT own_got=$own_got own_router_sent=$(($(r1_packets tx) - sent)) own_stalls=$(stalls "$work/own.log")"
kill -KILL "$LAB_SERVER_PID" 2>/dev/null
lab_worker_stop >/dev/null

# 3. Already clamped below the size that stalls.
lab_worker_start "$id" "$work/clamped.log" --backend iptables-nft --set-mss 1300 --state-dir "$work/state" --learn-stalls || exit 1
c4=$(lab_fetch "$id" 198.51.100.1 6); c6=$(lab_fetch "$id" 2001:db8:2::1 6)
echo "RESULT clamped_v4=$c4 clamped_v6=$c6 clamped_stalls=$(stalls "$work/clamped.log")"
lab_worker_stop >/dev/null

# 4-5. No black hole from here on.
ip -n "$id-h" link set h0 mtu 1500
start_worker "$work/quiet.log" || exit 1
i4=$(lab_fetch "$id" 198.51.100.1 6 8080 c 4); i6=$(lab_fetch "$id" 2001:db8:2::1 6 8080 c 4)
echo "RESULT idle_v4=$i4 idle_v6=$i6 idle_stalls=$(stalls "$work/quiet.log")"
ip netns exec "$id-h" tc qdisc add dev h0 root tbf rate 20mbit burst 16kb limit "${CONGESTION_LIMIT:-24kb}"
rounds=${CONGESTION_ROUNDS:-2} flows=${CONGESTION_FLOWS:-4}
for round in $(seq "$rounds"); do
    for server in 198.51.100.1 2001:db8:2::1; do
        pids=""
        # 25 s each: a starved flow waits out its retransmission timeouts (1, 2, 4 s, ...);
        # with 10 s one of 16 fell short once, beside the VM lab.
        for n in $(seq "$flows"); do lab_fetch "$id" "$server" 25 >"$work/cong.$round.$server.$n" & pids="$pids $!"; done
        wait $pids
    done
done
complete=$(cat "$work"/cong.* | grep -c '^1048576$')
dropped=$(ip netns exec "$id-h" tc -s qdisc show dev h0 | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
sleep 1.5
echo "RESULT congestion_downloads=$((2 * rounds * flows)) congestion_complete=$complete congestion_dropped=$dropped congestion_stalls=$(stalls "$work/quiet.log") congestion_starved=$(starved "$work/quiet.log")"
lab_worker_stop >/dev/null
echo "RESULT learned_file=$(grep -vc '^#' "$work/state/learned-stalls.tsv" 2>/dev/null || echo 0)"

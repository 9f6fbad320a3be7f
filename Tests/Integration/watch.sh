#!/usr/bin/env bash
# `mssclamp watch` on a live interface: the router's client-facing vpn0, as nobody with
# CAP_NET_RAW only. Real connections (IPv4, IPv6), crafted SYNs (MSS 1400, none), an ICMP
# frag-needed and an ICMPv6 packet-too-big crossing the router towards the client; text
# and JSON; --learn-pmtu learning from a live frag-needed and judging the next SYN-ACK by it;
# without CAP_NET_RAW a clear refusal. Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin mscv || exit 1
KEEP=${KEEP_OUTPUT:-}
chmod 755 "$work"
cp "$LAB_BIN" "$work/mssclamp"; chmod 755 "$work/mssclamp"
RAW="--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw"

# Stops a watcher once FILE shows TEXT (its last expected line; watch flushes each line), or
# after 30 s: a watch bounded by --seconds alone raced the traffic on a loaded machine.
stop_when_seen() {  # PID FILE TEXT
    lab_wait_for "$2" "$3" 300
    kill -TERM "$1" 2>/dev/null
}

traffic() {
    lab_connect "$id" 198.51.100.1 9
    lab_connect "$id" 2001:db8:2::1 9
    lab_send_syns "$id" 198.51.100.1 41000 1400 none
    # The server's side says "too big" about the client's flow; it crosses vpn0 on its way back.
    ip netns exec "$id-s" timeout 20 "$LAB_PY" -c '
from scapy.all import IP, IPv6, ICMP, ICMPv6PacketTooBig, TCP, send, conf
conf.verb = 0
send(IP(src="198.51.100.1", dst="192.0.2.1") / ICMP(type=3, code=4, nexthopmtu=1400)
     / IP(src="192.0.2.1", dst="198.51.100.1") / TCP(sport=40000, dport=443, flags="PA"))
send(IPv6(src="2001:db8:2::1", dst="2001:db8:1::1") / ICMPv6PacketTooBig(mtu=1380)
     / IPv6(src="2001:db8:1::1", dst="2001:db8:2::1") / TCP(sport=40001, dport=443, flags="PA"))
' 2>&1 | grep -v WARNING
}

# 1. Text, as nobody with CAP_NET_RAW.
ip netns exec "$id-r" setpriv $RAW "$work/mssclamp" watch -i vpn0 --seconds 60 >"$work/w.out" 2>"$work/w.err" &
watcher=$!
lab_wait_for "$work/w.err" "watching vpn0" 200
traffic
stop_when_seen "$watcher" "$work/w.out" "packet-too-big, mtu 1380"
wait "$watcher"; status=$?
echo "RESULT text_status=$status syn4=$(grep -c 'IP 192.0.2.1.[0-9]* > 198.51.100.1.9: Flags \[S\], mss 1460 -> 1360, clamped (rule 1)' "$work/w.out") syn6=$(grep -c 'IP6 2001:db8:1::1.[0-9]* > 2001:db8:2::1.9: Flags \[S\], mss 1440 -> 1340, clamped (rule 1)' "$work/w.out") default_said=$(grep -c 'judging by the default policy' "$work/w.err") crafted=$(grep -c '192.0.2.1.41000 > 198.51.100.1.9: Flags \[S\], mss 1400 -> 1360, clamped (rule 1)\|192.0.2.1.41001 > 198.51.100.1.9: Flags \[S\], no mss, unchanged: no-mss-option' "$work/w.out")"
echo "RESULT icmp4=$(grep -c 'IP 198.51.100.1 > 192.0.2.1: ICMP frag-needed, mtu 1400, quoting TCP 192.0.2.1.40000 > 198.51.100.1.443' "$work/w.out") icmp6=$(grep -c 'IP6 2001:db8:2::1 > 2001:db8:1::1: ICMP6 packet-too-big, mtu 1380, quoting TCP 2001:db8:1::1.40001 > 2001:db8:2::1.443' "$work/w.out")"
echo "RESULT histogram4=$(grep -c '^  192.0.2.0/24 *SYN *1400 x1, 1460 x1, none x1' "$work/w.out") histogram6=$(grep -c '^  2001:db8:1::/64 *SYN *1440 x1' "$work/w.out")"
[ "$status" = 0 ] && [ -z "$KEEP" ] || cat "$work/w.out" "$work/w.err" >&2

# 2. JSON, bounded by --count (4 lines: the two real SYNs, the two crafted ones), judged by a
#    tunnel's MSS (WireGuard: 1380, for wg0 as wg-quick makes it).
ip netns exec "$id-r" setpriv $RAW "$work/mssclamp" watch -i vpn0 --json --count 4 --seconds 60 --set-mss-for-tunnel wireguard >"$work/j.out" 2>"$work/j.err" &
watcher=$!
lab_wait_for "$work/j.err" "watching vpn0" 200
traffic
wait "$watcher"; jstatus=$?
echo "RESULT json_status=$jstatus json_lines=$(wc -l <"$work/j.out") json_valid=$("$LAB_PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
syn = [l for l in lines if l.get("action")]
print(int(len(syn) == 4 and "histogram" in lines[-1] and any(l.get("mss_after") == 1380 for l in syn)))' "$work/j.out" 2>/dev/null || echo 0)"

# 3. --learn-pmtu: a SYN to the server's 443, then the server's frag-needed (MTU 1400) about
#    that flow: the learner believes it (the flow was seen) and learns 198.51.100.1; a real
#    connection to a listener then brings the server's SYN-ACK (MSS 1460), which the rule
#    (--set-mss 1400) and the learned path (1400 - 40) lower to 1360.
ip netns exec "$id-r" setpriv $RAW "$work/mssclamp" watch -i vpn0 --seconds 60 --set-mss 1400 --learn-pmtu >"$work/l.out" 2>"$work/l.err" &
watcher=$!
lab_wait_for "$work/l.err" "watching vpn0" 200
ip netns exec "$id-s" timeout 12 "$LAB_PY" -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8443)); s.listen(4); s.settimeout(10)
try:
    c, _ = s.accept(); c.close()
except OSError:
    pass
' &
listener=$!
ip netns exec "$id-c" timeout 20 "$LAB_PY" -c '
from scapy.all import IP, TCP, send, conf
conf.verb = 0
send(IP(src="192.0.2.1", dst="198.51.100.1") / TCP(sport=40000, dport=443, flags="S", seq=1, options=[("MSS", 1460)]))
' 2>&1 | grep -v WARNING
sleep 0.5
ip netns exec "$id-s" timeout 20 "$LAB_PY" -c '
from scapy.all import IP, ICMP, TCP, send, conf
conf.verb = 0
send(IP(src="198.51.100.1", dst="192.0.2.1") / ICMP(type=3, code=4, nexthopmtu=1400)
     / IP(src="192.0.2.1", dst="198.51.100.1") / TCP(sport=40000, dport=443, flags="PA"))
' 2>&1 | grep -v WARNING
sleep 0.5
lab_connect "$id" 198.51.100.1 8443
wait "$listener" 2>/dev/null
stop_when_seen "$watcher" "$work/l.out" "198.51.100.1.8443 > 192.0.2.1.[0-9]*: Flags \\[S.\\]"
wait "$watcher"; lstatus=$?
echo "RESULT learn_status=$lstatus learn_icmp=$(grep -c 'ICMP frag-needed, mtu 1400, quoting TCP 192.0.2.1.40000 > 198.51.100.1.443; learned: SYNs from 198.51.100.1 at most MSS 1360' "$work/l.out") learn_synack=$(grep -c 'IP 198.51.100.1.8443 > 192.0.2.1.[0-9]*: Flags \[S.\], mss 1460 -> 1360, clamped (rule 1, learned path MTU)' "$work/l.out") learn_syn=$(grep -c 'IP 192.0.2.1.[0-9]* > 198.51.100.1.8443: Flags \[S\], mss 1460 -> 1400, clamped (rule 1)$' "$work/l.out")"
[ "$lstatus" = 0 ] && [ -z "$KEEP" ] || cat "$work/l.out" "$work/l.err" >&2

# 4. Without CAP_NET_RAW: refused, and told why.
ip netns exec "$id-r" timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$work/mssclamp" watch -i vpn0 --seconds 1 >"$work/n.out" 2>&1
echo "RESULT noraw_status=$? noraw_says=$(grep -c 'needs CAP_NET_RAW' "$work/n.out")"
ip netns exec "$id-r" timeout 10 "$work/mssclamp" watch -i nosuch0 --seconds 1 >"$work/m.out" 2>&1
echo "RESULT missing_status=$? missing_says=$(grep -c 'no such interface' "$work/m.out")"

# 5. A worker runs here (its own policy, 1300): watch with no policy judges by the worker's,
#    as the worker publishes it, and says so.
lab_worker_start "$id" "$work/wk.log" --set-mss 1300 --state-dir "$work/wstate" || exit 1
ip netns exec "$id-r" setpriv $RAW "$work/mssclamp" watch -i vpn0 --seconds 60 --state-dir "$work/wstate" >"$work/r.out" 2>"$work/r.err" &
watcher=$!
lab_wait_for "$work/r.err" "watching vpn0" 200
lab_connect "$id" 198.51.100.1 9
stop_when_seen "$watcher" "$work/r.out" "198.51.100.1.9: Flags \\[S\\]"
wait "$watcher"; rstatus=$?
lab_worker_stop
echo "RESULT running_status=$rstatus running_said=$(grep -c "judging by the running worker's policy (pid $LAB_WORKER_PID, policy:" "$work/r.err") running_syn=$(grep -c 'IP 192.0.2.1.[0-9]* > 198.51.100.1.9: Flags \[S\], mss 1460 -> 1300, clamped (rule 1)' "$work/r.out")"

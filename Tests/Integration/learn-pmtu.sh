#!/bin/bash
# `mssclamp run --learn-pmtu` in a lab of four namespaces, as issue #11 describes it:
#
#   client c0 192.0.2.1 2001:db8:1::1 -- h0 (MTU 1400) hop h1 203.0.113.1 2001:db8:3::1
#     -- r1 203.0.113.254 2001:db8:3::fe  router  r2 198.51.100.254 2001:db8:2::fe -- s0 server
#
# The client sees 1500 and announces MSS 1460. The hop's link toward the client carries
# 1400, so the server's 1500-byte segments earn an ICMP frag-needed / packet-too-big that
# crosses the router on its way to the server, which drops it (the filtered-ICMP half of
# a black hole). The router's own links are 1500: --clamp-mss-to-pmtu alone clamps nothing.
#
#   1  without learning: 1 MB downloads stall (IPv4, IPv6)
#   2  with --learn-pmtu: the first may stall, the next ones complete; the SYNs reaching the
#      server carry 1360 / 1340; status lists the entries; the log says learned
#   3  the entries expire (--learn-pmtu-expiry): log line, status empty
#   4  hostile ICMP: tiny MTU, an unrelated flow, a flood: refused and counted, the table
#      bounded, every ICMP still delivered (observed, never held back); metrics show it
#   5  the rules go with the worker: the firewall is as found
#
# Prints RESULT key=value lines. Documentation addresses only; every loop bounded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"

id="mscl$$"
work=$(mktemp -d)
NS="c h r s"
down() {
    [ -n "${LAB_WORKER_PID:-}" ] && kill -KILL "$LAB_WORKER_PID" 2>/dev/null
    [ -n "${server_pid:-}" ] && kill -KILL "$server_pid" 2>/dev/null
    local ns
    for ns in $NS; do ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
    for ns in $NS; do ip netns del "$id-$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap down EXIT
trap 'exit 130' INT TERM

lab_four_up "$id" || exit 1
# The server never hears that its segments are too big.
ip netns exec "$id-s" iptables -w -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP
ip netns exec "$id-s" ip6tables -w -A INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
ip netns exec "$id-c" ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1
ip netns exec "$id-c" ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null 2>&1

# The server: 1 MB to whoever connects to port 8080 (both families), for at most 300 s.
ip netns exec "$id-s" timeout 300 "$LAB_PY" -c '
import socket, struct, threading
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8080)); s.listen(16)
def serve(c):
    c.settimeout(5)
    try:
        c.sendall(b"x" * 1048576)
    except OSError:
        # Stalled: reset rather than retransmit for minutes (and re-teach the router).
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' &
server_pid=$!
sleep 0.5

# Bytes of a 1 MB download the client got within 4 s.
download() {  # ADDRESS
    ip netns exec "$id-c" timeout 10 "$LAB_PY" -c '
import socket, sys, time
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(4)
got, end = 0, time.monotonic() + 4
try:
    s.connect((a, 8080))
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        data = s.recv(65536)
        if not data: break
        got += len(data)
except OSError: pass
print(got)' "$1"
}
complete() { [ "$1" = 1048576 ] && echo 1 || echo 0; }
status_json() { ip netns exec "$id-r" "$LAB_BIN" status --state-dir "$work/state" --json 2>/dev/null; }
learning() {  # PYTHON-EXPRESSION over j (the worker's learned entries), c (its counters) and refused (their sum)
    status_json | "$LAB_PY" -c "import json,sys; w=json.load(sys.stdin)['worker']; j=w['learning']; c=w['counters']['counts']; refused=sum(v for k, v in c.items() if k.startswith('pmtu-refused/')); print($1)" 2>/dev/null
}
saved_rules() { { ip netns exec "$id-r" iptables-save; ip netns exec "$id-r" ip6tables-save; } | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
before=$(saved_rules)

# 1. No learning.
lab_worker_start "$id" "$work/plain.log" --backend iptables-nft --clamp-mss-to-pmtu --state-dir "$work/state" || exit 1
echo "RESULT plain_v4=$(complete "$(download 198.51.100.1)") plain_v6=$(complete "$(download 2001:db8:2::1)")"
lab_worker_stop >/dev/null

# 2. Learning.
lab_dump_start "$id" "$work/syns.pcap" "(tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0) or (ip6[53] & 2 != 0 and ip6[53] & 16 == 0)"
lab_worker_start "$id" "$work/learn.log" --backend iptables-nft --clamp-mss-to-pmtu --state-dir "$work/state" \
    --learn-pmtu --learn-pmtu-expiry 40 --metrics 127.0.0.1:9109 || exit 1
first4=$(download 198.51.100.1); second4=$(download 198.51.100.1); third4=$(download 198.51.100.1)
first6=$(download 2001:db8:2::1); second6=$(download 2001:db8:2::1); third6=$(download 2001:db8:2::1)
lab_dump_stop
echo "RESULT learn_v4_first=$first4 learn_v4_second=$(complete "$second4") learn_v4_third=$(complete "$third4")"
echo "RESULT learn_v6_first=$first6 learn_v6_second=$(complete "$second6") learn_v6_third=$(complete "$third6")"
echo "RESULT syn_mss_v4=$(tshark -r "$work/syns.pcap" -Y 'ip && tcp.dstport==8080' -T fields -e tcp.options.mss_val 2>/dev/null | tr '\n' ',')"
echo "RESULT syn_mss_v6=$(tshark -r "$work/syns.pcap" -Y 'ipv6 && tcp.dstport==8080' -T fields -e tcp.options.mss_val 2>/dev/null | tr '\n' ',')"
sleep 1.5  # the state is published once a second
echo "RESULT entries=$(learning "' '.join(sorted('%s/%d/%d' % (e['host'], e['mtu'], e['mss']) for e in j['entries']))" | tr ' ' ',')"
echo "RESULT clamped_by_learning=$(learning "c['pmtu-clamped']")"
grep -q "learn-pmtu: path MTU 1400 toward 192.0.2.1 learned" "$work/learn.log" && l4=1 || l4=0
grep -q "learn-pmtu: path MTU 1400 toward 2001:db8:1::1 learned" "$work/learn.log" && l6=1 || l6=0
echo "RESULT log_learned_v4=$l4 log_learned_v6=$l6"
ip netns exec "$id-r" "$LAB_BIN" status --state-dir "$work/state" >"$work/status.txt" 2>&1
grep -q "192.0.2.1: path MTU 1400 -> MSS 1360, expires in" "$work/status.txt" && st=1 || st=0
echo "RESULT status_text_lists=$st"
ip netns exec "$id-r" iptables-nft -t mangle -S FORWARD | grep -c "mssclamp learn-pmtu" | sed 's/^/RESULT signal_jump_v4=/'
ip netns exec "$id-r" ip6tables-nft -t mangle -S OUTPUT | grep -c "mssclamp learn-pmtu" | sed 's/^/RESULT signal_jump_v6_output=/'

# 3. Expiry (15 s after learning; bounded wait).
lab_wait_for "$work/learn.log" "toward 2001:db8:1::1 expired" 600 && e6=1 || e6=0
grep -q "path MTU 1400 toward 192.0.2.1 expired" "$work/learn.log" && e4=1 || e4=0
sleep 1.5
echo "RESULT expired_v4=$e4 expired_v6=$e6 entries_after_expiry=$(learning "len(j['entries'])")"

# 4. Hostile ICMP, sent from the hop (source 203.0.113.9 / 2001:db8:3::9) towards the
# server, through the router. A real SYN first, so one flow is known.
refused_before=$(learning "refused")
lab_dump_start "$id" "$work/hostile.pcap" "src host 203.0.113.9 or src host 2001:db8:3::9"
ip netns exec "$id-c" timeout 20 "$LAB_PY" - <<'EOF' >"$work/flow.txt"
import socket
# A SYN the router forwards, from a port we know, to a closed port on the server.
s = socket.socket(); s.settimeout(3); s.bind(("192.0.2.1", 47001))
try: s.connect(("198.51.100.1", 9))
except OSError: pass
print(47001)
EOF
ip netns exec "$id-h" timeout 60 "$LAB_PY" - <<'EOF' 2>&1 | grep -v WARNING
from scapy.all import IP, IPv6, ICMP, ICMPv6PacketTooBig, TCP, send, conf
conf.verb = 0
hop, server, client = "203.0.113.9", "198.51.100.1", "192.0.2.1"
def quote(mtu, sport=9, dport=47001, dst=client):
    return IP(src=hop, dst=server) / ICMP(type=3, code=4, nexthopmtu=mtu) / IP(src=server, dst=dst, flags="DF") / TCP(sport=sport, dport=dport, flags="A")
packets = [quote(200)]                                   # below the 576 floor
packets += [quote(1300, dport=51234, dst="192.0.2.77")]  # a flow never forwarded
packets += [IPv6(src="2001:db8:3::9", dst="2001:db8:2::1") / ICMPv6PacketTooBig(mtu=1200)
            / IPv6(src="2001:db8:2::1", dst="2001:db8:1::1") / TCP(sport=9, dport=47001, flags="A")]  # below 1280
packets += [quote(1300 - i) for i in range(300)]         # a flood, each lower than the last
send(packets)
EOF
sleep 1.5
lab_dump_stop
echo "RESULT hostile_delivered=$(tcpdump -r "$work/hostile.pcap" -n 2>/dev/null | wc -l)"
echo "RESULT hostile_refused=$(( $(learning "refused") - refused_before ))"
echo "RESULT below_floor=$(learning "c.get('pmtu-refused/below-floor', 0)") unrelated=$(learning "c.get('pmtu-refused/unrelated-flow', 0)") rate_limited=$(learning "c.get('pmtu-refused/rate-limited', 0)")"
echo "RESULT client_entry_mtu=$(learning "min([e['mtu'] for e in j['entries'] if e['host'] == '192.0.2.1'] or [0])")"
metrics=$(ip netns exec "$id-r" curl -s --max-time 5 http://127.0.0.1:9109/metrics)
echo "RESULT metric_entries=$(echo "$metrics" | grep -c '^mssclamp_pmtu_entries ') metric_rate_limited=$(echo "$metrics" | grep '^mssclamp_pmtu_signals_total{result="rate-limited"}' | awk '{print $2}') metric_clamped=$(echo "$metrics" | grep '^mssclamp_pmtu_clamped_total' | awk '{print $2}')"
grep -q "ICMP signal(s) refused" "$work/learn.log" && echo "RESULT log_refused=1" || echo "RESULT log_refused=0"
# Still clamping after the flood: a download completes (the entry is at or above the floor).
echo "RESULT after_flood_v4=$(complete "$(download 198.51.100.1)")"

# 5. Stop: rules gone, firewall as found.
lab_worker_stop >/dev/null; echo "RESULT stop_status=$?"
[ "$(saved_rules)" = "$before" ] && echo "RESULT restored=1" || echo "RESULT restored=0"
exit 0

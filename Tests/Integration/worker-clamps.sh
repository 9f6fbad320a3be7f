#!/usr/bin/env bash
# Real TCP connections and crafted SYNs through `mssclamp run` on the router; the MSS is read
# on the far side with tcpdump + tshark. Prints RESULT lines for the Swift test to check.
set -u
. "$(dirname "$0")/../../scripts/lab.sh"
lab_begin mscw || exit 1

# 1. The default policy on the WAN side: real connections (Linux announces 1460 / 1440) and a
#    range gate (1300 and 9000 untouched, 1460 clamped), IPv4 (1360) and IPv6 (1340).
lab_worker_start "$id" "$work/w1.log" -o eth0 || exit 1
lab_dump_start "$id" "$work/syn.pcap" "tcp dst port 9" || exit 1
lab_connect "$id" 198.51.100.1 9
lab_connect "$id" 2001:db8:2::1 9
lab_send_syns "$id" 198.51.100.1 41000 1300 9000 1460 1361 1536 1537
lab_send_syns "$id" 2001:db8:2::1 42000 1300 9000 1460 none
lab_dump_stop
lab_worker_stop; stop1=$?
# Real connections use ephemeral ports (a retransmitted SYN may repeat one); crafted SYNs
# use 41000-41099 (IPv4) and 42000-42099 (IPv6), one each.
all=$(lab_syn_port_mss "$work/syn.pcap")
crafted() { awk -F: -v low="$1" '$1 >= low && $1 < low + 100'; }
real=$(echo "$all" | awk -F: '!($1 >= 41000 && $1 < 41100) && !($1 >= 42000 && $1 < 42100) { print $2 }' | sort -u | paste -sd, -)
crafted4=$(echo "$all" | crafted 41000 | sort -u | paste -sd, -)
crafted6=$(echo "$all" | crafted 42000 | sort -u | paste -sd, -)
echo "RESULT real_mss=$real crafted4=$crafted4 crafted6=$crafted6 stop=$stop1"
echo "RESULT counters1=$(sed -n 's/.*\] stopped: //p' "$work/w1.log" | tr ' ' ',')"

# 2. Both directions (no -o): the server's SYN-ACK is clamped on its way back to the client.
lab_worker_start "$id" "$work/w2.log" || exit 1
lab_dump_start "$id" "$work/synack.pcap" "tcp src port 8080" c c0 || exit 1
ip netns exec "$id-s" timeout 10 "$LAB_PY" -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8080)); s.listen(1); s.settimeout(8); c, _ = s.accept(); c.close()' &
server=$!
sleep 0.3
lab_connect "$id" 198.51.100.1 8080
wait "$server"
lab_dump_stop
lab_worker_stop; stop2=$?
echo "RESULT synack_mss=$(lab_syn_mss "$work/synack.pcap" ack | paste -sd, -) stop2=$stop2"
echo "RESULT rules_left=$(ip netns exec "$id-r" iptables-save -t mangle | grep -c mssclamp)"

# 3. Two queues (--queue-balance), Prometheus metrics on the router's loopback, debug samples.
lab_worker_start "$id" "$work/w3.log" -o eth0 --queues 0-1 --metrics 127.0.0.1:9815 --log-level debug || exit 1
balance=$(ip netns exec "$id-r" iptables -t mangle -S MSSCLAMP | grep -o -- '--queue-balance [0-9:]*' | tr ' ' '_')
lab_dump_start "$id" "$work/multi.pcap" "tcp dst port 9" || exit 1
lab_send_syns "$id" 198.51.100.1 41100 1460 1460 1460 1460 1460 1460 1460 1460
lab_dump_stop
sleep 1.5
scrape() {
    ip netns exec "$id-r" timeout 5 "$LAB_PY" -c '
import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9815/metrics", timeout=3).read().decode())'
}
scrape >"$work/metrics.txt"
clamped=$(awk '/^mssclamp_packets_total\{action="clamped",reason=""\}/ { print $2 }' "$work/metrics.txt")
rule=$(grep -c '^mssclamp_rule_decisions_total{rule="1",match="-o eth0' "$work/metrics.txt")
kernel_queues=$(grep -c '^mssclamp_kernel_queue_waiting_packets{queue="[01]"}' "$work/metrics.txt")
notfound=$(ip netns exec "$id-r" timeout 5 "$LAB_PY" -c '
import urllib.request, urllib.error
try: urllib.request.urlopen("http://127.0.0.1:9815/other", timeout=3)
except urllib.error.HTTPError as e: print(e.code)')
lab_worker_stop; stop3=$?
debug=$(grep -c 'debug mssclamp: .*IP 192.0.2.1.411[0-9][0-9] > 198.51.100.1.9: Flags \[S\], mss 1460 -> 1360, clamped (rule 1)' "$work/w3.log")
echo "RESULT multi_mss=$(lab_syn_mss "$work/multi.pcap" | sort -u | paste -sd, -) multi_count=$(lab_syn_mss "$work/multi.pcap" | wc -l) balance=$balance metrics_clamped=$clamped metrics_rule=$rule metrics_404=$notfound kernel_queues=$kernel_queues debug_lines=$debug stop3=$stop3"

# 4. Interface names follow link changes: the kernel queues every SYN (rules of our own), the
#    policy wants -o wan0, and the router's eth0 is renamed wan0 while the worker runs.
ip netns exec "$id-r" iptables -w -t mangle -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0 --queue-bypass
lab_worker_start "$id" "$work/w4.log" -o wan0 --no-install-rules || exit 1
lab_dump_start "$id" "$work/rename1.pcap" "tcp dst port 9" || exit 1
lab_send_syns "$id" 198.51.100.1 41200 1460
lab_dump_stop
ip -n "$id-r" link set eth0 down
ip -n "$id-r" link set eth0 name wan0
ip -n "$id-r" link set wan0 up
sleep 1
lab_dump_start "$id" "$work/rename2.pcap" "tcp dst port 9" || exit 1
lab_send_syns "$id" 198.51.100.1 41201 1460
lab_dump_stop
lab_worker_stop; stop4=$?
echo "RESULT before_rename=$(lab_syn_mss "$work/rename1.pcap" | paste -sd, -) after_rename=$(lab_syn_mss "$work/rename2.pcap" | paste -sd, -) stop4=$stop4"

# 5. ipsec: rules through the IPsec class queues. This kernel has no ESP, so every SYN is
#    plain: the rule asking for "came out of IPsec" must never match, the one asking for
#    "neither" must, and each rule's lines queue to their class's block (2 queues a block).
# Taking wan0 down for the rename (4.) flushed its IPv6 address (keep_addr_on_down is 0).
ip -n "$id-r" addr add 2001:db8:2::fe/64 dev wan0 nodad
cat >"$work/ipsec.yaml" <<'YAML'
rules:
  - name: from-ipsec
    ipsec: in
    set-mss: 1300
  - name: plain
    ipsec: none
    set-mss: 1340
YAML
lab_worker_start "$id" "$work/w5.log" --config "$work/ipsec.yaml" --queues 0-1 || exit 1
bound=$(ip netns exec "$id-r" awk '{print $1}' /proc/net/netfilter/nfnetlink_queue | sort -n | paste -sd, -)
blocks=$(ip netns exec "$id-r" iptables -t mangle -S MSSCLAMP | sed -n 's/.*--pol \([a-z]*\) -m policy --dir out --pol \([a-z]*\).*"mssclamp rule \([0-9]\).*--queue-balance \([0-9:]*\).*/\3:\1\/\2@\4/p' | paste -sd, -)
lab_dump_start "$id" "$work/ipsec.pcap" "tcp dst port 9" || exit 1
lab_connect "$id" 198.51.100.1 9
lab_connect "$id" 2001:db8:2::1 9
lab_send_syns "$id" 198.51.100.1 41300 1460 1320
lab_dump_stop
lab_worker_stop; stop5=$?
echo "RESULT ipsec_bound=$bound ipsec_blocks=$blocks ipsec_mss=$(lab_syn_mss "$work/ipsec.pcap" | sort -u | paste -sd, -) ipsec_syns=$(lab_syn_mss "$work/ipsec.pcap" | wc -l) stop5=$stop5"
echo "RESULT ipsec_counters=$(sed -n 's/.*\] stopped: //p' "$work/w5.log" | tr ' ' ',')"

# 6. clamp-to-interface follows a link: the router's tun7 (one end of a veth pair: made, changed, taken down,
#    deleted and made again while the worker runs). Crafted SYNs (MSS 1460) go out right after
#    each change; each must carry the MSS of the MTU tun7 has then (1460 while it is absent or
#    down: left unchanged). A SYN carrying an earlier MTU's value is stale.
R() { ip netns exec "$id-r" "$@"; }
R ip link del tun7 2>/dev/null
lab_worker_start "$id" "$work/w6.log" --clamp-to-interface tun7 --metrics 127.0.0.1:9816 --state-dir "$work/state6" || exit 1
lab_connect "$id" 198.51.100.1 9; lab_connect "$id" 2001:db8:2::1 9  # neighbours known
lab_dump_start "$id" "$work/follow.pcap" "tcp dst port 9" || exit 1
step() {  # PORT4 PORT6: three IPv4 SYNs and one IPv6 SYN, then time for the monitor's log
    lab_send_syns "$id" 198.51.100.1 "$1" 1460 1460 1460
    lab_send_syns "$id" 2001:db8:2::1 "$2" 1460
    sleep 1.2
}
step 43000 44000                                                     # absent
R ip link add tun7 type veth peer name tun7p; R ip link set tun7 mtu 1400 up
step 43010 44010                                                     # 1400
R ip link set tun7 mtu 1280
step 43020 44020                                                     # 1280
R ip link set tun7 down
step 43030 44030                                                     # down
R ip link del tun7; R ip link add tun7 mtu 1420 type veth peer name tun7p; R ip link set tun7 up
step 43040 44040                                                     # recreated, 1420
sleep 1.5
lab_dump_stop
metric_mtu=$(ip netns exec "$id-r" timeout 5 "$LAB_PY" -c '
import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9816/metrics", timeout=3).read().decode())' |
    awk '/^mssclamp_interface_mtu\{interface="tun7"\}/ { print $2 + 0 }')
R "$LAB_BIN" status --state-dir "$work/state6" >"$work/status6.out" 2>&1
lab_worker_stop; stop6=$?
R ip link del tun7 2>/dev/null
follow=$(lab_syn_port_mss "$work/follow.pcap" | sort -u | awk -F: '$1 >= 43000 && $1 < 44050')
expect() {  # LOW-PORT MSS: the SYNs from LOW-PORT.. (this step's) that do not carry MSS
    echo "$follow" | awk -F: -v low="$1" -v want="$2" '$1 >= low && $1 < low + 10 && $2 != want' | wc -l
}
seen=$(echo "$follow" | wc -l)
stale=$(( $(expect 43000 1460) + $(expect 44000 1460) + $(expect 43010 1360) + $(expect 44010 1340) + $(expect 43020 1240) \
    + $(expect 44020 1220) + $(expect 43030 1460) + $(expect 44030 1460) + $(expect 43040 1380) + $(expect 44040 1360) ))
echo "RESULT follow_seen=$seen follow_stale=$stale follow_metric_mtu=$metric_mtu stop6=$stop6"
echo "RESULT follow_log_1400=$(grep -c 'clamp-to-interface tun7: MTU 1400, MSS 1360 (IPv4) / 1340 (IPv6)' "$work/w6.log") follow_log_absent=$(grep -c 'clamp-to-interface tun7: absent or down' "$work/w6.log") follow_status=$(grep -c 'followed *tun7: MTU 1420, MSS 1380 (IPv4) / 1360 (IPv6)' "$work/status6.out")"
echo "$follow" | paste -sd' ' - | sed 's/^/follow: /' >&2
echo "follow counters: $(sed -n "s/.*\] stopped: //p" "$work/w6.log")" >&2

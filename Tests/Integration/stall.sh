#!/bin/bash
# `mssclamp run --learn-stalls`: black holes with no ICMP at all, in the four-namespace lab:
#
#   client c0 192.0.2.1 2001:db8:1::1 -- h0 (MTU 1400) hop h1 203.0.113.1 2001:db8:3::1
#     -- r1 203.0.113.254 2001:db8:3::fe  router  r2 198.51.100.254 2001:db8:2::fe -- s0 server
#
# The client sees 1500 and announces MSS 1460; the hop's link toward it carries 1400, and
# the hop sends no frag-needed / packet-too-big at all: nothing reaches the router or the
# server. The router's own links are 1500, so its policy (--clamp-mss-to-pmtu) clamps
# nothing, and no MTU is given to mssclamp anywhere. The servers are Linux with
# tcp_mtu_probing off (their own black-hole detection off).
#
#   1  the first download stalls; the worker judges the flow stalled (log: the flow, the
#      size, the time from the first large segment) and learns 1400 for the client
#   2  the second download completes, its SYN carrying 1360 (IPv4) / 1340 (IPv6)
#      (the stalled flow is also captured on the router, and `dry-run` over the capture
#      finds it and says what would have been learned)
#   3  the learned entries are kept (the state file) and taken up again by a new worker:
#      its first download completes
#   3b the hop at 1300: each stalled download steps down, 1400, 1360, 1280, then one completes
#   3c the raise timer (--stall-raise-after 20): 1360 tried again, stalls, back to 1280 with
#      the next raise twice as far off, then a download completes
#   4  control: the hop at 1500 (no black hole) and 5% random loss both ways: many
#      downloads, nothing learned
#   5  the rules go with the worker: the firewall is as found
#
# Prints RESULT key=value lines. Documentation addresses only; every loop bounded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"

id="msst$$"
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
# The hop says nothing: no frag-needed, no packet-too-big, to anyone.
ip netns exec "$id-h" iptables -w -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
ip netns exec "$id-h" ip6tables -w -A OUTPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
ip netns exec "$id-s" sysctl -qw net.ipv4.tcp_mtu_probing=0
ip netns exec "$id-c" ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1
ip netns exec "$id-c" ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null 2>&1

lab_mb_server "$id"
server_pid=$LAB_SERVER_PID
download() { lab_fetch "$id" "$@"; }  # ADDRESS [SECONDS]
complete() { [ "$1" = 1048576 ] && echo 1 || echo 0; }
saved_rules() { { ip netns exec "$id-r" iptables-save; ip netns exec "$id-r" ip6tables-save; } | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
before=$(saved_rules)
start_worker() {  # LOG [ARGS...]
    local log=$1
    shift
    lab_worker_start "$id" "$log" --backend iptables-nft --clamp-mss-to-pmtu --state-dir "$work/state" --learn-stalls "$@"
}

# 1-2. A stalled download, the stall judged, the next one complete.
lab_dump_start "$id" "$work/syns.pcap" "(tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0) or (ip6[53] & 2 != 0 and ip6[53] & 16 == 0)"
start_worker "$work/learn.log" --metrics 127.0.0.1:9111 || exit 1
for family in v4 v6; do
    [ $family = v4 ] && address=198.51.100.1 client=192.0.2.1 || { address=2001:db8:2::1; client=2001:db8:1::1; }
    # The watch itself is the background job (no wrapper between): SIGTERM reaches it.
    [ $family = v4 ] && { ip netns exec "$id-r" "$LAB_BIN" watch -i r2 --learn-stalls --seconds 40 --state-dir "$work/state" >"$work/watch.out" 2>"$work/watch.err" & watcher=$!; lab_wait_for "$work/watch.err" "watching r2" 100; }
    [ $family = v4 ] && { ip netns exec "$id-r" tcpdump -i r2 -s 128 --immediate-mode -U -n -w "$work/stall.pcap" "tcp port 8080" 2>"$work/stall.pcap.log" & capture=$!; lab_wait_for "$work/stall.pcap.log" "listening on" 100; }
    first=$(download $address)
    [ $family = v4 ] && { sleep 0.3; lab_stop $capture; }
    [ $family = v4 ] && { lab_wait_for "$work/watch.out" "stalled, a 1500-byte segment" 50; lab_stop $watcher; }
    lab_wait_for "$work/learn.log" "learn-stalls: flow $client\\." 100 && judged=1 || judged=0
    second=$(download $address)
    line=$(grep "learn-stalls: flow $client\\." "$work/learn.log" | head -1)
    seconds=$(echo "$line" | sed -n 's/.* sent [0-9]* times in \([0-9.]*\) s .*/\1/p')
    size=$(echo "$line" | sed -n 's/.*: a \([0-9]*\)-byte segment .*/\1/p')
    mss=$(echo "$line" | sed -n 's/.* clamped to MSS \([0-9]*\) (path MTU \([0-9]*\)).*/\1\/\2/p')
    echo "RESULT ${family}_first=$first ${family}_judged=$judged ${family}_detect_seconds=$seconds ${family}_size=$size ${family}_learned=$mss ${family}_second=$(complete "$second")"
done
lab_dump_stop
"$LAB_BIN" dry-run -q "$work/stall.pcap" >"$work/dry.txt" 2>&1
dry_flows=$(grep -c "^1 flow(s) stalled" "$work/dry.txt")
dry_size=$(grep -c "192.0.2.1.[0-9]* < 198.51.100.1.8080: a 1500-byte segment sent [0-9]* times in" "$work/dry.txt")
dry_learn=$(grep -c "192.0.2.1: path MTU 1400 -> MSS 1360 (stalled at 1500)" "$work/dry.txt")
echo "RESULT dry_flows=$dry_flows dry_stall=$dry_size dry_would_learn=$dry_learn"
watch_stall=$(grep -c "IP 198.51.100.1.8080 > 192.0.2.1.[0-9]*: stalled, a 1500-byte segment sent 3 times in [0-9.]* s, nothing newer; --learn-stalls would clamp SYNs from 192.0.2.1 to MSS 1360 (path MTU 1400)" "$work/watch.out")
echo "RESULT watch_stall=$watch_stall"
sleep 1.5  # the state is published once a second
ip netns exec "$id-r" "$LAB_BIN" status --state-dir "$work/state" >"$work/status.txt" 2>&1
st_count=$(grep -c "2 destination(s) learned from stalled flows (no ICMP); 2 flow(s) judged stalled" "$work/status.txt")
st_v4=$(grep -c "192.0.2.1: path MTU 1400 -> MSS 1360 (stalled at 1500, searching)" "$work/status.txt")
st_v6=$(grep -c "2001:db8:1::1: path MTU 1400 -> MSS 1340 (stalled at 1500, searching)" "$work/status.txt")
metrics=$(ip netns exec "$id-r" curl -s --max-time 5 http://127.0.0.1:9111/metrics)
m_dest=$(echo "$metrics" | sed -n 's/^mssclamp_stall_destinations \([0-9]*\).*/\1/p')
m_flows=$(echo "$metrics" | sed -n 's/^mssclamp_stalled_flows_total \([0-9]*\).*/\1/p')
ip netns exec "$id-r" "$LAB_BIN" doctor --state-dir "$work/state" >"$work/doctor.txt" 2>&1
doc_v4=$(grep -c "^info \[stalled-flows\] flows toward 192.0.2.1 stalled at 1500 bytes with no ICMP" "$work/doctor.txt")
doc_fix=$(grep -c "fix: .*iptables -t mangle -A FORWARD -s 192.0.2.1 -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:65535 -j TCPMSS --set-mss 1360" "$work/doctor.txt")
echo "RESULT doctor_stall=$doc_v4 doctor_fix=$doc_fix"
echo "RESULT status_stalls=$st_count status_v4=$st_v4 status_v6=$st_v6 metric_destinations=$m_dest metric_stalled_flows=$m_flows"
echo "RESULT syn_mss_v4=$(tshark -r "$work/syns.pcap" -Y 'ip && tcp.dstport==8080' -T fields -e tcp.options.mss_val 2>/dev/null | tr '\n' ',')"
echo "RESULT syn_mss_v6=$(tshark -r "$work/syns.pcap" -Y 'ipv6 && tcp.dstport==8080' -T fields -e tcp.options.mss_val 2>/dev/null | tr '\n' ',')"
echo "RESULT stall_jump_v4=$(ip netns exec "$id-r" iptables-nft -t mangle -S FORWARD | grep -c 'mssclamp stall-watch') stall_jump_v6=$(ip netns exec "$id-r" ip6tables-nft -t mangle -S FORWARD | grep -c 'mssclamp stall-watch')"
lab_worker_stop >/dev/null

# 3. Kept across a restart.
kept=$(grep -v '^#' "$work/state/learned-stalls.tsv" 2>/dev/null | cut -f1,2 | tr '\t' '/' | sort | tr '\n' ',')
start_worker "$work/again.log" || exit 1
grep -q "learn-stalls: 2 path MTU(s) learned from stalled flows before this start" "$work/again.log" && said=1 || said=0
echo "RESULT kept=$kept kept_said=$said after_restart_v4=$(complete "$(download 198.51.100.1)") after_restart_v6=$(complete "$(download 2001:db8:2::1)")"
lab_worker_stop >/dev/null

# 3b. A narrower hole, the hop at 1300: a flow clamped by the step that still stalls steps
#     further down (1400, 1360, 1280), one stalled download per step, then one completes.
#     (The raise timer at 20 s here: each stall restarts it, so no raise comes mid-ladder.)
rm -rf "$work/state"
ip -n "$id-h" link set h0 mtu 1300
start_worker "$work/steps.log" --stall-raise-after 20 || exit 1
for family in v4 v6; do
    [ $family = v4 ] && address=198.51.100.1 client=192.0.2.1 || { address=2001:db8:2::1; client=2001:db8:1::1; }
    got=""
    for n in 1 2 3 4 5; do
        judged=$(grep -c "learn-stalls: flow $client\\." "$work/steps.log")
        bytes=$(download $address 5)
        got="$got$(complete "$bytes")"
        [ "$bytes" = 1048576 ] && break
        # The stall is judged within about a second of the first large segment; bounded.
        for i in $(seq 30); do [ "$(grep -c "learn-stalls: flow $client\\." "$work/steps.log")" -gt "$judged" ] && break; sleep 0.1; done
    done
    mtus=$(grep "learn-stalls: flow $client\\." "$work/steps.log" | sed -n 's/.*(path MTU \([0-9]*\)).*/\1/p' | paste -sd, -)
    echo "RESULT steps_${family}=$got steps_${family}_mtus=$mtus"
done
# 3c. The raise timer: 20 s after its last stall each client's step above (1360) is tried
#     again; the hole is still 1300, so the next download stalls there and steps back down
#     (1280), the next raise waits twice as long (40 s), and the download after completes.
for family in v4 v6; do
    [ $family = v4 ] && address=198.51.100.1 client=192.0.2.1 || { address=2001:db8:2::1; client=2001:db8:1::1; }
    raised=0
    for i in $(seq 300); do grep -q "learn-stalls: trying path MTU 1360 toward $client again (was 1280 for 20 s)" "$work/steps.log" && { raised=1; break; }; sleep 0.1; done
    got=$(complete "$(download $address 5)")
    back=0
    for i in $(seq 30); do grep -q "learn-stalls: flow $client\..* stalled at path MTU 1360: .* (path MTU 1280)" "$work/steps.log" && { back=1; break; }; sleep 0.1; done
    got="$got$(complete "$(download $address 5)")"
    interval=
    for i in $(seq 30); do
        interval=$(awk -v h=$client '$1 == h { print $9 }' "$work/state/learned-stalls.tsv" 2>/dev/null)
        [ "$interval" = 40.0 ] && break; sleep 0.1
    done
    echo "RESULT raise_${family}=$raised raise_${family}_downloads=$got raise_${family}_back=$back raise_${family}_interval=$interval"
done
lab_worker_stop >/dev/null

# 4. Control: no black hole, 5% loss both ways on the hop; nothing may be learned.
rm -rf "$work/state"
ip -n "$id-h" link set h0 mtu 1500
for tool in iptables ip6tables; do ip netns exec "$id-h" $tool -w -A FORWARD -m statistic --mode random --probability 0.05 -j DROP; done
start_worker "$work/lossy.log" || exit 1
complete_lossy=0
for n in $(seq 8); do
    [ "$(download 198.51.100.1 8)" = 1048576 ] && complete_lossy=$((complete_lossy + 1))
    [ "$(download 2001:db8:2::1 8)" = 1048576 ] && complete_lossy=$((complete_lossy + 1))
done
sleep 1.5
lossy_stalls=$(grep "learn-stalls: flow" "$work/lossy.log" | grep -vc "looked stalled")
dropped=$(ip netns exec "$id-h" iptables -w -L FORWARD -v -x -n | awk '/statistic/ { print $1 }')
echo "RESULT lossy_downloads=16 lossy_complete=$complete_lossy lossy_dropped_v4=$dropped lossy_stalls=$lossy_stalls lossy_learned=$(grep -vc '^#' "$work/state/learned-stalls.tsv" 2>/dev/null || echo 0)"
lab_worker_stop >/dev/null

# 5. The firewall as found.
[ "$(saved_rules)" = "$before" ] && restored=1 || restored=0
echo "RESULT restored=$restored"

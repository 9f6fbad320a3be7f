#!/usr/bin/env bash
# make bench: mssclamp's worker against the kernel's TCPMSS rule doing the same job, in the
# same namespace lab and the same run, reported as ratios.
#
#  1. handshake latency: sequential TCP connects through the router (median, p99);
#  2. SYN burst: crafted SYNs as fast as one sender can go; how many arrive clamped at the
#     server, how fast, and the worker's CPU time and memory.
# Bounded: fixed counts, every step under a timeout. Documentation addresses only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
CONNECTS=${CONNECTS:-2000}
BURST=${BURST:-100000}
lab_begin mscb || exit 1
policy=(-o eth0)
in_router() { ip netns exec "$id-r" "$@"; }
ip netns exec "$id-s" iptables -A INPUT -p tcp --dport 9 --syn -m tcpmss --mss 1360 -j DROP
ip netns exec "$id-s" iptables -A INPUT -p tcp --dport 9 --syn -j DROP
counts() {  # clamped total, at the server
    ip netns exec "$id-s" iptables -L INPUT -v -x -n | awk '/dpt:9/ { c[++n] = $1 } END { print c[1], c[1] + c[2] }'
}

latency() {  # label: CONNECTS sequential connects; prints "median p99" in microseconds
    ip netns exec "$id-s" timeout 120 "$LAB_PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8080)); s.listen(4096); s.settimeout(3)
# The client resets each connection (linger 0); one reset before accept() leaves the queue
# shorter, so stop on a quiet listener rather than on a count.
for _ in range(int(sys.argv[1])):
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.close()' "$CONNECTS" &
    local server=$!
    sleep 0.3
    ip netns exec "$id-c" timeout 120 "$LAB_PY" -c '
import socket, sys, time
times = []
for _ in range(int(sys.argv[1])):
    c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    start = time.perf_counter(); c.connect(("198.51.100.1", 8080)); times.append(time.perf_counter() - start); c.close()
times.sort()
print(int(times[len(times) // 2] * 1e6), int(times[int(len(times) * 0.99)] * 1e6))' "$CONNECTS"
    wait "$server"
}

burst() {  # sends BURST SYNs (MSS 1460) from distinct ports; prints "seconds clamped total"
    ip netns exec "$id-s" iptables -Z INPUT
    lab_burst "$id" "$BURST" &
    local sender=$! start now last=-1 stable=0
    start=$(date +%s.%N)
    # Done when the server count stops moving for 0.5 s (bounded to 60 s).
    for _ in $(seq 600); do
        sleep 0.1
        now=$(counts | awk '{ print $2 }')
        if [ "$now" = "$last" ] && ! kill -0 "$sender" 2>/dev/null; then stable=$((stable + 1)); [ $stable -ge 5 ] && break; else stable=0; fi
        last=$now
    done
    wait "$sender"
    local end; end=$(date +%s.%N)
    echo "$(echo "$end - $start - 0.5" | bc) $(counts)"
}

echo "mssclamp bench: $CONNECTS sequential connects, then a burst of $BURST SYNs, kernel TCPMSS vs worker"
in_router iptables -t mangle -A FORWARD -o eth0 -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -j TCPMSS --set-mss 1360
read -r k_median k_p99 <<<"$(latency)"
read -r k_secs k_clamped k_total <<<"$(burst)"
in_router iptables -t mangle -F FORWARD

lab_worker_start "$id" "$work/w.log" "${policy[@]}" || exit 1
read -r w_median w_p99 <<<"$(latency)"
read -r w_secs w_clamped w_total <<<"$(burst)"
cpu=$(awk '{ print ($14 + $15) / 100 }' "/proc/$(pgrep -n -f 'mssclamp run')/stat" 2>/dev/null)
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$(pgrep -n -f 'mssclamp run')/status" 2>/dev/null)
lab_worker_stop
overruns=$(sed -n 's/.*\] stopped: .*overruns=\([0-9]*\).*/\1/p' "$work/w.log")

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '\n%-34s %12s %12s %8s\n' "" kernel worker ratio
printf '%-34s %12s %12s %8s\n' "connect latency, median (us)" "$k_median" "$w_median" "$(ratio "$w_median" "$k_median")"
printf '%-34s %12s %12s %8s\n' "connect latency, p99 (us)" "$k_p99" "$w_p99" "$(ratio "$w_p99" "$k_p99")"
k_rate=$(echo "$k_total / $k_secs" | bc); w_rate=$(echo "$w_total / $w_secs" | bc)
printf '%-34s %12s %12s %8s\n' "burst: SYNs/s arriving" "$k_rate" "$w_rate" "$(ratio "$w_rate" "$k_rate")"
printf '%-34s %12s %12s\n' "burst: arrived / clamped" "$k_total/$k_clamped" "$w_total/$w_clamped"
echo
echo "worker: ${cpu}s CPU for $((CONNECTS + BURST)) SYNs, peak RSS ${rss} KiB, queue overruns ${overruns:-?}"
echo "RESULT k_median=$k_median w_median=$w_median k_rate=$k_rate w_rate=$w_rate k_clamped=$k_clamped w_clamped=$w_clamped w_total=$w_total cpu=$cpu rss_kib=$rss"

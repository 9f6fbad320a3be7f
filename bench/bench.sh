#!/usr/bin/env bash
# make bench: every contender in one run, in the namespace lab (client — router — server):
#
#   none       no rule (the forwarding path alone)
#   kernel     iptables TCPMSS, range 1361:1536 -> 1360
#   c          bench/c-consumer.c: a plain libnetfilter_queue consumer, one verdict per packet
#   cpin       the same, its process pinned to CPU 1 (taskset)
#   mssclamp   mssclamp run -o eth0 (one queue)
#   mpin       the same, its queue thread pinned to CPU 1 (--cpus 1)
#   mssclamp2  mssclamp run -o eth0 --queues 0-1
#   mct        mssclamp run -o eth0 on a router that tracks connections (a stateful FORWARD
#              rule, as on most gateways): the baseline of the next one
#   mstall     mssclamp run -o eth0 --learn-stalls (the stall watch's rule on every forwarded
#              TCP packet, its copies of each flow's first packets; every SYN queued; it needs
#              conntrack, so its cost is read against mct)
#
# For each: an offered-load sweep with trafgen (pinned to CPU 0) at RATES SYN/s plus "max"
# (as fast as trafgen goes), each point SECONDS long, REPEATS times; at the server, iptables
# counters with -m tcpmss say how many SYNs arrived and how many carry 1360. Lost = sent -
# arrived; unclamped = arrived - clamped; seconds run from the first SYN sent to the last
# one counted. The consumer's CPU time per SYN it handled (utime + stime of its process
# over the point, divided by the SYNs it clamped), the user-space part of it, and its peak
# RSS (VmHWM). First, before any flood (whose leftovers, conntrack entries among them, would
# weigh on it): forwarding throughput, one TCP transfer of THROUGHPUT_MB from the server to
# the client through the router (python, recv_into), Mbit/s: what the stall watch costs the
# data path. Then the sweep, then connect latency: CONNECTS sequential connects client ->
# server (python, time of connect()), median and p99.
# Writes bench/results/*.tsv; bench/report.py turns them into BENCHMARKS.md and plots.
# Bounded: fixed counts, every step under a timeout. Documentation addresses only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/lab.sh"
RATES=${RATES:-"25000 50000 100000 150000 200000 max"}
SECONDS_PER_POINT=${SECONDS_PER_POINT:-2}
REPEATS=${REPEATS:-3}
CONNECTS=${CONNECTS:-2000}
CONTENDERS=${CONTENDERS:-"none kernel c cpin mssclamp mpin mssclamp2 mct mstall"}
THROUGHPUT_MB=${THROUGHPUT_MB:-1000}
MAX_PACKETS=${MAX_PACKETS:-2000000}
# Extra arguments for every mssclamp contender (to try a lever: --queue-maxlen 16384 ...).
read -r -a WORKER_ARGS <<<"${BENCH_WORKER_ARGS:-}"
C_BIN=${C_BIN:-$root/.build/bench/c-consumer}
out=${BENCH_OUT:-$root/bench/results}
mkdir -p "$out"

lab_begin mscb || exit 1
in_r() { ip netns exec "$id-r" "$@"; }
in_s() { ip netns exec "$id-s" "$@"; }
in_s iptables -A INPUT -p tcp --dport 9 --syn -m tcpmss --mss 1360 -j DROP
in_s iptables -A INPUT -p tcp --dport 9 --syn -j DROP
counts() {  # "clamped total" at the server
    in_s iptables -L INPUT -v -x -n | awk '/dpt:9/ { c[++n] = $1 } END { print c[1] + 0, c[1] + c[2] }'
}
dst=$(ip -n "$id-r" link show vpn0 | awk '/ether/ { print $2 }' | sed 's/^/0x/; s/:/, 0x/g')
src=$(ip -n "$id-c" link show c0 | awk '/ether/ { print $2 }' | sed 's/^/0x/; s/:/, 0x/g')
sed "s/DSTMAC/$dst/; s/SRCMAC/$src/" "$here/syn.trafgen" >"$work/syn.cfg"

consumer_pid=""
start() {  # contender
    case $1 in
    none) ;;
    kernel) in_r iptables -t mangle -A FORWARD -o eth0 -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -j TCPMSS --set-mss 1360 ;;
    c|cpin)
        in_r iptables -t mangle -A FORWARD -o eth0 -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1361:1536 -j NFQUEUE --queue-num 0 --queue-bypass
        local pin=(); [ "$1" = cpin ] && pin=(taskset -c 1)
        ip netns exec "$id-r" "${pin[@]}" "$C_BIN" 0 >"$work/c.out" 2>"$work/c.log" &  # not via a function: $! must be the consumer
        consumer_pid=$!
        lab_wait_for "$work/c.log" ready 50 ;;
    mssclamp)
        lab_worker_start "$id" "$work/w.log" -o eth0 "${WORKER_ARGS[@]}" --state-dir "$work/state" && consumer_pid=$LAB_WORKER_PID ;;
    mpin)
        lab_worker_start "$id" "$work/w.log" -o eth0 --cpus 1 "${WORKER_ARGS[@]}" --state-dir "$work/state" && consumer_pid=$LAB_WORKER_PID ;;
    mssclamp2)
        lab_worker_start "$id" "$work/w.log" -o eth0 --queues 0-1 "${WORKER_ARGS[@]}" --state-dir "$work/state" && consumer_pid=$LAB_WORKER_PID ;;
    mct)
        in_r iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
        lab_worker_start "$id" "$work/w.log" -o eth0 "${WORKER_ARGS[@]}" --state-dir "$work/state" && consumer_pid=$LAB_WORKER_PID ;;
    mstall)
        rm -rf "$work/state"
        lab_worker_start "$id" "$work/w.log" -o eth0 --learn-stalls "${WORKER_ARGS[@]}" --state-dir "$work/state" && consumer_pid=$LAB_WORKER_PID ;;
    esac
}
stop() {  # contender
    case $1 in
    kernel) in_r iptables -t mangle -F FORWARD ;;
    c|cpin) kill -TERM "$consumer_pid"; wait "$consumer_pid" 2>/dev/null; in_r iptables -t mangle -F FORWARD ;;
    mssclamp|mpin|mssclamp2|mstall) lab_worker_stop >/dev/null ;;
    mct) lab_worker_stop >/dev/null; in_r iptables -F FORWARD ;;
    esac
    consumer_pid=""
}
cpu_ticks() { [ -n "$consumer_pid" ] && awk '{ print $14, $15 }' "/proc/$consumer_pid/stat" 2>/dev/null || echo 0 0; }  # "utime stime"
peak_rss() { [ -n "$consumer_pid" ] && awk '/VmHWM/ { print $2 }' "/proc/$consumer_pid/status" 2>/dev/null || echo 0; }

point() {  # contender rate repeat: one sweep point -> a line of points.tsv
    local who=$1 rate=$2 rep=$3 n args
    if [ "$rate" = max ]; then n=$MAX_PACKETS; args=(); else n=$((rate * SECONDS_PER_POINT)); args=(-b "${rate}pps"); fi
    in_s iptables -Z INPUT
    local user0 sys0; read -r user0 sys0 < <(cpu_ticks)
    local t0; t0=$(date +%s.%N)
    ip netns exec "$id-c" timeout 120 taskset -c 0 trafgen -i "$work/syn.cfg" -o c0 --cpp -n "$n" -P 1 -Q -C "${args[@]}" >/dev/null 2>&1
    local t1; t1=$(date +%s.%N)
    local last=-1 now stable=0 tlast=$t1
    for _ in $(seq 100); do  # drain: until the server count stops moving (bounded 10 s)
        sleep 0.05; now=$(counts | awk '{ print $2 }')
        if [ "$now" = "$last" ]; then stable=$((stable + 1)); [ $stable -ge 6 ] && break; else stable=0; tlast=$(date +%s.%N); fi
        last=$now
    done
    # From the first SYN sent to the last one counted (within 50 ms plus a read).
    [ "$(echo "$tlast > $t1" | bc)" = 1 ] && t1=$tlast
    local user1 sys1; read -r user1 sys1 < <(cpu_ticks)
    read -r clamped total < <(counts)
    local hz; hz=$(getconf CLK_TCK)
    local seconds; seconds=$(echo "$t1 - $t0" | bc -l)
    # Per SYN the consumer handled: every SYN it saw is clamped here (all carry MSS 1460), and
    # the unclamped rest passed by it (fail-open), so dividing by "arrived" would flatter it.
    per_syn() { echo "$1 * 1000000 / $hz / ($clamped + 1)" | bc -l | xargs printf '%.2f'; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t%s\n' "$who" "$rate" "$rep" "$n" "$total" "$clamped" "$seconds" \
        "$(per_syn "($user1 + $sys1 - $user0 - $sys0)")" "$(peak_rss)" "$(per_syn "($user1 - $user0)")"
}

latency() {  # CONNECTS sequential connects; prints "median p99" in microseconds
    in_s timeout 120 "$LAB_PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8080)); s.listen(4096); s.settimeout(3)
for _ in range(int(sys.argv[1])):
    try: c, _ = s.accept()
    except socket.timeout: break
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

throughput() {  # one transfer of THROUGHPUT_MB server -> client; prints "mbit_s seconds"
    in_s timeout 120 "$LAB_PY" -c '
import socket, sys
total = int(sys.argv[1]) << 20
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8081)); s.listen(1); s.settimeout(10)
c, _ = s.accept()
chunk = memoryview(bytes(1 << 20))
for _ in range(total >> 20): c.sendall(chunk)
c.close()' "$THROUGHPUT_MB" &
    local server=$!
    sleep 0.3
    ip netns exec "$id-c" timeout 120 "$LAB_PY" -c '
import socket, sys, time
total = int(sys.argv[1]) << 20
c = socket.socket(); c.connect(("198.51.100.1", 8081))
buffer = bytearray(1 << 20); view = memoryview(buffer); got = 0
start = time.perf_counter()
while got < total:
    n = c.recv_into(view)
    if not n: break
    got += n
seconds = time.perf_counter() - start
print("%.0f %.3f" % (got * 8 / seconds / 1e6, seconds))' "$THROUGHPUT_MB"
    wait "$server"
}

printf 'contender\trepeat\tmbit_s\tseconds\n' >"$out/throughput.tsv"
printf 'contender\trate\trepeat\tsent\tarrived\tclamped\tseconds\tcpu_us_per_syn\tpeak_rss_kb\tuser_us_per_syn\n' >"$out/points.tsv"
printf 'contender\trepeat\tp50_us\tp99_us\n' >"$out/latency.tsv"
for rep in $(seq "$REPEATS"); do
    for who in $CONTENDERS; do
        start "$who" || { echo "bench: $who did not start" >&2; continue; }
        read -r mbit seconds < <(throughput)
        printf '%s\t%s\t%s\t%s\n' "$who" "$rep" "$mbit" "$seconds" | tee -a "$out/throughput.tsv"
        for rate in $RATES; do point "$who" "$rate" "$rep" | tee -a "$out/points.tsv"; done
        read -r p50 p99 < <(latency)
        printf '%s\t%s\t%s\t%s\n' "$who" "$rep" "$p50" "$p99" | tee -a "$out/latency.tsv"
        stop "$who"
    done
done
{
    echo "kernel $(uname -r); $(nproc) CPUs: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "mssclamp $("$LAB_BIN" --version 2>/dev/null); $(trafgen -v 2>/dev/null | head -1); rates $RATES; $SECONDS_PER_POINT s per point; $REPEATS repeats; $CONNECTS connects; $THROUGHPUT_MB MB per transfer"
} >"$out/machine.txt"

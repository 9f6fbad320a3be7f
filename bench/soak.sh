#!/usr/bin/env bash
# make soak: the worker under a steady SYN flood for SOAK_SECONDS (default 600) in the
# namespace lab, its resident memory sampled every SAMPLE seconds. Writes
# bench/results/soak.tsv (seconds, VmRSS kB, SYNs counted at the server so far, clamped)
# and fails unless memory stays flat: the largest sample of the last minute may exceed the
# largest of the first minute by at most SOAK_GROWTH_KB (default 512). SYNs that passed
# unclamped (fail-open while the worker was starved of CPU) are reported, not judged: that
# is the sweep's business. Documentation
# addresses only; trafgen is bounded by count and time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/lab.sh"
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RATE=${SOAK_RATE:-100000}
SAMPLE=${SAMPLE:-10}
SOAK_GROWTH_KB=${SOAK_GROWTH_KB:-512}
out=${BENCH_OUT:-$root/bench/results}
mkdir -p "$out"

lab_begin mscs || exit 1
in_s() { ip netns exec "$id-s" "$@"; }
in_s iptables -A INPUT -p tcp --dport 9 --syn -m tcpmss --mss 1360 -j DROP
in_s iptables -A INPUT -p tcp --dport 9 --syn -j DROP
counts() { in_s iptables -L INPUT -v -x -n | awk '/dpt:9/ { c[++n] = $1 } END { print c[1] + 0, c[1] + c[2] }'; }
dst=$(ip -n "$id-r" link show vpn0 | awk '/ether/ { print $2 }' | sed 's/^/0x/; s/:/, 0x/g')
src=$(ip -n "$id-c" link show c0 | awk '/ether/ { print $2 }' | sed 's/^/0x/; s/:/, 0x/g')
sed "s/DSTMAC/$dst/; s/SRCMAC/$src/" "$here/syn.trafgen" >"$work/syn.cfg"

lab_worker_start "$id" "$work/w.log" -o eth0 --state-dir "$work/state" --metrics 127.0.0.1:9477 || exit 1
pid=$LAB_WORKER_PID
ip netns exec "$id-c" timeout $((SOAK_SECONDS + 30)) taskset -c 0 trafgen -i "$work/syn.cfg" -o c0 --cpp \
    -n $((SOAK_RATE * SOAK_SECONDS)) -P 1 -Q -C -b "${SOAK_RATE}pps" >/dev/null 2>&1 &
sender=$!
printf 'seconds\trss_kb\tarrived\tclamped\n' >"$out/soak.tsv"
start=$(date +%s)
for _ in $(seq $((SOAK_SECONDS / SAMPLE + 1))); do
    now=$(( $(date +%s) - start ))
    read -r clamped total < <(counts)
    printf '%s\t%s\t%s\t%s\n' "$now" "$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)" "$total" "$clamped" | tee -a "$out/soak.tsv"
    kill -0 "$sender" 2>/dev/null || break
    sleep "$SAMPLE"
done
wait "$sender"
# Scrape the metrics once at the end, as Prometheus would have all along.
ip netns exec "$id-r" curl -s --max-time 5 http://127.0.0.1:9477/metrics | grep -E '^mssclamp_(packets|queue|fail)' | head -8
peak=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)
lab_worker_stop >/dev/null
awk -v limit="$SOAK_GROWTH_KB" -v peak="$peak" -v last="$SOAK_SECONDS" 'NR > 1 {
        if ($1 < 60 && $2 > first) first = $2
        if ($1 >= last - 60 && $2 > late) late = $2
        n++; arrived = $3; clamped = $4
    } END {
        printf "soak: %d samples; RSS first minute max %d kB, last minute max %d kB, growth %d kB (limit %d); peak %d kB; %d SYNs arrived, %d clamped (%d unclamped: fail-open)\n",
            n, first, late, late - first, limit, peak, arrived, clamped, arrived - clamped
        exit (late - first > limit || arrived == 0) ? 1 : 0
    }' "$out/soak.tsv"

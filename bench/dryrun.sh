#!/usr/bin/env bash
# make bench, dry-run part: a generated pcap of COUNT SYNs (bench/syn-pcap.py), replayed by
# `mssclamp dry-run -q -w` and by `mssclamp dry-run -w` (a line per SYN to /dev/null), and
# filtered by `tcpdump -r F -w G 'tcp[13] & 2 != 0'`, REPEATS times each; wall-clock seconds
# and peak RSS per run to OUT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${MSSCLAMP_BIN:-$here/../.build/release/mssclamp}
out=${1:-$here/results/dryrun.tsv}
COUNT=${COUNT:-1000000}
REPEATS=${REPEATS:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/syn-pcap.py" "$work/syn.pcap" "$COUNT"
chmod 755 "$work"; chmod 644 "$work/syn.pcap"  # tcpdump drops to its own user to write
printf 'tool\trepeat\tseconds\tpeak_rss_kb\n' >"$out"
measure() {  # name command...: wall seconds to the millisecond (time's %e has only 10 ms), peak RSS
    local name=$1 start end; shift
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/time" "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    printf '%s\t%s\t%.3f\t%s\n' "$name" "$rep" "$(echo "($end - $start) / 1000000000" | bc -l)" "$(cat "$work/time")" | tee -a "$out"
}
# Interleaved, so a slow moment of the machine hits every tool alike.
for rep in $(seq "$REPEATS"); do
    measure tcpdump tcpdump -Z root -r "$work/syn.pcap" -w "$work/t.pcap" 'tcp[13] & 2 != 0'
    measure "dry-run -q" "$bin" dry-run -q "$work/syn.pcap" -w "$work/m.pcap"
    measure "dry-run" "$bin" dry-run "$work/syn.pcap" -w "$work/m.pcap"
done

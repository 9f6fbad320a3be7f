#!/usr/bin/env bash
# Instructions per SYN of the worker's per-packet path (bench/hotpath, release build) under
# callgrind, for each SYN layout: two runs, of SMALL and LARGE SYNs, and the difference
# divided by LARGE - SMALL, so start-up and message building cancel out. Appends to OUT.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${HOTPATH_BIN:-$here/../.build/release/hotpath}
out=${1:-$here/results/callgrind.tsv}
SMALL=${SMALL:-640}
LARGE=${LARGE:-64640}
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: count a stripped copy.
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip --strip-debug -o "$stripped" "$bin"
instructions() {  # layout count -> total Ir of the run
    local file; file=$(mktemp)
    timeout 300 valgrind --tool=callgrind --callgrind-out-file="$file" "$stripped" run "$1" "$2" >/dev/null 2>&1
    awk '/^summary:/ { print $2 }' "$file"
    rm -f "$file"
}
printf 'layout\tinstructions_per_syn\n' >"$out"
for layout in linux windows macos linux6; do
    small=$(instructions "$layout" "$SMALL")
    large=$(instructions "$layout" "$LARGE")
    printf '%s\t%s\n' "$layout" "$(( (large - small) / (LARGE - SMALL) ))" | tee -a "$out"
done

#!/usr/bin/env bash
# make test's stages, timed: `stage.sh NAME CMD...` runs one and records its seconds;
# `stage.sh --summary` prints them all. A failing stage prints the summary too, so the tail
# of a CI log (often all that is kept) says which stage failed and where the time went.
# The record is .build/stages.tsv (make test starts it afresh).
set -uo pipefail
log=${STAGE_LOG:-.build/stages.tsv}
mkdir -p "$(dirname "$log")"

summary() {
    local total=0 name secs rc
    echo "make test stages (seconds):"
    while IFS=$'\t' read -r name secs rc; do
        total=$((total + secs))
        printf '  %-14s %6d  %s\n' "$name" "$secs" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")"
    done <"$log"
    printf '  %-14s %6d\n' total "$total"
}

if [ "${1:-}" = --summary ]; then summary; exit 0; fi
name=${1:?usage: stage.sh NAME CMD... | --summary}; shift
start=$(date +%s)
"$@"; rc=$?
printf '%s\t%d\t%d\n' "$name" "$(( $(date +%s) - start ))" "$rc" >>"$log"
if [ "$rc" != 0 ]; then summary; fi
exit "$rc"

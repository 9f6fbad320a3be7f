#!/usr/bin/env bash
# make test's stages, timed: `stage.sh NAME CMD...` runs one and records its seconds;
# `stage.sh --summary` prints them all. A failing stage prints the summary too, so the tail
# of a CI log (often all that is kept) says which stage failed and where the time went.
# The record is .build/stages.tsv (make test starts it afresh).
#
# `stage.sh --background NAME CMD...` starts a stage beside the next ones (its own process
# group, output in .build/NAME.log); `stage.sh --renice NAME N` lowers its priority from
# then on; `stage.sh --wait NAME` waits for it (bounded), shows
# its output and records it like any stage. A stage that fails stops every background stage
# still running, so nothing outlives make test.
set -uo pipefail
log=${STAGE_LOG:-.build/stages.tsv}
dir=$(dirname "$log")
mkdir -p "$dir"

summary() {
    local total=0 name secs rc
    echo "make test stages (seconds):"
    while IFS=$'\t' read -r name secs rc; do
        case $name in *' (beside)') ;; *) total=$((total + secs)) ;; esac
        printf '  %-20s %6d  %s\n' "$name" "$secs" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")"
    done <"$log"
    printf '  %-20s %6d  (wall: the stages run beside others are inside it)\n' total "$total"
}

stop_background() {
    local pidfile
    for pidfile in "$dir"/bg-*.pid; do
        [ -e "$pidfile" ] || continue
        kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null && echo "stage.sh: stopped $(basename "$pidfile" .pid | sed 's/^bg-//') (running beside)"
        rm -f "$pidfile"
    done
}

case ${1:-} in
--summary) summary; exit 0 ;;
--background)
    name=${2:?usage: stage.sh --background NAME CMD...}; shift 2
    rm -f "$dir/bg-$name.rc"
    date +%s >"$dir/bg-$name.start"
    setsid bash -c '"$@"; echo $? >"'"$dir/bg-$name.rc"'"' stage "$@" >"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/bg-$name.pid"
    echo "stage $name: started beside the next stages (output: $dir/$name.log)"
    exit 0 ;;
--renice)
    # Every thread of a background stage at niceness N from now on (what it starts later
    # inherits it). Threads, not processes: nice is per thread on Linux (qemu's vCPUs), and
    # timeout(1) puts its command in a process group of its own, so the session it is.
    name=${2:?usage: stage.sh --renice NAME N}; level=${3:?usage: stage.sh --renice NAME N}
    [ -e "$dir/bg-$name.pid" ] || exit 0
    sid=$(ps -o sid= -p "$(cat "$dir/bg-$name.pid")" | tr -d ' ')
    [ -n "$sid" ] || exit 0
    # Twice: a thread started between the listing and the change is caught the second time.
    for pass in 1 2; do ps -L -o lwp= -s "$sid" | xargs -r renice -n "$level" -p >/dev/null 2>&1; sleep 0.5; done
    echo "stage $name: at nice $level from here on ($(ps -L -o lwp= -s "$sid" | wc -l) threads)"
    exit 0 ;;
--wait)
    name=${2:?usage: stage.sh --wait NAME [SECONDS]}; limit=${3:-5400}
    start=$(cat "$dir/bg-$name.start"); waited=$(date +%s)
    while [ ! -e "$dir/bg-$name.rc" ] && [ $(( $(date +%s) - waited )) -lt "$limit" ]; do sleep 2; done
    [ -e "$dir/bg-$name.rc" ] && rc=$(cat "$dir/bg-$name.rc") || { rc=124; echo "stage $name: not done after $limit s more"; }
    rm -f "$dir/bg-$name.pid"
    cat "$dir/$name.log"
    # Its own time: until it ended (its exit status file's time), not until it was waited for.
    ended=$(stat -c %Y "$dir/bg-$name.rc" 2>/dev/null || date +%s)
    printf '%s\t%d\t%d\n' "$name (beside)" "$(( ended - start ))" "$rc" >>"$log"
    printf '%s\t%d\t%d\n' "$name (waited for)" "$(( $(date +%s) - waited ))" "$rc" >>"$log"
    if [ "$rc" != 0 ]; then stop_background; summary; fi
    exit "$rc" ;;
esac

name=${1:?usage: stage.sh NAME CMD... | --summary | --background NAME CMD... | --wait NAME}; shift
start=$(date +%s)
"$@"; rc=$?
printf '%s\t%d\t%d\n' "$name" "$(( $(date +%s) - start ))" "$rc" >>"$log"
if [ "$rc" != 0 ]; then stop_background; summary; fi
exit "$rc"

#!/usr/bin/env bash
# Restarting over a crash: SIGKILL the worker while 10k SYN/s flow, start it again over the
# rules the crash left, ROUNDS times; then pair what the client sent with what the server
# got. Reports SYNs lost at the kill instant, lost otherwise (the restart must lose none),
# the longest hold, and unclamped SYNs (passed by --queue-bypass while the worker was down;
# none with --safety-net). Args: ROUNDS [extra run flags]. Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin mscr || exit 1
rounds=${1:-10}
shift
rate=10000
# A round takes 1 s and the worker's start (0.3-1 s, more on a loaded host): the flow runs
# long enough that every restart happens under it (syn_flow.py counts those that did).
seconds=$(( rounds * 3 + 3 ))
# The truth beside the captures: the kernel counts every SYN that reaches the server.
ip netns exec "$id-s" iptables -w -I INPUT -p tcp --dport 9 --syn -m comment --comment arrived
lab_worker_start "$id" "$work/w0.log" -o eth0 "$@" || exit 1
lab_dump_start "$id" "$work/client.pcap" "tcp dst port 9" c c0 || exit 1
client_dump=$LAB_DUMP_PID
lab_dump_start "$id" "$work/server.pcap" "tcp dst port 9" || exit 1
server_dump=$LAB_DUMP_PID
lab_paced_syns "$id" "$rate" "$seconds" >"$work/sent" &
sender=$!
sleep 1
: >"$work/events"
for round in $(seq "$rounds"); do
    echo "kill $(date +%s.%N)" >>"$work/events"
    kill -KILL "$LAB_WORKER_PID"; wait "$LAB_WORKER_PID" 2>/dev/null
    sleep 0.2
    lab_worker_start "$id" "$work/w$round.log" -o eth0 "$@" || { echo "restart $round failed" >&2; exit 1; }
    echo "ready $(date +%s.%N)" >>"$work/events"
    sleep 0.8
done
wait "$sender"
sleep 0.5
LAB_DUMP_PID=$server_dump lab_dump_stop
LAB_DUMP_PID=$client_dump lab_dump_stop
lab_worker_stop; stop=$?
"$LAB_PY" "$here/syn_flow.py" "$work/client.pcap" "$work/server.pcap" "$work/events"
# Captures can miss packets on a loaded host; then the pairing above is not exact, and the
# kernel's counts (sent by the sender, arrived at the server) say what was really lost.
counted=$(ip netns exec "$id-s" iptables -w -nvxL INPUT | awk '/arrived/ { print $1 }')
client_missed=$(lab_dump_dropped "$work/client.pcap") server_missed=$(lab_dump_dropped "$work/server.pcap")
missed=unknown
[ "$client_missed" != unknown ] && [ "$server_missed" != unknown ] && missed=$((client_missed + server_missed))
echo "RESULT capture_dropped=$missed sent_counted=$(cat "$work/sent") arrived_counted=${counted:-unknown}"
echo "RESULT rounds=$rounds stop=$stop rules_left=$(ip netns exec "$id-r" iptables-save -t mangle | grep -c mssclamp)"

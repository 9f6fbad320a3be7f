#!/usr/bin/env bash
# `mssclamp status` and the worker's loudness, in a lab of its own: nothing running; a typo
# in -o; healthy; as nobody; rules flushed by hand and put back; fail-open under a burst;
# SIGKILL and the SYNs that pass while no worker is bound; a safety net replaced (logged);
# a safety net left in place on SIGTERM; usage errors. Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin msst || exit 1
chmod 755 "$work"
state="$work/state"
R() { ip netns exec "$id-r" "$@"; }
status() { R "$LAB_BIN" status --state-dir "$state" "$@"; }
count() { grep -c -- "$2" "$1" 2>/dev/null; }

# 1. Nothing has run here: degraded, and says so.
status >"$work/s0.out" 2>&1; s0=$?
echo "RESULT none_status=$s0 none_says=$(count "$work/s0.out" 'no mssclamp worker')"

# 2. A typo in -o: warned at start, and status is degraded with the reason.
lab_worker_start "$id" "$work/typo.log" -o wan --state-dir "$state" || exit 1
status >"$work/s1.out" 2>&1; s1=$?
lab_worker_stop
echo "RESULT typo_log=$(count "$work/typo.log" 'interface wan (-o) does not exist now') typo_status=$s1 typo_says=$(count "$work/s1.out" 'interface wan (-o) does not exist now')"

# 3. Healthy: a real connection is clamped; status OK, also as JSON and as nobody.
lab_worker_start "$id" "$work/ok.log" -o eth0 --state-dir "$state" --metrics 127.0.0.1:9815 || exit 1
lab_connect "$id" 198.51.100.1 9
sleep 1.5
status >"$work/s2.out" 2>&1; s2=$?
status --json >"$work/s2.json" 2>&1
cp "$LAB_BIN" "$work/mssclamp"; chmod 755 "$work/mssclamp"
R setpriv --reuid=65534 --regid=65534 --clear-groups "$work/mssclamp" status --state-dir "$state" >"$work/s2n.out" 2>&1; s2n=$?
echo "RESULT ok_status=$s2 ok_line=$(count "$work/s2.out" '^mssclamp: OK') ok_clamped=$(grep -o 'since start: [0-9]* queued, [0-9]* clamped' "$work/s2.out" | grep -o '[0-9]* clamped' | tr -d ' a-z') ok_json=$(count "$work/s2.json" '"healthy":true') nobody_status=$s2n nobody_rules=$(count "$work/s2n.out" 'as the worker saw them')"
[ "$s2" = 0 ] || cat "$work/s2.out" >&2

# 4. Someone flushes our chain: nf_tables announces it, the worker looks at once (not at its
#    5-second poll), says so and puts it back. Timed from the flush to the log line.
flushed_at=$(date +%s%N)
R iptables -w -t mangle -F MSSCLAMP
lab_wait_for "$work/ok.log" "reinstalled" 80 && repaired=1 || repaired=0
repair_ms=$(( ($(date +%s%N) - flushed_at) / 1000000 ))
status >/dev/null 2>&1; s3=$?
echo "RESULT flush_logged=$(count "$work/ok.log" 'putting them back') repaired=$repaired repair_ms=$repair_ms after_repair_status=$s3"
lab_worker_stop

# 5. Fail-open: a queue of one packet under a burst lets SYNs through unclamped; counted by
#    the bypass counters, logged, in the stats line, status and metrics.
lab_worker_start "$id" "$work/fo.log" -o eth0 --state-dir "$state" --queue-maxlen 1 --stats-interval 2 --metrics 127.0.0.1:9815 || exit 1
lab_burst "$id" 20000
lab_wait_for "$work/fo.log" "passed the queue unclamped in the last" 80 && fo_logged=1 || fo_logged=0
sleep 2
status >"$work/s4.out" 2>&1; s4=$?
R timeout 5 "$LAB_PY" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9815/metrics", timeout=3).read().decode())' >"$work/metrics" 2>&1
lab_worker_stop
echo "RESULT failopen_logged=$fo_logged failopen_status=$s4 failopen_says=$(count "$work/s4.out" 'passed unclamped in the last') stats_line=$(count "$work/fo.log" 'unclamped-fail-open=') metrics_failopen=$(grep '^mssclamp_unclamped_total{path="fail-open"}' "$work/metrics" | awk '{print ($2 > 0)}') metrics_up=$(grep -c '^mssclamp_queue_up{queue="0"} 1' "$work/metrics")"

# 6. SIGKILL: status says the worker is gone; SYNs pass unclamped meanwhile and the next
#    worker counts them.
lab_worker_start "$id" "$work/k.log" -o eth0 --state-dir "$state" || exit 1
kill -KILL "$LAB_WORKER_PID"; wait "$LAB_WORKER_PID" 2>/dev/null
status >"$work/s5.out" 2>&1; s5=$?
lab_send_syns "$id" 198.51.100.1 43000 1460 1460 1460
lab_worker_start "$id" "$work/k2.log" -o eth0 --state-dir "$state" || exit 1
lab_worker_stop
echo "RESULT killed_status=$s5 killed_says=$(count "$work/s5.out" 'is gone without stopping') unbound_logged=$(grep -o '[0-9]* SYN(s) passed the queue unclamped while no worker was bound' "$work/k2.log" | grep -o '^[0-9]*')"

# 7. A safety net installed by `rules install --safety-net`, then a plain run: replaced, and
#    the log says what and why. Then run --safety-net: SIGTERM leaves the net in place.
R "$LAB_BIN" rules install -o eth0 --safety-net >/dev/null
lab_worker_start "$id" "$work/n.log" -o eth0 --state-dir "$state" || exit 1
lab_worker_stop
lab_worker_start "$id" "$work/n2.log" -o eth0 --state-dir "$state" --safety-net || exit 1
lab_worker_stop
net_left=$(R iptables -w -t mangle -S MSSCLAMP_NET 2>/dev/null | grep -c TCPMSS)
queue_left=$(R iptables -w -t mangle -S 2>/dev/null | grep -c NFQUEUE)
R "$LAB_BIN" rules remove >/dev/null; removed=$?
echo "RESULT net_replaced_logged=$(count "$work/n.log" 'removing the safety net') net_kept_logged=$(count "$work/n2.log" 'leaving the safety net') net_left=$net_left queue_left=$queue_left removed=$removed all_gone=$(R iptables-save -t mangle | grep -c mssclamp)"

# 8. Usage errors exit 2 and name the flag; remove/check take install's flags; check sees values.

u1=$(R "$LAB_BIN" run --queue-maxlen 0 2>&1 >/dev/null; echo "status=$?")
u2=$(R "$LAB_BIN" run --stats-interval -1 2>&1; echo "status=$?")
u3=$(R "$LAB_BIN" run --metrics nonsense 2>&1; echo "status=$?")
u4=$(R "$LAB_BIN" run --metrics 127.0.0.1:99999 2>&1; echo "status=$?")
u5=$(R "$LAB_BIN" run -i lan0 --hooks output 2>&1; echo "status=$?")
echo "RESULT maxlen0=$(echo "$u1" | grep -c 'status=2')$(echo "$u1" | grep -c -- '--queue-maxlen') stats_neg=$(echo "$u2" | grep -c 'status=2')$(echo "$u2" | grep -c -- '--stats-interval') metrics_bad=$(echo "$u3" | grep -c 'status=2')$(echo "$u3" | grep -c -- '--metrics') metrics_port=$(echo "$u4" | grep -c 'status=2')$(echo "$u4" | grep -c -- '--metrics') hooks_in=$(echo "$u5" | grep -c 'status=2')$(echo "$u5" | grep -c 'input interface')"
R "$LAB_BIN" rules install -o eth0 --mss 1361:1536 --set-mss 1360 >/dev/null
R "$LAB_BIN" rules check -o eth0 --mss 1361:1536 --set-mss 1300 >"$work/c.out" 2>&1; check_other=$?
R "$LAB_BIN" rules check -o eth0 --mss 1361:1536 --set-mss 1360 >/dev/null 2>&1; check_same=$?
R "$LAB_BIN" rules remove -o eth0 --mss 1361:1536 --set-mss 1360 >/dev/null 2>&1; remove_flags=$?
echo "RESULT check_other=$check_other check_other_says=$(count "$work/c.out" 'another policy') check_same=$check_same remove_with_install_flags=$remove_flags rules_left=$(R iptables-save -t mangle | grep -c mssclamp)"

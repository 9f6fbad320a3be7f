#!/usr/bin/env bash
# The worker's life: SIGKILL leaves traffic flowing (queue bypass), a restart reconciles the
# rules a crash left, SIGTERM leaves none, a taken queue is refused clearly, SIGHUP reloads
# (and keeps the old policy on a bad file), and CAP_NET_ADMIN alone is enough to run.
# Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin mscl || exit 1
chmod 755 "$work"
rules() { ip netns exec "$id-r" iptables-save -t mangle | grep -c mssclamp; }

listen() {  # port: one-connection server on the server, bounded
    ip netns exec "$id-s" timeout 10 "$LAB_PY" -c '
import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", int(sys.argv[1]))); s.listen(1); s.settimeout(8); c, _ = s.accept(); c.sendall(b"ok"); c.close()' "$1" &
    LISTEN_PID=$!
    sleep 0.3
}
fetch() {  # port: prints what the server sent, or "failed"
    ip netns exec "$id-c" timeout 10 "$LAB_PY" -c '
import socket, sys; s = socket.create_connection(("198.51.100.1", int(sys.argv[1])), timeout=5); print(s.recv(10).decode())' "$1" 2>/dev/null || echo failed
}

# 1. SIGKILL: rules stay, nobody reads the queue, --queue-bypass lets SYNs through unclamped.
lab_worker_start "$id" "$work/a.log" -o eth0 || exit 1
kill -KILL "$LAB_WORKER_PID"; wait "$LAB_WORKER_PID" 2>/dev/null
lab_dump_start "$id" "$work/k.pcap" "tcp dst port 8081" || exit 1
listen 8081; got=$(fetch 8081); wait "$LISTEN_PID"
lab_dump_stop
echo "RESULT after_kill_rules=$(rules) after_kill_fetch=$got after_kill_mss=$(lab_syn_mss "$work/k.pcap" | paste -sd, -)"

# 2. Restart over the crash's rules: reconciled (no duplicates), clamps again; SIGTERM: none left.
lab_worker_start "$id" "$work/b.log" -o eth0 || exit 1
restarted=$(rules)
lab_dump_start "$id" "$work/r.pcap" "tcp dst port 8082" || exit 1
listen 8082; got=$(fetch 8082); wait "$LISTEN_PID"
lab_dump_stop

# 3. A second worker on the same queue is refused, and the first keeps working.
ip netns exec "$id-r" timeout 10 "$LAB_BIN" run -o eth0 --stats-interval 0 >"$work/busy.out" 2>&1
busy=$?
echo "RESULT busy_status=$busy busy_message_ok=$(grep -c 'already bound by another process' "$work/busy.out")"

# 4. SIGHUP: a bad file keeps the old policy; a good one is applied and the rules follow.
printf 'rules:\n  - out-interface: eth0\n    set-mss: 1300\n' >"$work/policy.yaml"
lab_worker_stop
lab_worker_start "$id" "$work/c.log" --config "$work/policy.yaml" --state-dir "$work/state" || exit 1
printf 'rules:\n  - out-interface: eth0\n    mss: 1536:1361\n' >"$work/policy.yaml"
# `mssclamp reload` (the unit's ExecReload) returns once the worker has answered: a refusal
# fails with the worker's reason, an applied policy succeeds with its digest.
ip netns exec "$id-r" timeout 30 "$LAB_BIN" reload --state-dir "$work/state" >"$work/reload-bad.out" 2>&1; reload_bad=$?
lab_wait_for "$work/c.log" "keeping the running policy" 50 && bad_kept=1 || bad_kept=0
printf 'rules:\n  - out-interface: eth0\n    set-mss: 1200\n' >"$work/policy.yaml"
ip netns exec "$id-r" timeout 30 "$LAB_BIN" reload --state-dir "$work/state" >"$work/reload-good.out" 2>&1; reload_good=$?
lab_wait_for "$work/c.log" "reloaded 1 rule" 50 && reloaded=1 || reloaded=0
ip netns exec "$id-r" timeout 30 "$LAB_BIN" reload --state-dir "$work/nowhere" >"$work/reload-none.out" 2>&1; reload_none=$?
echo "RESULT reload_bad=$reload_bad reload_bad_says=$(grep -c 'reload refused; the running policy (policy:[0-9a-f]*) stays: .*1536:1361' "$work/reload-bad.out") reload_good=$reload_good reload_good_says=$(grep -c '^reloaded: policy:[0-9a-f]*, 1 rule(s) in force' "$work/reload-good.out") reload_none=$reload_none"
reload_rule=$(ip netns exec "$id-r" iptables -t mangle -S MSSCLAMP | grep -o -- '--mss [0-9:]*' | tr ' ' '_')
lab_dump_start "$id" "$work/h.pcap" "tcp dst port 8083" || exit 1
listen 8083; fetch 8083 >/dev/null; wait "$LISTEN_PID"
lab_dump_stop
lab_worker_stop; stop=$?
echo "RESULT restart_rules=$restarted restart_fetch=$got restart_mss=$(lab_syn_mss "$work/r.pcap" | paste -sd, -) bad_kept=$bad_kept reloaded=$reloaded reload_rule=$reload_rule reload_mss=$(lab_syn_mss "$work/h.pcap" | paste -sd, -) stop=$stop after_term_rules=$(rules)"

# 5. Privileges: nobody with CAP_NET_ADMIN only runs; nobody without it is told why.
cp "$LAB_BIN" "$work/mssclamp"; chmod 755 "$work/mssclamp"
ip netns exec "$id-r" timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$work/mssclamp" run --stats-interval 0 >"$work/noperm.out" 2>&1
noperm=$?
echo "RESULT noperm_status=$noperm noperm_message_ok=$(grep -c 'needs CAP_NET_ADMIN' "$work/noperm.out") noperm_first=$(head -1 "$work/noperm.out" | grep -c '^mssclamp: run needs CAP_NET_ADMIN.*setpriv --inh-caps=+net_admin') noperm_lines=$(wc -l <"$work/noperm.out")"
ip netns exec "$id-r" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$work/mssclamp" run -o eth0 --stats-interval 0 2>"$work/cap.log" &
LAB_WORKER_PID=$!
lab_wait_for "$work/cap.log" "ready" 100 && capready=1 || capready=0
caprules=$(rules)
lab_worker_stop; capstop=$?
echo "RESULT cap_ready=$capready cap_rules=$caprules cap_stop=$capstop cap_after_rules=$(rules)"
[ "$capready" = 1 ] || cat "$work/cap.log" >&2

# 6. Overruns: a tiny receive buffer and a burst make the kernel overrun our socket (ENOBUFS);
#    the worker counts it and carries on clamping.
lab_worker_start "$id" "$work/o.log" -o eth0 --receive-buffer 4096 || exit 1
lab_burst "$id" 20000
sleep 1
lab_dump_start "$id" "$work/o.pcap" "tcp dst port 8084" || exit 1
listen 8084; got=$(fetch 8084); wait "$LISTEN_PID"
lab_dump_stop
lab_worker_stop; ostop=$?
overruns=$(sed -n 's/.*\] stopped: .*overruns=\([0-9]*\).*/\1/p' "$work/o.log")
echo "RESULT overruns=$overruns after_overrun_fetch=$got after_overrun_mss=$(lab_syn_mss "$work/o.pcap" | paste -sd, -) overrun_stop=$ostop"

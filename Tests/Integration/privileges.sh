#!/usr/bin/env bash
# Least privilege per backend, and the systemd unit as systemd would run it.
#   1-3  started as root: confined to CAP_NET_ADMIN (+CAP_NET_RAW for iptables-legacy),
#        no_new_privs, optionally --user nobody; still clamps.
#   4-7  the real obstacles named: iptables-legacy's lock and raw socket, nft_queue.
#   8-9  the installed unit's ExecStart (and `rules remove`) under its user, capabilities,
#        no_new_privs, seccomp filter, /proc subset, private /run and umask (unit_exec.py),
#        with the iptables-legacy drop-in too; a SIGKILL leaves the rules (the safety net
#        clamps), then `mssclamp rules remove` as the unit's user cleans up.
# Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin mscp || exit 1
chmod 755 "$work"
cp "$LAB_BIN" "$work/mssclamp"; chmod 755 "$work/mssclamp"
BIN="$work/mssclamp"
NOBODY="--reuid=65534 --regid=65534 --clear-groups"
rules() { ip netns exec "$id-r" "${1:-iptables}-save" -t mangle 2>/dev/null | grep -c mssclamp; }
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
procinfo() { echo "uid=$(field "$1" Uid) eff=$(field "$1" CapEff) bnd=$(field "$1" CapBnd) amb=$(field "$1" CapAmb) nnp=$(field "$1" NoNewPrivs) seccomp=$(field "$1" Seccomp)"; }
clamp() {  # NAME PORT: the MSS the server sees for a SYN announcing 1460 (from source PORT)
    lab_dump_start "$id" "$work/$1.pcap" "tcp src port $2" >/dev/null || { echo none; return; }
    lab_send_syns "$id" 198.51.100.1 "$2" 1460
    lab_dump_stop
    lab_syn_mss "$work/$1.pcap" | paste -sd, -
}
start() {  # LOG COMMAND...: starts in the router, waits for ready; sets LAB_WORKER_PID and r
    local log=$1; shift
    ip netns exec "$id-r" "$@" 2>"$log" &
    LAB_WORKER_PID=$!
    lab_wait_for "$log" "ready" 150 && r=1 || { cat "$log" >&2; r=0; }
}
policy_args="-o eth0 --mss 1361:1536 --set-mss 1360 --stats-interval 0"

# 1. Root, iptables-nft: confined to CAP_NET_ADMIN, uid 0, no_new_privs.
start "$work/1.log" "$BIN" run $policy_args --backend iptables-nft --state-dir "$work/s1"
echo "RESULT nft_root_ready=$r $(procinfo "$LAB_WORKER_PID" | sed 's/\([a-z]*\)=/nft_root_\1=/g') nft_root_mss=$(clamp 1 8101) nft_root_logged=$(grep -c 'privileges: uid=0 caps=CAP_NET_ADMIN bounding=CAP_NET_ADMIN no_new_privs=1' "$work/1.log")"
lab_worker_stop; echo "RESULT nft_root_stop=$? nft_root_left=$(rules)"

# 2. Root with --user nobody: the switch, the state directory handed over.
start "$work/2.log" "$BIN" run $policy_args --backend iptables-nft --user nobody --state-dir "$work/s2"
sleep 1.5
echo "RESULT nft_user_ready=$r $(procinfo "$LAB_WORKER_PID" | sed 's/\([a-z]*\)=/nft_user_\1=/g') nft_user_mss=$(clamp 2 8102) nft_user_state=$(ls "$work/s2" | grep -c json) nft_user_state_owner=$(stat -c %u "$work/s2"/*.json | sort -u)"
lab_worker_stop; echo "RESULT nft_user_stop=$? nft_user_left=$(rules)"

# 3. Root, iptables-legacy: keeps CAP_NET_RAW as well (x_tables' raw socket).
start "$work/3.log" "$BIN" run $policy_args --backend iptables-legacy --state-dir "$work/s3"
echo "RESULT legacy_root_ready=$r $(procinfo "$LAB_WORKER_PID" | sed 's/\([a-z]*\)=/legacy_root_\1=/g') legacy_root_mss=$(clamp 3 8103)"
lab_worker_stop; echo "RESULT legacy_root_stop=$? legacy_root_left=$(rules iptables-legacy)"

# 4. --user nobody on iptables-legacy, the lock as root leaves it (0600): refused before any
#    change, naming the lock and the fixes. In a private mount namespace with its own /run.
private() {  # LOCKMODE COMMAND...: runs COMMAND as root in the router with a private /run
    local mode=$1; shift
    ip netns exec "$id-r" unshare --mount --propagation private bash -c '
        mount -t tmpfs -o mode=755 tmpfs /run && : >/run/xtables.lock && chmod "$0" /run/xtables.lock &&
        chgrp nogroup /run/xtables.lock && exec "$@"' "$mode" "$@"
}
timeout 20 bash -c "$(declare -f private); id=$id; private 600 $BIN run $policy_args --backend iptables-legacy --user nobody --state-dir $work/s4" >"$work/4.out" 2>&1
echo "RESULT legacy_lock_status=$? legacy_lock_names=$(grep -c '/run/xtables.lock' "$work/4.out") legacy_lock_fix=$(grep -c 'chmod 0640' "$work/4.out") legacy_lock_left=$(rules iptables-legacy)"

# 5. The same with the lock opened to the group (what the drop-in does): works as nobody.
( private 640 "$BIN" run $policy_args --backend iptables-legacy --user nobody --state-dir "$work/s5" 2>"$work/5.log" ) &
LAB_WORKER_PID=$!
lab_wait_for "$work/5.log" "ready" 150 && r=1 || { r=0; cat "$work/5.log" >&2; }
worker=$(pgrep -f "state-dir $work/s5" | head -1)
echo "RESULT legacy_user_ready=$r $(procinfo "$worker" | sed 's/\([a-z]*\)=/legacy_user_\1=/g') legacy_user_mss=$(clamp 5 8105)"
kill -TERM "$worker"; for i in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
wait "$LAB_WORKER_PID"; echo "RESULT legacy_user_stop=$? legacy_user_left=$(rules iptables-legacy)"

# 6. nobody with CAP_NET_ADMIN alone on iptables-legacy: told it needs CAP_NET_RAW.
ip netns exec "$id-r" timeout 20 setpriv $NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$BIN" run $policy_args --backend iptables-legacy --state-dir "$work/s6" >"$work/6.out" 2>&1
echo "RESULT legacy_noraw_status=$? legacy_noraw_says=$(grep -c 'CAP_NET_RAW' "$work/6.out")"

# 7. nftables as nobody with CAP_NET_ADMIN: gets as far as root does (this kernel has no
#    nft_queue), and says so rather than "permission denied".
ip netns exec "$id-r" timeout 20 setpriv $NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$BIN" run $policy_args --backend nftables --state-dir "$work/s7" >"$work/7.out" 2>&1
s7=$?
ip netns exec "$id-r" timeout 20 "$BIN" run $policy_args --backend nftables --state-dir "$work/s7r" >"$work/7r.out" 2>&1
echo "RESULT nftables_user_status=$s7 nftables_root_status=$? nftables_user_says=$(grep -c 'CONFIG_NFT_QUEUE' "$work/7.out") nftables_root_says=$(grep -c 'CONFIG_NFT_QUEUE' "$work/7r.out") nftables_denied=$(grep -ci 'permission denied' "$work/7.out")"

# 8. The installed unit, as systemd would run it (with the lab's policy in its config).
make -s -C "$here/../.." install PREFIX="$work/prefix" BIN="$BIN" >"$work/install.out" 2>&1
echo "RESULT install_status=$? installed=$(ls "$work/prefix/sbin/mssclamp" "$work/prefix/lib/systemd/system/mssclamp.service" "$work/prefix/lib/sysusers.d/mssclamp.conf" "$work/prefix/etc/mssclamp.yaml" "$work/prefix/share/doc/mssclamp/iptables-legacy.conf" 2>/dev/null | wc -l)"
unit="$work/prefix/lib/systemd/system/mssclamp.service"
# --man=no: the man pages come with the package (make deb), not with make install.
systemd-analyze verify --man=no "$unit" >"$work/verify.out" 2>&1
echo "RESULT unit_verify=$? unit_verify_output=$(wc -l <"$work/verify.out")"
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
echo "RESULT unit_exposure=$score"
cat >"$work/prefix/etc/mssclamp.yaml" <<'YAML'
rules:
  - name: lab-wan
    out-interface: eth0
    mss: 1361:1536
    set-mss: 1360
YAML
chmod -R a+rX "$work/prefix"
unit_run() {  # [LOCKMODE] ARGS...: unit_exec.py in the router's private mount namespace
    ip netns exec "$id-r" env UNIT_EXEC_LOCK_MODE="$lock" unshare --mount --propagation private "$LAB_PY" "$here/unit_exec.py" "$unit" "$@"
}
lock=""
unit_worker() {  # the worker's own pid (unit_run runs in a subshell)
    local i
    for i in $(seq 50); do pgrep -f "^$work/prefix/sbin/mssclamp run" && return; sleep 0.1; done
}
unit_run ExecStart 2>"$work/8.log" &
lab_wait_for "$work/8.log" "ready" 150 && r=1 || { r=0; cat "$work/8.log" >&2; }
LAB_WORKER_PID=$(unit_worker)
sleep 1.5
scrape=$(ip netns exec "$id-r" timeout 5 "$LAB_PY" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9815/metrics", timeout=3).read().decode())' 2>/dev/null | grep -c '^mssclamp_packets_total')
state=$(stat -c %a "/proc/$LAB_WORKER_PID/root/run/mssclamp/"*.json 2>/dev/null | head -1)
echo "RESULT unit_ready=$r $(procinfo "$LAB_WORKER_PID" | sed 's/\([a-z]*\)=/unit_\1=/g') unit_mss=$(clamp 8 8108) unit_metrics=$scrape unit_state_mode=$state unit_errors=$(grep -ci 'error\|not permitted' "$work/8.log")"
kill -KILL "$LAB_WORKER_PID"; wait 2>/dev/null
crashed=$(rules)
crash_mss=$(clamp 8k 8118)
unit_run --command "$work/prefix/sbin/mssclamp rules remove" ExecStart >"$work/8p.out" 2>&1; post=$?
unit_run --command "$work/prefix/sbin/mssclamp rules remove" ExecStart >"$work/8q.out" 2>&1; again=$?
echo "RESULT unit_crash_left=$crashed unit_crash_mss=$crash_mss unit_remove=$post unit_remove_left=$(rules) unit_remove_again=$again unit_remove_said=$(grep -c 'could not read: iptables-legacy' "$work/8q.out")"

# The filter is in force: pinning to a CPU (@resources) is refused under it.
unit_run --command "taskset -c 0 true" ExecStart >"$work/probe.out" 2>&1
echo "RESULT unit_filter_probe=$(grep -c 'affinity: Operation not permitted' "$work/probe.out")"

# 9. The unit with the iptables-legacy drop-in, the lock as root leaves it.
lock=600
unit_run --dropin "$work/prefix/share/doc/mssclamp/iptables-legacy.conf" ExecStart 2>"$work/9.log" &
lab_wait_for "$work/9.log" "ready" 150 && r=1 || { r=0; cat "$work/9.log" >&2; }
LAB_WORKER_PID=$(unit_worker)
echo "RESULT unit_legacy_ready=$r unit_legacy_mss=$(clamp 9 8109) unit_legacy_rules=$(rules iptables-legacy)"
echo "RESULT $(procinfo "$LAB_WORKER_PID" | sed 's/\([a-z]*\)=/unit_legacy_\1=/g')"
kill -KILL "$LAB_WORKER_PID"; wait 2>/dev/null
unit_run --dropin "$work/prefix/share/doc/mssclamp/iptables-legacy.conf" --command "$work/prefix/sbin/mssclamp rules remove --backend iptables-legacy" ExecStart >"$work/9p.out" 2>&1
echo "RESULT unit_legacy_remove=$? unit_legacy_left=$(rules iptables-legacy)"

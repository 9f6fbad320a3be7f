#!/usr/bin/env bash
# Differential test against the kernel: the same crafted SYNs (IPv4 and IPv6, many option
# layouts) go once through the kernel's TCPMSS rule and once through `mssclamp run`, and the
# bytes the server receives are compared. Three policies: the seed range rule, a bare
# `--set-mss 1400` (where the kernel inserts missing MSS options; mssclamp with
# --insert-missing), and `--clamp-mss-to-pmtu` over a 1400-byte tunnel link. Prints RESULT lines; exits 1 on any mismatch.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
# The client-facing link has MTU 1400, so --clamp-mss-to-pmtu has a tunnel to find.
lab_begin mscd 1400 || exit 1
status=0

round() {  # name  (sends v4 and v6 sets, captures at the server)
    lab_dump_start "$id" "$work/$1.pcap" "tcp dst port 9" || exit 1
    ip netns exec "$id-c" timeout 60 "$LAB_PY" "$here/differential.py" send 198.51.100.1 43000 2>&1 | grep -v WARNING
    ip netns exec "$id-c" timeout 60 "$LAB_PY" "$here/differential.py" send 2001:db8:2::1 44000 2>&1 | grep -v WARNING
    lab_dump_stop
}

kernel_rules() {  # -A|-D  TCPMSS-args...
    local op=$1; shift
    ip netns exec "$id-r" iptables -w -t mangle "$op" FORWARD -o eth0 -p tcp --tcp-flags SYN,RST SYN "$@"
    ip netns exec "$id-r" ip6tables -w -t mangle "$op" FORWARD -o eth0 -p tcp --tcp-flags SYN,RST SYN "$@"
}

check() {  # policy-name
    for family in ipv4:43000 ipv6:44000; do
        "$LAB_PY" "$here/differential.py" compare "$work/$1-kernel.pcap" "$work/$1-worker.pcap" "${family#*:}" "${family%%:*}" \
            2>&1 | grep -v WARNING | sed "s/^RESULT /RESULT policy=$1 /" || status=1
        [ "${PIPESTATUS[0]}" = 0 ] || status=1
    done
}

# Policy "range": the seed rule.
kernel_rules -A -m tcpmss --mss 1361:1536 -j TCPMSS --set-mss 1360
round range-kernel
kernel_rules -D -m tcpmss --mss 1361:1536 -j TCPMSS --set-mss 1360
lab_worker_start "$id" "$work/w-range.log" -o eth0 --mss 1361:1536 --set-mss 1360 || exit 1
round range-worker
lab_worker_stop || status=1
check range

# Policy "set": --set-mss 1400 without a range (the kernel inserts a missing MSS).
kernel_rules -A -j TCPMSS --set-mss 1400
round set-kernel
kernel_rules -D -j TCPMSS --set-mss 1400
lab_worker_start "$id" "$work/w-set.log" -o eth0 --set-mss 1400 --insert-missing || exit 1
round set-worker
lab_worker_stop || status=1
check set
# Policy "pmtu": --clamp-mss-to-pmtu; the route back to the client has MTU 1400.
kernel_rules -A -j TCPMSS --clamp-mss-to-pmtu
round pmtu-kernel
kernel_rules -D -j TCPMSS --clamp-mss-to-pmtu
lab_worker_start "$id" "$work/w-pmtu.log" -o eth0 --clamp-mss-to-pmtu --insert-missing || exit 1
round pmtu-worker
lab_worker_stop || status=1
check pmtu

echo "RESULT worker_counters=$(sed -n 's/.*\] stopped: //p' "$work/w-set.log" | tr ' ' ',')"
exit $status

#!/usr/bin/env bash
# make demo: the MTU black hole behind a VPN gateway, and mssclamp fixing it.
#
# client — router — server in network namespaces this script creates. The router's link to the
# client has MTU 1400 (a tunnel's), the client thinks 1500 and announces MSS 1460, and the router
# swallows the ICMP "fragmentation needed" / "packet too big" it should send to the server.
# The client fetches 1 MB from the server: first without mssclamp (it stalls), then with
# `mssclamp run` on the router (it completes). Everything is removed at the end, even on
# failure or Ctrl-C. Exit 0 only when the stall and the fix were both seen.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
bin=${MSSCLAMP_BIN:-$here/../.build/debug/mssclamp}
id="demo$$"
work=$(mktemp -d)
worker=""
cleanup() {
    [ -n "$worker" ] && kill -TERM "$worker" 2>/dev/null && wait "$worker" 2>/dev/null
    lab_down "$id"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "make demo needs root (it creates network namespaces)" >&2; exit 1; }
[ -x "$bin" ] || { echo "no mssclamp binary at $bin: run make build" >&2; exit 1; }

SIZE=1000000
lab_up "$id" 1400 || { echo "cannot create the lab" >&2; exit 1; }
lab_block_ptb "$id"

# One fetch: prints "BYTES SECONDS MSS-THE-SERVER-SAW".
fetch_once() {  # server-address label
    local dump="$work/$2.pcap"
    lab_dump_start "$id" "$dump" "tcp port 8080 and tcp[tcpflags] & tcp-syn != 0 or (ip6 and tcp port 8080)" >/dev/null
    local result
    result=$(lab_download "$id" "$1" 8080 "$SIZE")
    lab_dump_stop
    echo "$result $(lab_syn_mss "$dump" | head -1)"
}

report() {  # label bytes seconds mss
    if [ "$2" -ge "$SIZE" ]; then
        printf '  %-32s server saw MSS %-5s  %8s bytes in %5ss  COMPLETED\n' "$1" "$4" "$2" "$3"
    else
        printf '  %-32s server saw MSS %-5s  %8s bytes, then nothing  STALLED\n' "$1" "$4" "$2"
    fi
}

echo "mssclamp demo: client --[MTU 1400, ICMP too-big filtered]-- router -- server; fetching $SIZE bytes"
echo
echo "1. without mssclamp"
read -r b4 s4 m4 <<<"$(fetch_once 198.51.100.1 plain-v4)"; report "IPv4 198.51.100.1" "$b4" "$s4" "$m4"
read -r b6 s6 m6 <<<"$(fetch_once 2001:db8:2::1 plain-v6)"; report "IPv6 2001:db8:2::1" "$b6" "$s6" "$m6"

echo
echo "2. with: mssclamp run -o eth0 --mss 1341:1536 --set-mss 1360 --set-mss-ipv6 1340   (on the router)"
ip netns exec "$id-r" "$bin" run -o eth0 --mss 1341:1536 --set-mss 1360 --set-mss-ipv6 1340 --stats-interval 0 2>"$work/worker.log" &
worker=$!
if ! lab_wait_for "$work/worker.log" "ready" 100; then
    echo "mssclamp did not start:" >&2; cat "$work/worker.log" >&2; exit 1
fi
read -r c4 t4 n4 <<<"$(fetch_once 198.51.100.1 clamp-v4)"; report "IPv4 198.51.100.1" "$c4" "$t4" "$n4"
read -r c6 t6 n6 <<<"$(fetch_once 2001:db8:2::1 clamp-v6)"; report "IPv6 2001:db8:2::1" "$c6" "$t6" "$n6"
kill -TERM "$worker"; wait "$worker"; status=$?; worker=""
echo
sed -n 's/.*\] stopped: /  mssclamp counters: /p' "$work/worker.log"
left=$(ip netns exec "$id-r" iptables-save -t mangle | grep -c mssclamp)
echo "  rules left in the router after SIGTERM: $left (exit status $status)"

echo
if [ "$b4" -lt "$SIZE" ] && [ "$b6" -lt "$SIZE" ] && [ "$c4" -ge "$SIZE" ] && [ "$c6" -ge "$SIZE" ] && [ "$left" = 0 ] && [ "$status" = 0 ]; then
    echo "VERDICT: the black hole is real (both transfers stalled) and mssclamp fixes it (both completed)."
    exit 0
fi
echo "VERDICT: unexpected result (see above)."
exit 1

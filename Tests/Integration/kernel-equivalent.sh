#!/usr/bin/env bash
# The rules `mssclamp rules print --kernel-equivalent` prints, installed as printed, give the
# same MSS on the wire as the worker (iptables lines and the nftables table alike). Then the
# safety net: with the worker down its kernel rule clamps; with the worker up it never fires.
# Prints RESULT lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"
lab_begin msck 1400 || exit 1
policy=(-o eth0 --mss 1341:1536 --set-mss 1360 --set-mss-ipv6 1340)
in_router() { ip netns exec "$id-r" "$@"; }

round() {  # name: crafted SYNs of both families plus real connections; prints port:mss list
    lab_dump_start "$id" "$work/$1.pcap" "tcp dst port 9" || exit 1
    lab_send_syns "$id" 198.51.100.1 41000 1460 1400 1361 1350 1300 9000 none
    lab_send_syns "$id" 2001:db8:2::1 42000 1460 1400 1341 1340 1300 9000 none
    lab_dump_stop
    lab_syn_port_mss "$work/$1.pcap" | sort -u | paste -sd, -
}

"$LAB_BIN" rules print --kernel-equivalent "${policy[@]}" >"$work/equivalent.txt" || exit 1
grep -E '^ip6?tables ' "$work/equivalent.txt" >"$work/iptables.sh"
sed -n '/^# nftables/,$p' "$work/equivalent.txt" | grep -v '^#' >"$work/nft.conf"

while read -r line; do in_router sh -c "$line" || exit 1; done <"$work/iptables.sh"
iptables_result=$(round iptables)
in_router iptables -t mangle -F FORWARD; in_router ip6tables -t mangle -F FORWARD

in_router nft -f "$work/nft.conf" || exit 1
nft_result=$(round nft)
in_router nft delete table inet mssclamp_kernel

lab_worker_start "$id" "$work/w.log" "${policy[@]}" || exit 1
worker_result=$(round worker)
lab_worker_stop

echo "RESULT iptables_lines=$(wc -l <"$work/iptables.sh") iptables=$iptables_result"
echo "RESULT nft=$nft_result"
echo "RESULT worker=$worker_result"

# Safety net: rules installed, no worker: --queue-bypass lets SYNs through and the kernel
# rule in POSTROUTING clamps them.
in_router "$LAB_BIN" rules install --backend iptables-nft --safety-net "${policy[@]}" >/dev/null || exit 1
net_down=$(round net-down)
hits() { in_router iptables -t mangle -L MSSCLAMP_NET -v -x -n | awk '/TCPMSS/ { print $1 }'; }
hits_down=$(hits)
in_router iptables -t mangle -Z MSSCLAMP_NET
lab_worker_start "$id" "$work/w2.log" --safety-net "${policy[@]}" || exit 1
net_up=$(round net-up)
hits_up=$(hits)
lab_worker_stop
echo "RESULT net_down=$net_down net_down_hits=$hits_down"
# A worker started with --safety-net leaves the net in place when it stops; remove takes it.
net_left=$(in_router iptables-save -t mangle | grep -c mssclamp)
in_router "$LAB_BIN" rules remove >/dev/null
echo "RESULT net_up=$net_up net_up_hits=$hits_up worker_clamped=$(sed -n 's/.*\] stopped: packets=[0-9]* clamped=\([0-9]*\).*/\1/p' "$work/w2.log") net_left=$net_left rules_left=$(in_router iptables-save -t mangle | grep -c mssclamp)"

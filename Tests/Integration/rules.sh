#!/usr/bin/env bash
# `mssclamp rules` against the real tools in a namespace of its own, per backend: install
# shows exactly the rendered rules, twice changes nothing, check notices a hand-deleted rule,
# install reconciles it, remove leaves the ruleset exactly as found (pristine, and around an
# operator's own rules), and a foreign chain of our name is refused with nothing changed.
# Prints RESULT lines.
set -u
bin=${MSSCLAMP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/.build/debug/mssclamp}
ns="mscrules$$"
trap 'ip netns del $ns 2>/dev/null' EXIT
trap 'exit 130' INT TERM
in_ns() { ip netns exec "$ns" "$@"; }
policy=(-o eth0 -s 198.51.100.0/24,2001:db8:100::/56 --mss 1341:1536 --set-mss 1360 --set-mss-ipv6 1340)

# iptables-legacy: the kernel creates a table on first access in a namespace, and no tool
# can delete it; drop save sections that hold nothing but ACCEPT policies.
drop_empty_tables() {
    awk '/^\*/ { buf = $0; keep = 0; next } /^COMMIT/ { if (keep) print buf "\n" $0; next }
         { buf = buf "\n" $0; if ($0 !~ /^:[A-Z]+ ACCEPT *$/) keep = 1 }'
}

snapshot() {  # backend: the whole ruleset as the tools print it, without comments/counters
    if [ "$1" = nftables ]; then in_ns nft list ruleset; return; fi
    for t in iptables ip6tables; do in_ns "$t-${1#iptables-}-save" 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//'; done
    in_ns nft list ruleset 2>/dev/null
}

scenario() {  # backend label [setup-command...]
    local backend=$1 label=$2
    shift 2
    ip netns del "$ns" 2>/dev/null; ip netns add "$ns"
    [ $# -gt 0 ] && in_ns "$@"
    local before; before=$(snapshot "$backend")
    local r1 r2 listed check_ok check_bad bad_says reinstall check_again remove same
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null; r1=$?
    local once; once=$(snapshot "$backend")
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null; r2=$?
    local twice; twice=$(snapshot "$backend")
    listed=$(in_ns "iptables-${backend#iptables-}" -t mangle -S MSSCLAMP 2>/dev/null | grep -c NFQUEUE)
    in_ns "$bin" rules check --backend "$backend" "${policy[@]}" >/dev/null; check_ok=$?
    in_ns "iptables-${backend#iptables-}" -w -t mangle -D MSSCLAMP 1
    bad_says=$(in_ns "$bin" rules check --backend "$backend" "${policy[@]}" 2>&1 | grep -c 'missing in MSSCLAMP')
    in_ns "$bin" rules check --backend "$backend" "${policy[@]}" >/dev/null 2>&1; check_bad=$?
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null; reinstall=$?
    in_ns "$bin" rules check --backend "$backend" "${policy[@]}" >/dev/null; check_again=$?
    in_ns "$bin" rules install --backend "$backend" --safety-net "${policy[@]}" >/dev/null
    local net; net=$(in_ns "iptables-${backend#iptables-}" -t mangle -S MSSCLAMP_NET 2>/dev/null | grep -c 'TCPMSS --set-mss 1360')
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null
    local net_gone; net_gone=$(in_ns "iptables-${backend#iptables-}" -t mangle -S 2>/dev/null | grep -c MSSCLAMP_NET)
    in_ns "$bin" rules remove --backend "$backend" >/dev/null; remove=$?
    local after; after=$(snapshot "$backend")
    [ "$after" = "$before" ] && same=1 || same=0
    [ "$(echo "$after" | drop_empty_tables)" = "$(echo "$before" | drop_empty_tables)" ] && modulo=1 || modulo=0
    [ "$once" = "$twice" ] && idem=1 || idem=0
    echo "RESULT backend=$backend case=$label install=$r1 again=$r2 idempotent=$idem listed=$listed check_ok=$check_ok check_bad=$check_bad check_says_missing=$bad_says reinstall=$reinstall check_again=$check_again safety_net_rules=$net safety_net_removed=$((1 - net_gone)) remove=$remove restored=$same restored_modulo_empty_tables=$modulo"
    [ "$modulo" = 1 ] || { echo "--- before"; echo "$before"; echo "--- after"; echo "$after"; } >&2
}

for backend in iptables-nft iptables-legacy; do
    tool=iptables-${backend#iptables-}
    tool6=ip6tables-${backend#iptables-}
    scenario "$backend" pristine
    # --learn-pmtu: the ICMP signal jumps (FORWARD, OUTPUT) come and go with the rest, and an
    # install without it takes them out again.
    plain=("${policy[@]}"); policy+=(--learn-pmtu)
    scenario "$backend" learn-pmtu
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null
    learn_jumps=$(in_ns "$tool" -t mangle -S | grep -c -- '-j MSSCLAMP$' )
    policy=("${plain[@]}")
    in_ns "$bin" rules install --backend "$backend" "${policy[@]}" >/dev/null
    echo "RESULT backend=$backend case=unlearn learn_jumps=$learn_jumps left=$(in_ns "$tool" -t mangle -S | grep -c 'learn-pmtu') "
    in_ns "$bin" rules remove --backend "$backend" >/dev/null
    scenario "$backend" operator-rules sh -c "$tool -A FORWARD -i wg0 -j ACCEPT && $tool -t mangle -A PREROUTING -p udp --dport 51820 -j MARK --set-mark 7 && $tool6 -t mangle -A POSTROUTING -o eth0 -j RETURN"

    # A chain called MSSCLAMP that is someone else's: refused, nothing changed.
    ip netns del "$ns" 2>/dev/null; ip netns add "$ns"
    in_ns "$tool" -t mangle -N MSSCLAMP && in_ns "$tool" -t mangle -A MSSCLAMP -j RETURN
    before=$(snapshot "$backend")
    message=$(in_ns "$bin" rules install --backend "$backend" "${policy[@]}" 2>&1); status=$?
    [ "$(snapshot "$backend")" = "$before" ] && same=1 || same=0
    echo "RESULT backend=$backend case=foreign-chain status=$status says_not_ours=$(echo "$message" | grep -c "is not mssclamp's") unchanged=$same"
done

# Our nftables table with no rule left in it (a worker on a policy the kernel cannot clamp
# alone left it): `rules remove` still takes it away, and the ruleset is as before.
ip netns del "$ns" 2>/dev/null; ip netns add "$ns"
before=$(snapshot nftables)
in_ns nft -f - <<'NFT'
table inet mssclamp {
	comment "managed by mssclamp"
	chain safety_net {
		type filter hook postrouting priority mangle; policy accept;
	}
}
NFT
message=$(in_ns "$bin" rules remove 2>&1); status=$?
[ "$(snapshot nftables)" = "$before" ] && same=1 || same=0
echo "RESULT backend=nftables case=empty-table status=$status removed=$same said=$(echo "$message" | grep -c 'removed (nftables)')"

# Native nftables: a kernel without nft_queue must refuse cleanly; one with it, round-trip.
ip netns del "$ns" 2>/dev/null; ip netns add "$ns"
before=$(snapshot nftables)
message=$(in_ns "$bin" rules install --backend nftables "${policy[@]}" 2>&1); status=$?
if [ "$status" = 0 ]; then
    in_ns "$bin" rules check --backend nftables "${policy[@]}" >/dev/null; check=$?
    in_ns "$bin" rules remove --backend nftables >/dev/null
    [ "$(snapshot nftables)" = "$before" ] && same=1 || same=0
    echo "RESULT backend=nftables case=round-trip nft_queue=supported check=$check restored=$same"
else
    [ "$(snapshot nftables)" = "$before" ] && same=1 || same=0
    echo "RESULT backend=nftables case=round-trip nft_queue=unsupported status=$status says_why=$(echo "$message" | grep -c 'nft_queue') unchanged=$same"
fi

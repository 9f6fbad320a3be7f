#!/usr/bin/env bash
# `mssclamp doctor` in a namespace of its own, one trap at a time: made real, found with its
# fix, the printed fix applied, then doctor clean again. Prints RESULT lines for the Swift test.
set -u
bin=${MSSCLAMP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/.build/debug/mssclamp}
ns="mcdr-$$"
work=$(mktemp -d)
worker=
cleanup() { [ -n "$worker" ] && kill -KILL "$worker" 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns" || exit 1
N() { ip netns exec "$ns" "$@"; }
N ip link set lo up
N sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.tcp_mtu_probing=1

doctor() { N timeout 30 "$bin" doctor --json >"$work/d.json" 2>"$work/d.err"; echo $? >"$work/d.rc"; }
# ids of the findings to fix (warning or error), comma-separated, sorted
ids() { /usr/bin/python3 -c 'import json,sys; print(",".join(sorted(f["id"] for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] != "info")) or "none")' "$work/d.json"; }
# the fix of finding ID: its first command
fix() { /usr/bin/python3 -c 'import json,sys; print([f["fix"] for f in json.load(open(sys.argv[1]))["findings"] if f["id"] == sys.argv[2]][0].split("   (")[0])' "$work/d.json" "$1"; }
# trap NAME ID: doctor must name ID (exit 1); its fix is applied; doctor must be clean (exit 0)
trap_case() {
    local name=$1 id=$2 found rc1 fixed rc2
    doctor; rc1=$(cat "$work/d.rc"); found=$(ids)
    fixed=$(fix "$id" 2>/dev/null)
    [ -n "$fixed" ] && N sh -c "$fixed" >/dev/null 2>&1
    doctor; rc2=$(cat "$work/d.rc")
    echo "RESULT ${name}_found=$found ${name}_rc=$rc1 ${name}_after=$(ids) ${name}_after_rc=$rc2"
    echo "$name fix: $fixed" >&2
}

doctor; echo "RESULT clean_rc=$(cat "$work/d.rc") clean_found=$(ids)"
/usr/bin/python3 - "$work/d.json" <<'PY' && echo "RESULT schema=ok" || echo "RESULT schema=bad"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"findings", "unread"} and isinstance(d["unread"], list)
for f in d["findings"]:
    assert set(f) <= {"id", "severity", "summary", "fix"} and {"id", "severity", "summary"} <= set(f)
    assert f["severity"] in ("info", "warning", "error") and f["summary"]
PY

N iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
N iptables -A FORWARD -p icmp -j DROP
doctor; echo "RESULT related_first_found=$(ids)"      # errors of tracked flows pass: no finding
N iptables -F FORWARD
N iptables -A FORWARD -p icmp --icmp-type fragmentation-needed -j DROP
trap_case fragneeded icmp-frag-needed-dropped
N iptables -F FORWARD
N ip6tables -A FORWARD -p ipv6-icmp --icmpv6-type packet-too-big -j REJECT
trap_case ptb icmpv6-packet-too-big-dropped
N ip6tables -F FORWARD
N nft -f - <<'NFT'
table inet fw {
    chain through {
        type filter hook forward priority 0; policy accept;
        icmp type destination-unreachable drop
    }
}
NFT
trap_case nftdrop icmp-frag-needed-dropped
N nft delete table inet fw
# Dropped by default: FORWARD's policy DROP, only established traffic let through.
N iptables -P FORWARD DROP
N iptables -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
trap_case policydrop icmp-frag-needed-dropped
N iptables -F FORWARD; N iptables -P FORWARD ACCEPT
# The same in nftables, an inet chain: both families found, both printed fixes applied.
N nft -f - <<'NFT'
table inet fw {
    chain through {
        type filter hook forward priority 0; policy drop;
        ct state established accept
    }
}
NFT
doctor; nftpolicy=$(ids)
/usr/bin/python3 -c 'import json,sys; [print(f["fix"].split("   (")[0]) for f in json.load(open(sys.argv[1]))["findings"] if f["id"].endswith("-dropped")]' "$work/d.json" >"$work/fixes"
while read -r line; do N sh -c "$line"; done <"$work/fixes"
doctor; echo "RESULT nftpolicy_found=$nftpolicy nftpolicy_fixes=$(wc -l <"$work/fixes") nftpolicy_after=$(ids) nftpolicy_after_rc=$(cat "$work/d.rc")"
N nft delete table inet fw
# An accept in a base chain of earlier priority does not end the hook: the kernel still runs
# the later chain, whose maxseg clamps. Nothing to report, and the SYN proves it.
N nft -f - <<'NFT'
table inet early {
    chain out {
        type filter hook output priority -10; policy accept;
        tcp flags syn accept
    }
}
table inet late {
    chain out {
        type filter hook output priority 0; policy accept;
        tcp flags syn tcp option maxseg size set 1300
    }
}
NFT
doctor; priority_found=$(ids)
N tcpdump -i lo -n -c 1 -w "$work/lo.pcap" 'tcp[tcpflags] == tcp-syn' 2>"$work/lo.log" &
dump=$!
for _ in $(seq 50); do grep -q "listening" "$work/lo.log" && break; sleep 0.1; done
N /usr/bin/python3 -c 'import socket; s = socket.socket(); s.settimeout(2)
try: s.connect(("127.0.0.1", 9))
except OSError: pass'
for _ in $(seq 30); do kill -0 "$dump" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$dump" 2>/dev/null; wait "$dump" 2>/dev/null
echo "RESULT priority_found=$priority_found priority_syn_mss=$(tcpdump -r "$work/lo.pcap" -nv 2>/dev/null | grep -o 'mss [0-9]*' | head -1 | tr -d 'mss ')"
N nft delete table inet early; N nft delete table inet late
N sysctl -qw net.ipv4.route.min_pmtu=1400
doctor; echo "RESULT floor_rc=$(cat "$work/d.rc") floor_note=$(grep -c '"pmtu-floor-raised"' "$work/d.json")"
N sysctl -qw net.ipv4.route.min_pmtu=552
N sysctl -qw net.ipv4.ip_forward=0
doctor; echo "RESULT noforward_rc=$(cat "$work/d.rc") noforward_note=$(grep -c '"forwarding-off"' "$work/d.json")"
N sysctl -qw net.ipv4.ip_forward=1
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
trap_case v4only clamp-ipv4-only
N ip6tables -t mangle -F FORWARD; N iptables -t mangle -F FORWARD
N ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1340
trap_case v6only clamp-ipv6-only
N ip6tables -t mangle -F FORWARD; N iptables -t mangle -F FORWARD
N ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
trap_case v6value clamp-ipv6-given-ipv4-value
N ip6tables -t mangle -F FORWARD; N iptables -t mangle -F FORWARD
# Clamping rules that never run: behind an accept-everything rule, in a chain nothing jumps to.
N iptables -t mangle -A FORWARD -p tcp -m comment --comment "allow all tcp" -j ACCEPT
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
N ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1340
trap_case shadowed clamp-rule-shadowed
N iptables -t mangle -F FORWARD
N iptables -t mangle -N CLAMP
N iptables -t mangle -A CLAMP -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
trap_case unreachable clamp-rule-unreachable
N iptables -t mangle -F FORWARD; N iptables -t mangle -F CLAMP; N iptables -t mangle -X CLAMP; N ip6tables -t mangle -F FORWARD
N sysctl -qw net.ipv4.ip_no_pmtu_disc=1
trap_case nopmtu pmtu-discovery-off
# Policy-based IPsec (a tunnel-mode policy, no interface; this kernel has no ESP for SAs).
N ip xfrm policy add src 198.51.100.0/24 dst 203.0.113.0/24 dir fwd tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode tunnel
N ip xfrm policy add src 203.0.113.0/24 dst 198.51.100.0/24 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel
doctor; echo "RESULT ipsec_found=$(ids) ipsec_fix=$(fix ipsec-unclamped | cut -d' ' -f1-6 | tr ' ' '_')"
N "$bin" rules install --ipsec in --set-mss-for-tunnel esp-gcm >/dev/null 2>&1
doctor; echo "RESULT ipsec_after=$(ids)"
N "$bin" rules remove >/dev/null 2>&1
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
N ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
doctor; echo "RESULT ipsec_pmtu=$(ids)"
N iptables -t mangle -F FORWARD; N ip6tables -t mangle -F FORWARD; N ip xfrm policy flush
# mssclamp's own worker, degraded by a typo in -o: doctor says so with status's reason.
ip netns exec "$ns" "$bin" run -o wan --state-dir "$work/state" --stats-interval 0 >/dev/null 2>"$work/worker.log" &
worker=$!
for _ in $(seq 100); do grep -q "ready" "$work/worker.log" && break; sleep 0.1; done
sleep 1.2  # the state file, written every second
N timeout 30 "$bin" doctor --json --state-dir "$work/state" >"$work/d.json" 2>/dev/null; echo $? >"$work/d.rc"
echo "RESULT worker_found=$(ids) worker_rc=$(cat "$work/d.rc") worker_says=$(grep -c 'interface wan (-o) does not exist now' "$work/d.json")"
kill -TERM "$worker"; for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done; wait "$worker"
N timeout 30 "$bin" doctor --json --state-dir "$work/state" >"$work/d.json" 2>/dev/null; echo $? >"$work/d.rc"
echo "RESULT worker_stopped=$(ids) worker_stopped_rc=$(cat "$work/d.rc")"
N ip tuntap add dev tun9 mode tun
doctor; echo "RESULT tunnel_found=$(ids) tunnel_fix=$(fix tunnel-unclamped | tr ' ' '_')"
# The fix is `mssclamp run` with those flags; its rules alone are what doctor reads.
N "$bin" rules install -o tun9 --clamp-to-interface tun9 >/dev/null 2>&1
doctor; echo "RESULT tunnel_after=$(ids) tunnel_after_rc=$(cat "$work/d.rc")"
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
doctor; echo "RESULT fighting_found=$(ids) fighting_rc=$(cat "$work/d.rc")"
N "$bin" rules remove >/dev/null 2>&1
N iptables -t mangle -F FORWARD
# A clamp too high for the tunnel SYNs leave by: tun9 at MTU 1400 needs 1360 / 1340.
N ip link set tun9 mtu 1400 up
N iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
N ip6tables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1380
doctor; high=$(ids)
/usr/bin/python3 -c 'import json,sys; [print(f["fix"].split("   (")[0]) for f in json.load(open(sys.argv[1]))["findings"] if f["id"] == "clamp-too-high-for-tunnel"]' "$work/d.json" >"$work/fixes"
while read -r line; do N sh -c "$line"; done <"$work/fixes"
doctor; echo "RESULT high_found=$high high_fixes=$(wc -l <"$work/fixes") high_after=$(ids) high_after_rc=$(cat "$work/d.rc")"
N iptables -t mangle -F FORWARD; N ip6tables -t mangle -F FORWARD
# mssclamp's own policy too high for the tunnel (its worker publishes its rules): found per
# family; the worker restarted with the printed fix (clamp-to-interface) is clean.
own() {  # NAME RUN-FLAGS...
    local name=$1; shift
    ip netns exec "$ns" "$bin" run "$@" --state-dir "$work/own" --stats-interval 0 >/dev/null 2>"$work/own.log" &
    worker=$!
    for _ in $(seq 100); do grep -q "ready" "$work/own.log" && break; sleep 0.1; done
    sleep 1.2
    N timeout 30 "$bin" doctor --json --state-dir "$work/own" >"$work/d.json" 2>/dev/null; echo $? >"$work/d.rc"
    echo "RESULT ${name}_found=$(ids) ${name}_rc=$(cat "$work/d.rc") ${name}_fix=$(grep -c 'clamp-to-interface: tun9' "$work/d.json")"
    kill -TERM "$worker"; for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done; wait "$worker"; worker=
}
own ownhigh -o tun9 --set-mss 1400
own ownfixed -o tun9 --clamp-to-interface tun9
# Without root: what it can, and what it could not read.
N setpriv --reuid=65534 --regid=65534 --clear-groups timeout 30 "$bin" doctor >"$work/nobody.out" 2>&1; nobody_rc=$?
echo "RESULT nobody_rc=$nobody_rc nobody_unread=$(grep -c '^could not read: iptables-save' "$work/nobody.out") nobody_verdict=$(grep -c '^doctor: ' "$work/nobody.out") nobody_looked=$(grep -c '^doctor: could not look' "$work/nobody.out") nobody_oneline=$(grep -c '^Dump terminated' "$work/nobody.out")"

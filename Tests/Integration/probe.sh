#!/bin/bash
# `mssclamp probe` in the four-namespace lab of --learn-pmtu (scripts/lab.sh, lab_four_up),
# probing from the server s toward the client c: hop 1 is the router r, hop 2 the hop h
# whose link toward the client carries 1400, hop 3 the client.
#
#   1 announced   h sends frag-needed / packet-too-big: path MTU 1400 from hop 2 (IPv4, IPv6)
#   2 tcp         the client drops echo requests: auto falls back to TCP SYN, same answer
#   3 silent      r drops the ICMP on its way back: a black hole, found by bisection; the
#                 TTL walk names hop 2 as the last to receive 1401 (1281+: 1401) bytes
#   4 mismatch    probing from the client, whose link says 1500 to a peer taking 1400:
#                 the first link is the black hole
#   5 clean       toward the hop's far address: 1500
#   6 name        a name from the namespace's hosts file: both families
#   7 bounds      --max-probes and --rate kept (probes counted on the wire)
#   8 bad input   unresolvable name, no route, no CAP_NET_RAW, nonsense sizes: exit 2, and
#                 not one probe on the wire
#
# Prints RESULT key=value lines. Documentation addresses only; every loop bounded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lab.sh"

id="mscp$$"
work=$(mktemp -d)
down() {
    [ -n "${LAB_DUMP_PID:-}" ] && kill -KILL "$LAB_DUMP_PID" 2>/dev/null
    local ns
    for ns in c h r s x; do ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
    for ns in c h r s x; do ip netns del "$id-$ns" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && cp -r "$work" "$KEEP"; rm -rf "/etc/netns/$id-s" "$work"
}
trap down EXIT
trap 'exit 130' INT TERM
lab_four_up "$id" || exit 1
ip netns exec "$id-s" ping -c 1 -W 2 192.0.2.1 >/dev/null 2>&1
ip netns exec "$id-s" ping -6 -c 1 -W 2 2001:db8:1::1 >/dev/null 2>&1

# probe NAME NS ARGS...: runs mssclamp probe --json in NS; NAME.json, NAME.err, NAME_rc.
probe() {
    local name=$1 ns=$2; shift 2
    ip netns exec "$id-$ns" timeout 120 "$LAB_BIN" probe --json "$@" >"$work/$name.json" 2>"$work/$name.err"
    echo "RESULT ${name}_rc=$?"
}
# field NAME PYTHON-EXPRESSION over p (the first path) and j (the whole answer)
field() {
    "$LAB_PY" -c "import json,sys; j=json.load(open(sys.argv[1])); p=(j['paths'] or [{}])[0]; print($2)" "$work/$1.json" 2>/dev/null || echo error
}
summary() {  # NAME: path MTU, MSS, announcing hop, black-hole hops
    echo "RESULT $1_mtu=$(field "$1" "p.get('pathMTU')") $1_mss=$(field "$1" "p.get('mss')") $1_method=$(field "$1" "p.get('method')")"
    echo "RESULT $1_announced=$(field "$1" "'%s/%s' % (p['announcedBy']['hop'], p['announcedBy']['address']) if 'announcedBy' in p else 'none'")"
    echo "RESULT $1_blackhole=$(field "$1" "p.get('blackHole')") $1_last=$(field "$1" "(lambda w: '%s/%s' % (w['lastReceived']['hop'], w['lastReceived']['address']) if w and 'lastReceived' in w else 'none')(p.get('silentHop'))") $1_missing=$(field "$1" "(lambda w: '%s/%s/%s' % (w['firstMissing']['hop'], w['firstMissing']['address'], w['firstMissingIsDestination']) if w and 'firstMissing' in w else 'none')(p.get('silentHop'))")"
    echo "RESULT $1_probes=$(field "$1" "p.get('transmissions')")"
}

# 1. A hop that says so.
probe announced4 s 192.0.2.1; summary announced4
probe announced6 s 2001:db8:1::1; summary announced6
# The same in text, as the README shows it.
ip netns exec "$id-s" timeout 60 "$LAB_BIN" probe 192.0.2.1 >"$work/text4.txt" 2>&1
grep -q "^path MTU 1400: hop 2 (203.0.113.1) announced it (frag-needed)$" "$work/text4.txt" && t=1 || t=0
grep -q "^MSS for IPv4 SYNs on this path: 1360 (mssclamp run --clamp-to-mtu 1400)$" "$work/text4.txt" && m=1 || m=0
echo "RESULT text_announced=$t text_mss=$m"
cp "$work/text4.txt" "${PROBE_TEXT_OUT:-/dev/null}" 2>/dev/null

# 2. Echo filtered at the client: TCP SYN to 443 (closed there: the RST says it arrived).
ip netns exec "$id-c" iptables -w -A INPUT -p icmp --icmp-type echo-request -j DROP
ip netns exec "$id-c" ip6tables -w -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j DROP
probe tcp4 s 192.0.2.1; summary tcp4
probe tcp6 s 2001:db8:1::1; summary tcp6
probe icmponly s --method icmp 192.0.2.1
echo "RESULT icmponly_says=$(grep -c 'does not answer 68-byte probes (ICMP echo)' "$work/icmponly.err")"
ip netns exec "$id-c" iptables -w -F INPUT
ip netns exec "$id-c" ip6tables -w -F INPUT

# 3. The frag-needed dropped on its way back, as a filtering firewall does.
ip netns exec "$id-r" iptables -w -A FORWARD -p icmp --icmp-type fragmentation-needed -j DROP
ip netns exec "$id-r" ip6tables -w -A FORWARD -p ipv6-icmp --icmpv6-type packet-too-big -j DROP
probe silent4 s 192.0.2.1; summary silent4
probe silent6 s 2001:db8:1::1; summary silent6
ip netns exec "$id-s" timeout 120 "$LAB_BIN" probe 2001:db8:1::1 >"$work/text6.txt" 2>&1
grep -q "^black hole after hop 2 (2001:db8:3::1): it receives 1401-byte packets, hop 3 (2001:db8:1::1), the destination, never does" "$work/text6.txt" && t=1 || t=0
echo "RESULT text_blackhole=$t"
cp "$work/text6.txt" "${PROBE_BLACKHOLE_OUT:-/dev/null}" 2>/dev/null

# 7. Bounds, while the black hole makes every large probe wait: at most 5 probes, at most
# 4 per second, counted where they leave the server.
lab_dump_start "$id" "$work/bounds.pcap" "src host 198.51.100.1 and icmp[icmptype] == icmp-echo"
probe bounded s --max-probes 5 --rate 4 192.0.2.1
lab_dump_stop
echo "RESULT bounded_stopped=$(field bounded "'stopped' in p") bounded_wire=$(tcpdump -r "$work/bounds.pcap" -n 2>/dev/null | wc -l)"
echo "RESULT bounded_min_gap_ms=$(tcpdump -r "$work/bounds.pcap" -n -tt 2>/dev/null | awk 'NR > 1 { g = ($1 - last) * 1000; if (min == "" || g < min) min = g } { last = $1 } END { printf "%d", min }')"
ip netns exec "$id-r" iptables -w -F FORWARD
ip netns exec "$id-r" ip6tables -w -F FORWARD

# 4. From the client: its link says 1500, the hop's end takes 1400 (veth drops the rest).
probe mismatch4 c 198.51.100.1; summary mismatch4

# 5. A clean path: toward the hop's far side nothing is narrower than 1500.
probe clean4 s 203.0.113.1; summary clean4
probe clean6 s 2001:db8:3::1; summary clean6

# 5b. --max below the path's MTU: every size arrives, so the MTU is "at least", and no MSS
#     is concluded (it once said "the whole path carries" and suggested --clamp-to-mtu 1300).
ip netns exec "$id-s" timeout 60 "$LAB_BIN" probe --max 1300 192.0.2.1 >"$work/max.txt" 2>&1; max_rc=$?
echo "RESULT max_rc=$max_rc max_atleast=$(grep -c '^path MTU at least 1300: every size up to --max 1300 arrived' "$work/max.txt") max_no_clamp=$(grep -c 'clamp-to-mtu' "$work/max.txt")"
probe maxjson s --max 1300 192.0.2.1
echo "RESULT maxjson_mtu=$(field maxjson "p.get('pathMTU')") maxjson_mss=$(field maxjson "p.get('mss')") maxjson_reached=$(field maxjson "p.get('largestReached')")"

# 5c. An unreachable destination: the router rejects it (admin prohibited); the reason in
#     words, said once.
ip netns exec "$id-r" ip route add prohibit 203.0.113.77/32
ip netns exec "$id-s" timeout 60 "$LAB_BIN" probe 203.0.113.77 >"$work/unreach.out" 2>"$work/unreach.err"; unreach_rc=$?
echo "RESULT unreach_rc=$unreach_rc unreach_said=$(grep -c 'unreachable (communication administratively prohibited, ICMP code 13)' "$work/unreach.err") unreach_lines=$(wc -l <"$work/unreach.err")"

# 6. A name, both families (the namespace's own hosts file; DNS only on its loopback).
mkdir -p "/etc/netns/$id-s"
printf '192.0.2.1 client.lab.example\n2001:db8:1::1 client.lab.example\n' >"/etc/netns/$id-s/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$id-s/resolv.conf"
probe name s client.lab.example
echo "RESULT name_paths=$(field name "','.join('%s/%s/%s' % (q['family'], q['pathMTU'], q['mss']) for q in j['paths'])")"

# 8. Bad input: refused before anything is sent (captured where the server's probes leave).
# Probes only (echo requests, TCP): neighbour discovery may well speak meanwhile.
lab_dump_start "$id" "$work/bad.pcap" \
    "(src host 198.51.100.1 and (tcp or icmp[icmptype] == icmp-echo)) or (src host 2001:db8:2::1 and (ip6[6] == 6 or (ip6[6] == 58 and ip6[40] == 128)))"
probe unresolvable s no-such-host.lab.example
echo "RESULT unresolvable_says=$(grep -c "cannot resolve 'no-such-host.lab.example'" "$work/unresolvable.err")"
ip netns add "$id-x" && ip -n "$id-x" link set lo up
probe noroute x 192.0.2.1
echo "RESULT noroute_says=$(grep -c 'no route to 192.0.2.1' "$work/noroute.err")"
probe noroute6 x 2001:db8:1::1
ip netns exec "$id-s" setpriv --reuid=65534 --regid=65534 --clear-groups timeout 30 "$LAB_BIN" probe 192.0.2.1 >/dev/null 2>"$work/nobody.err"
echo "RESULT nobody_rc=$? nobody_says=$(grep -c 'needs CAP_NET_RAW' "$work/nobody.err")"
n=0; bad=""
for args in "--max 40" "--max 70000" "--max 1000 2001:db8:1::1" "--tries 0" "--rate 0" "--max-probes 100000" "--timeout -1" "--port 0" "--method ping" "-4 -6"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    ip netns exec "$id-s" timeout 30 "$LAB_BIN" probe $args $( [ "${args#*2001}" = "$args" ] && echo 192.0.2.1 ) >/dev/null 2>"$work/bad$n.err"
    rc=$?
    [ "$rc" = 2 ] && [ -s "$work/bad$n.err" ] || bad="$bad,${args// /_}:$rc"
done
echo "RESULT sizes_refused=${bad:-all}"
lab_dump_stop
echo "RESULT bad_input_wire=$(tcpdump -r "$work/bad.pcap" -n 2>/dev/null | wc -l)"
# The JSON's shape, on a path with an announcement and one with a black hole.
schema=$("$LAB_PY" - "$work/announced4.json" "$work/silent6.json" <<'PY'
import json, sys
def need(o, key, types, where):
    assert key in o, "%s: no %s" % (where, key)
    assert isinstance(o[key], types) and not (types is int and isinstance(o[key], bool)), "%s.%s: %r" % (where, key, o[key])
    return o[key]
for path in sys.argv[1:]:
    j = json.load(open(path))
    assert set(j) == {"paths", "failures"}, sorted(j)
    for p in need(j, "paths", list, "top"):
        for k, t in [("destination", str), ("address", str), ("family", str), ("method", str), ("source", str),
                     ("ceiling", int), ("blackHole", bool), ("transmissions", int), ("probes", list),
                     ("pathMTU", int), ("mss", int), ("largestReached", int)]:
            need(p, k, t, "path")
        assert p["family"] in ("ipv4", "ipv6") and p["method"] in ("icmp-echo", "tcp-syn")
        assert p["mss"] == p["pathMTU"] - (40 if p["family"] == "ipv4" else 60)
        assert p["transmissions"] == sum(q["tries"] for q in p["probes"])
        for q in p["probes"]:
            for k, t in [("size", int), ("ttl", int), ("method", str), ("tries", int), ("result", str)]:
                need(q, k, t, "probe")
            assert q["result"] in ("reached", "too-big", "time-exceeded", "unreachable", "silent")
            assert ("from" in q) == (q["result"] != "silent")
            assert q["result"] != "too-big" or isinstance(q["mtu"], int)
        if p["blackHole"]:
            w = need(p, "silentHop", dict, "path")
            need(w, "size", int, "silentHop"); need(w, "firstMissing", dict, "silentHop")
        else:
            need(need(p, "announcedBy", dict, "path"), "address", str, "announcedBy")
print("ok")
PY
)
echo "RESULT schema=${schema:-failed}"

exit 0

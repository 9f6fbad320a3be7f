#!/usr/bin/env bash
# Captures a real Linux TCP handshake (IPv4 and IPv6) between two network namespaces that this
# script creates, with tcpdump on the server side. Output: OUTDIR/handshake-ipv4.pcap and
# OUTDIR/handshake-ipv6.pcap. Needs root. Documentation addresses only; everything it creates
# is removed on exit, even on failure. Every wait is bounded.
#
# Client ports are fixed (40001 for IPv4, 40002 for IPv6) so the replay is reproducible.
set -euo pipefail
outdir=${1:?usage: capture-handshake.sh OUTDIR}
mkdir -p "$outdir"
id="msc$$"
client="$id-c"; server="$id-s"
py=/usr/bin/python3

cleanup() {
    set +e
    for pid in $(jobs -p); do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$client" 2>/dev/null
    ip netns del "$server" 2>/dev/null
}
trap cleanup EXIT INT TERM

ip netns add "$client"
ip netns add "$server"
ip link add veth-c netns "$client" type veth peer name veth-s netns "$server"
for ns in "$client" "$server"; do ip -n "$ns" link set lo up; done
ip -n "$client" addr add 192.0.2.1/24 dev veth-c
ip -n "$server" addr add 192.0.2.2/24 dev veth-s
ip -n "$client" addr add 2001:db8::1/64 dev veth-c nodad
ip -n "$server" addr add 2001:db8::2/64 dev veth-s nodad
ip -n "$client" link set veth-c up
ip -n "$server" link set veth-s up
# veth hands partial checksums to its peer; a real wire carries final ones. Turn offload off
# so the capture holds what a router would see.
ip netns exec "$client" ethtool -K veth-c tx off >/dev/null
ip netns exec "$server" ethtool -K veth-s tx off >/dev/null

# A one-connection server per family, bounded to 10 s.
serve='
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.settimeout(10); c.recv(100); c.sendall(b"hello"); c.close()
'
connect='
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(10)
s.bind(("", int(sys.argv[2]))); s.connect((sys.argv[1], 8080)); s.sendall(b"hi"); s.recv(100); s.close()
'

capture() {  # family server-address client-port file
    local log="$outdir/.tcpdump-$1.log"
    ip netns exec "$server" tcpdump -i veth-s --immediate-mode -U -n -w "$4" "tcp port 8080" 2>"$log" &
    local dump=$!
    for _ in $(seq 100); do grep -q "listening on" "$log" 2>/dev/null && break; sleep 0.05; done
    ip netns exec "$server" "$py" -c "$serve" "$2" &
    local srv=$!
    sleep 0.2
    ip netns exec "$client" timeout 15 "$py" -c "$connect" "$2" "$3"
    wait "$srv"
    sleep 0.2
    # SIGTERM, not SIGINT: a non-interactive shell starts background jobs with SIGINT ignored.
    kill -TERM "$dump" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$dump" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$dump" 2>/dev/null || true
    wait "$dump" 2>/dev/null || true
    rm -f "$log"
}

capture ipv4 192.0.2.2 40001 "$outdir/handshake-ipv4.pcap"
capture ipv6 2001:db8::2 40002 "$outdir/handshake-ipv6.pcap"

# A three-namespace lab for mssclamp: client — router — server, over veth. Source it.
#
#   client  c0 192.0.2.1/24    2001:db8:1::1/64  --  vpn0 192.0.2.254    2001:db8:1::fe  router
#   router  eth0 198.51.100.254/24 2001:db8:2::fe --  s0  198.51.100.1/24 2001:db8:2::1   server
#
# The router's link toward the client can be given a smaller MTU (a tunnel's); the client's
# side keeps 1500, so the client announces MSS 1460 as a host behind a VPN gateway does.
# Documentation addresses only. Every name starts with the lab id; lab_down removes it all.

LAB_PY=/usr/bin/python3
LAB_BIN=${MSSCLAMP_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/debug/mssclamp}

lab_up() {  # ID [MTU of the router's client-facing link]
    local id=$1 mtu=${2:-1500}
    ip netns add "$id-c" && ip netns add "$id-r" && ip netns add "$id-s" || return 1
    ip link add c0 netns "$id-c" type veth peer name vpn0 netns "$id-r"
    ip link add eth0 netns "$id-r" type veth peer name s0 netns "$id-s"
    local ns
    for ns in c r s; do ip -n "$id-$ns" link set lo up; done
    ip -n "$id-c" addr add 192.0.2.1/24 dev c0
    ip -n "$id-c" addr add 2001:db8:1::1/64 dev c0 nodad
    ip -n "$id-r" addr add 192.0.2.254/24 dev vpn0
    ip -n "$id-r" addr add 2001:db8:1::fe/64 dev vpn0 nodad
    ip -n "$id-r" addr add 198.51.100.254/24 dev eth0
    ip -n "$id-r" addr add 2001:db8:2::fe/64 dev eth0 nodad
    ip -n "$id-s" addr add 198.51.100.1/24 dev s0
    ip -n "$id-s" addr add 2001:db8:2::1/64 dev s0 nodad
    ip -n "$id-r" link set vpn0 mtu "$mtu"
    ip -n "$id-c" link set c0 up; ip -n "$id-r" link set vpn0 up
    ip -n "$id-r" link set eth0 up; ip -n "$id-s" link set s0 up
    ip -n "$id-c" route add default via 192.0.2.254
    ip -n "$id-c" -6 route add default via 2001:db8:1::fe
    ip -n "$id-s" route add default via 198.51.100.254
    ip -n "$id-s" -6 route add default via 2001:db8:2::fe
    ip netns exec "$id-r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # Final checksums on the wire, as on a real link (veth would pass partial ones along).
    ip netns exec "$id-c" ethtool -K c0 tx off >/dev/null
    ip netns exec "$id-r" ethtool -K vpn0 tx off >/dev/null
    ip netns exec "$id-r" ethtool -K eth0 tx off >/dev/null
    ip netns exec "$id-s" ethtool -K s0 tx off >/dev/null
    # No segmentation offload either: the black hole needs real 1500-byte segments.
    ip netns exec "$id-s" ethtool -K s0 tso off gso off >/dev/null 2>&1 || true
    # Scenarios craft SYNs from source ports 40000-47999 and tell them apart by port: the
    # client's own connections must never be given one (a real connection on 41082 once
    # counted as a crafted SYN). Reserved ports are only left out of automatic choice.
    ip netns exec "$id-c" sysctl -qw net.ipv4.ip_local_reserved_ports=40000-47999
    # Resolve neighbours now, so no test's first SYN waits in (or is lost to) discovery.
    ip netns exec "$id-c" ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1
    ip netns exec "$id-c" ping -6 -c 1 -W 2 2001:db8:2::1 >/dev/null 2>&1
    return 0
}

# The four-namespace lab of --learn-pmtu and probe: a hop between the client and the router
# whose link toward the client carries 1400 while the client's side says 1500.
#
#   client c0 192.0.2.1 2001:db8:1::1 -- h0 (MTU 1400) hop h1 203.0.113.1 2001:db8:3::1
#     -- r1 203.0.113.254 2001:db8:3::fe  router  r2 198.51.100.254 2001:db8:2::fe -- s0 server
#
# Namespaces ID-c, ID-h, ID-r, ID-s; the caller removes them.
lab_four_up() {  # ID
    local id=$1 ns
    for ns in c h r s; do ip netns add "$id-$ns" || return 1; ip -n "$id-$ns" link set lo up; done
    ip link add c0 netns "$id-c" type veth peer name h0 netns "$id-h"
    ip link add h1 netns "$id-h" type veth peer name r1 netns "$id-r"
    ip link add r2 netns "$id-r" type veth peer name s0 netns "$id-s"
    lab_four_addr c c0 192.0.2.1/24 2001:db8:1::1/64
    lab_four_addr h h0 192.0.2.254/24 2001:db8:1::fe/64
    lab_four_addr h h1 203.0.113.1/24 2001:db8:3::1/64
    lab_four_addr r r1 203.0.113.254/24 2001:db8:3::fe/64
    lab_four_addr r r2 198.51.100.254/24 2001:db8:2::fe/64
    lab_four_addr s s0 198.51.100.1/24 2001:db8:2::1/64
    ip -n "$id-h" link set h0 mtu 1400
    ip -n "$id-c" route add default via 192.0.2.254
    ip -n "$id-c" -6 route add default via 2001:db8:1::fe
    ip -n "$id-h" route add default via 203.0.113.254
    ip -n "$id-h" -6 route add default via 2001:db8:3::fe
    ip -n "$id-r" route add 192.0.2.0/24 via 203.0.113.1
    ip -n "$id-r" -6 route add 2001:db8:1::/64 via 2001:db8:3::1
    ip -n "$id-s" route add default via 198.51.100.254
    ip -n "$id-s" -6 route add default via 2001:db8:2::fe
    for ns in h r; do ip netns exec "$id-$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; done
    return 0
}

lab_four_addr() {  # NS IFACE IPV4/LEN IPV6/LEN (id from the caller)
    ip -n "$id-$1" addr add "$3" dev "$2"; ip -n "$id-$1" addr add "$4" dev "$2" nodad; ip -n "$id-$1" link set "$2" up
    ip netns exec "$id-$1" ethtool -K "$2" tx off tso off gso off >/dev/null 2>&1
}

# Starts a scenario script: sets id (PREFIX + pid) and work (a temporary directory), builds
# the lab, and arranges that the worker, the lab and the directory go on any exit.
lab_begin() {  # PREFIX [MTU]
    id="$1$$"
    work=$(mktemp -d)
    trap '[ -n "${LAB_WORKER_PID:-}" ] && kill -KILL "$LAB_WORKER_PID" 2>/dev/null; lab_down $id; rm -rf $work' EXIT
    trap 'exit 130' INT TERM
    lab_up "$id" "${2:-1500}"
}

lab_down() {  # ID
    local id=$1 ns
    for ns in c r s x y; do ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
    for ns in c r s x y; do ip netns del "$id-$ns" 2>/dev/null; done
    return 0
}

# The router swallows "fragmentation needed" / "packet too big" instead of sending them back
# to the server: the filtered-ICMP half of an MTU black hole.
lab_block_ptb() {  # ID
    ip netns exec "$1-r" iptables -w -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
    ip netns exec "$1-r" ip6tables -w -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
}

# Waits (bounded) until FILE contains TEXT.
lab_wait_for() {  # FILE TEXT [TENTHS]
    local i
    for i in $(seq "${3:-100}"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# Starts tcpdump on the server's interface (or NS/IFACE given); sets LAB_DUMP_PID.
# Stop with lab_dump_stop.
# A 32 MB buffer: a capture beside the VM lab's emulator on two cores can go unscheduled for
# seconds; at 10k packets/s the default 2 MB dropped (its count is in FILE.log at the stop).
# Started with SIGTERM and SIGINT unblocked (under swift test they come blocked, see
# lab_stop): a capture stopped by SIGTERM writes its summary, what it dropped among it; one
# that had to be killed says nothing of it.
lab_dump_start() {  # ID FILE FILTER [NS-SUFFIX IFACE]
    ip netns exec "$1-${4:-s}" "$LAB_PY" -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
os.execvp(sys.argv[1], sys.argv[1:])' tcpdump -i "${5:-s0}" -B 32768 --immediate-mode -U -n -w "$2" "$3" 2>"$2.log" &
    LAB_DUMP_PID=$!
    lab_wait_for "$2.log" "listening on" 100
}

lab_dump_stop() {
    sleep 0.3
    lab_stop "$LAB_DUMP_PID"
}

# What a stopped capture missed: tcpdump's "N packets dropped by kernel", or "unknown" when
# it did not say (killed before its summary): never a 0 it did not report.
lab_dump_dropped() {  # FILE
    sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$1.log" | tail -1 | grep . || echo unknown
}

# Stops a background helper: SIGTERM, up to 5 s, then SIGKILL. Never a bare `kill; wait`:
# under swift test every lab starts with SIGTERM and SIGINT blocked (Foundation's Process
# hands its mask on), so a helper that does not unblock them never hears them.
lab_stop() {  # PID
    kill -TERM "$1" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# MSS values of the SYNs (or SYN-ACKs with "ack") in a capture, one per line, in order.
lab_syn_mss() {  # FILE [ack]
    local ack=0
    [ "${2:-}" = ack ] && ack=1
    tshark -r "$1" -Y "tcp.flags.syn==1 && tcp.flags.ack==$ack" -T fields -e tcp.options.mss_val 2>/dev/null
}

# "SOURCEPORT:MSS" for each SYN in a capture ("none" when it has no MSS option).
lab_syn_port_mss() {  # FILE
    tshark -r "$1" -Y "tcp.flags.syn==1 && tcp.flags.ack==0" -T fields -e tcp.srcport -e tcp.options.mss_val 2>/dev/null |
        awk -F'\t' '{ print $1 ":" ($2 == "" ? "none" : $2) }'
}

# Sends COUNT crafted IPv4 SYNs (MSS 1460) to the server's port 9 as fast as one process can,
# from source ports 20000-21023, over a raw socket with prebuilt packets. Bounded to 120 s.
lab_burst() {  # ID COUNT
    ip netns exec "$1-c" timeout 120 "$LAB_PY" -c '
import socket, struct, sys
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16: total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff
src, dst = socket.inet_aton("192.0.2.1"), socket.inet_aton("198.51.100.1")
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
packets = []
for i in range(1024):
    tcp = struct.pack("!HHIIBBHHH", 20000 + i, 9, 1, 0, 6 << 4, 0x02, 64240, 0, 0) + b"\x02\x04\x05\xb4"
    tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    packets.append(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i, 0x4000, 64, 6, 0, src, dst) + tcp)
for n in range(int(sys.argv[1])):
    s.sendto(packets[n % 1024], ("198.51.100.1", 0))' "$2"
}

# Sends crafted IPv4 SYNs (MSS 1460) to the server's port 9 at RATE a second for SECONDS,
# paced per millisecond, each with its own sequence number (source ports 20000-21023) so
# captures on both sides can be paired. Bounded in count and time.
lab_paced_syns() {  # ID RATE SECONDS
    ip netns exec "$1-c" timeout $(( $3 + 30 )) "$LAB_PY" -c '
import socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16: total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
src, dst = socket.inet_aton("192.0.2.1"), socket.inet_aton("198.51.100.1")
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def syn(n):
    tcp = struct.pack("!HHIIBBHHH", 20000 + n % 1024, 9, n, 0, 6 << 4, 0x02, 64240, 0, 0) + b"\x02\x04\x05\xb4"
    tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), n & 0xffff, 0x4000, 64, 6, 0, src, dst) + tcp
total, start, n = int(rate * seconds), time.monotonic(), 0
while n < total:
    due = min(total, int((time.monotonic() - start) * rate) + 1)
    while n < due:
        s.sendto(syn(n), ("198.51.100.1", 0)); n += 1
    time.sleep(0.0005)
    if time.monotonic() - start > seconds + 20: break
print(n)' "$2" "$3"
}

# Starts mssclamp run in the router with ARGS; sets LAB_WORKER_PID; waits until ready.
lab_worker_start() {  # ID LOG ARGS...
    local id=$1 log=$2
    shift 2
    ip netns exec "$id-r" "$LAB_BIN" run --stats-interval 0 "$@" 2>"$log" &
    LAB_WORKER_PID=$!
    lab_wait_for "$log" "ready" 150 || { cat "$log" >&2; return 1; }
}

# SIGTERM to the worker and its exit status (bounded wait).
lab_worker_stop() {
    kill -TERM "$LAB_WORKER_PID" 2>/dev/null
    local i
    for i in $(seq 150); do kill -0 "$LAB_WORKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LAB_WORKER_PID" 2>/dev/null
    wait "$LAB_WORKER_PID"
}

# Sends crafted SYNs from the client with scapy: ADDRESS then MSS values ("none" for no
# option). Each from its own source port, starting at PORT.
lab_send_syns() {  # ID ADDRESS PORT MSS...
    local id=$1 address=$2 port=$3
    shift 3
    ip netns exec "$id-c" timeout 30 "$LAB_PY" -c '
import sys
from scapy.all import IP, IPv6, TCP, send, conf
conf.verb = 0
address, port = sys.argv[1], int(sys.argv[2])
for index, mss in enumerate(sys.argv[3:]):
    ip = IPv6(dst=address) if ":" in address else IP(dst=address)
    options = [] if mss == "none" else [("MSS", int(mss))]
    send(ip / TCP(sport=port + index, dport=9, flags="S", seq=1, options=options))
' "$address" "$port" "$@" 2>&1 | grep -v WARNING
}

# A TCP connection from the client, announcing MSS (TCP_MAXSEG) if given. Bounded to 10 s.
lab_connect() {  # ID ADDRESS PORT [MSS]
    ip netns exec "$1-c" timeout 10 "$LAB_PY" -c '
import socket, sys
address, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
if len(sys.argv) > 3: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, int(sys.argv[3]))
s.settimeout(5)
try:
    s.connect((address, port))
except (ConnectionRefusedError, OSError):
    pass
s.close()
' "$2" "$3" ${4:+"$4"}
}

# A download from the server to the client: SIZE bytes from a listener on ADDRESS:PORT in
# the server, fetched by the client. Prints "BYTES SECONDS"; a black hole shows as fewer
# bytes than SIZE (the fetch gives up after 3 s without data). The client retries its
# connect until the listener is up (bounded), so nothing waits on a guessed sleep.
lab_download() {  # ID ADDRESS PORT SIZE
    local id=$1 address=$2 port=$3 size=$4 server
    ip netns exec "$id-s" timeout 40 "$LAB_PY" -c '
import socket, sys
address, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, port)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(20)
try:
    c.sendall(b"x" * size)
except OSError:
    pass
c.close()
' "$address" "$port" "$size" &
    server=$!
    ip netns exec "$id-c" timeout 30 "$LAB_PY" -c '
import socket, sys, time
address, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in address else socket.AF_INET
for attempt in range(50):
    s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(5)
    try:
        s.connect((address, port)); break
    except ConnectionRefusedError:
        s.close(); time.sleep(0.1)
else:
    print(0, 0); sys.exit()
s.settimeout(3)
got, start = 0, time.time()
while time.time() - start < 15:
    try:
        data = s.recv(65536)
    except socket.timeout:
        break
    if not data:
        break
    got += len(data)
print(got, "%.3f" % (time.time() - start))
' "$address" "$port" 2>/dev/null || echo "0 0"
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    return 0
}

# A server in ID-s (or NS-SUFFIX) giving 1 MB to whoever connects to PORT (both families,
# at most 300 s); a stalled send is reset, not retransmitted for minutes. Sets
# LAB_SERVER_PID; the caller kills it (the lab's namespaces going do too).
lab_mb_server() {  # ID [PORT] [NS-SUFFIX] [ADDRESS]
    ip netns exec "$1-${3:-s}" timeout 300 "$LAB_PY" -c '
import socket, struct, sys, threading
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind((sys.argv[2], int(sys.argv[1]))); s.listen(16)
def serve(c):
    c.settimeout(6)
    try:
        c.sendall(b"x" * 1048576)
    except OSError:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "${2:-8080}" "${4:-::}" &
    LAB_SERVER_PID=$!
    sleep 0.5
}

# Bytes of a 1 MB download from ADDRESS:PORT the client (or NS-SUFFIX) got within SECONDS;
# with IDLE, the client reads nothing for IDLE seconds first (its window closes).
lab_fetch() {  # ID ADDRESS [SECONDS] [PORT] [NS-SUFFIX] [IDLE]
    ip netns exec "$1-${5:-c}" timeout 30 "$LAB_PY" -c '
import socket, sys, time
a, limit, port, idle = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(limit)
got = 0
try:
    s.connect((a, port))
    time.sleep(idle)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        data = s.recv(65536)
        if not data: break
        got += len(data)
except OSError: pass
print(got)' "$2" "${3:-6}" "${4:-8080}" "${6:-0}"
}


# The tunnel lab's pieces, sourced by scenario-tunnels.sh and scenario-demo-ipsec.sh (inside
# the VM, after agent.sh): the namespaces, each tunnel's up and down, the MTU bisection, the
# download, and the gateway's mssclamp policy. The picture and its reasons are in
# scenario-tunnels.sh.
lab_run=/run/vmlab
mkdir -p "$lab_run"

tunnels_net_up() {
    ip netns add cli; ip netns add srv
    ip link add eth1 type veth peer name u0 netns cli
    ip link add eth0 type veth peer name s0 netns srv
    ip addr add 192.0.2.1/24 dev eth1; ip -6 addr add 2001:db8:1::1/64 dev eth1 nodad
    ip addr add 203.0.113.1/24 dev eth0; ip -6 addr add 2001:db8:2::1/64 dev eth0 nodad
    ip link set eth1 up; ip link set eth0 up
    ip -n cli addr add 192.0.2.2/24 dev u0; ip -n cli -6 addr add 2001:db8:1::2/64 dev u0 nodad
    ip -n srv addr add 203.0.113.2/24 dev s0; ip -n srv -6 addr add 2001:db8:2::2/64 dev s0 nodad
    for ns in cli srv; do ip -n $ns link set lo up; done
    ip -n cli link set u0 up; ip -n srv link set s0 up
    ip -n srv route add default via 203.0.113.1; ip -n srv -6 route add default via 2001:db8:2::1
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # The server's network drops what would have told it to send smaller segments.
    ip netns exec srv iptables-nft -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP
    ip netns exec srv ip6tables-nft -A INPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
    # The underlay drops fragments, in both directions, before reassembly could see them.
    for side in "" "ip netns exec cli"; do
        local dev=eth1; [ -n "$side" ] && dev=u0
        $side nft -f - <<NFT
table netdev labfrag {
    chain in {
        type filter hook ingress device "$dev" priority -500; policy accept;
        ip frag-off & 0x3fff != 0 counter drop
        exthdr frag exists counter drop
    }
}
NFT
    done
    ip netns exec srv python3 "$lab/download.py" >"$lab_run/server.out" 2>&1 &
    # Policy-based IPsec's client addresses live on a dummy device (its traffic selectors);
    # route-based tunnels put theirs on the tunnel.
    ip -n cli link add inner type dummy
    local t
    for t in esp4 esp6 espnatt4; do
        client_addresses $t
        ip -n cli addr add $c4/32 dev inner; ip -n cli -6 addr add $c6/128 dev inner nodad
    done
    ip -n cli link set inner up
    lab_net_check
}

# client_addresses TUNNEL: sets c4 / c6, that tunnel's client inside it. Each tunnel has its
# own, so the policy that clamps one tunnel's client leaves the next one's alone.
client_addresses() {
    local i
    i=$(echo "wg4 wg6 gre4 gre6 vxlan4 vxlan6 ovpn4 ovpn6 esp4 esp6 espnatt4" | tr ' ' '\n' | grep -nx "$1" | cut -d: -f1)
    c4=198.51.100.$(( 100 + i )) c6=2001:db8:100::$(( 100 + i ))
}

flush_pmtu() {  # learned path MTUs, everywhere: one tunnel's must not shape the next one's figures
    ip route flush cache; ip -6 route flush cache
    ip -n cli route flush cache; ip -n cli -6 route flush cache
}

# reaches FAMILY SIZE: a DF echo of SIZE bytes (whole IP packet) from the gateway's server-side
# address to the client's inner address, answered. Route-based tunnels get SIZE as their MTU on
# both ends first: WireGuard pads to 16 bytes but never past the MTU, so the figure that
# matters is the largest MTU whose full-sized packets cross, not the largest packet under a
# roomier MTU.
reaches() {
    if [ -n "$gw_if" ] && [ "${mtu_now:-}" != "$2" ]; then
        ip link set "$gw_if" mtu "$2"; ip -n cli link set "$cli_if" mtu "$2"; mtu_now=$2
    fi
    # One lost echo must not shrink the figure: a miss is asked again, waiting longer.
    local wait
    for wait in 0.5 1; do
        if [ "$1" = 4 ]; then ping -n -q -c 1 -W $wait -M do -s $(( $2 - 28 )) -I 203.0.113.1 $c4 >/dev/null 2>&1
        else ping -6 -n -q -c 1 -W $wait -M do -s $(( $2 - 48 )) -I 2001:db8:2::1 $c6 >/dev/null 2>&1; fi && return 0
    done
    return 1
}

# edge FAMILY SIZE: SIZE crosses and one byte more does not (1500 has no more to try).
edge() { reaches "$1" "$2" && { [ "$2" = 1500 ] || ! reaches "$1" $(( $2 + 1 )); }; }

# largest GUESS: the largest packet that crosses, over IPv4 inside and over IPv6 inside
# ("V4 V6"; 0: nothing crosses). The guess (the calculator's figure) is tried first as an edge,
# four echoes; when it is not the edge, bisection over 1400..1500 finds the real one.
largest() {
    local lo=1400 hi=1501 mid i family out=
    mtu_now=
    for i in 1 2 3 4 5 6 7 8; do reaches 4 1400 && break; sleep 0.5; done
    for family in 4 6; do
        if edge $family "$1"; then out+="$1 "; continue; fi
        lo=1400 hi=1501
        reaches $family $lo || { out+="0 "; continue; }
        while [ $(( hi - lo )) -gt 1 ]; do
            mid=$(( (lo + hi) / 2 ))
            if reaches $family $mid; then lo=$mid; else hi=$mid; fi
        done
        out+="$lo "
    done
    echo "$out"
}

# download FAMILY SECONDS: "BYTES CONNECTED" (the body's bytes received within SECONDS; 1 when
# the handshake completed, so a stall is told from a tunnel that carries nothing).
download() {
    local url=http://203.0.113.2:8080/1M
    [ "$1" = 6 ] && url="http://[2001:db8:2::2]:8080/1M"
    ip netns exec cli curl -s -o /dev/null -w '%{size_download} %{time_connect}' --max-time "$2" "$url" 2>/dev/null |
        awk '{print $1, ($2 > 0 ? 1 : 0)}'
}

both_downloads() {  # SECONDS: "v4bytes,v6bytes connected-count", the two at once
    download 4 "$1" >"$lab_run/dl4" & local p4=$!
    download 6 "$1" >"$lab_run/dl6" & local p6=$!
    wait $p4 $p6
    cat "$lab_run/dl4" "$lab_run/dl6" | awk '{b = b (NR > 1 ? "," : "") $1; c += $2} END {print b, c}'
}

# What a failed transfer leaves to read: interface counters, the underlay's dropped fragments,
# the routes, and the underlay's packets during a short retry.
diagnose() {  # NAME
    {
        [ -n "$gw_if" ] && ip -s link show "$gw_if" && ip -n cli -s link show "$cli_if"
        ip route get $c4 from 203.0.113.2 iif eth0; ip -6 route get $c6 from 2001:db8:2::2 iif eth0
        nft list table netdev labfrag | grep counter
        timeout 8 tcpdump -ni eth1 -c 30 -v 2>&1 &
        sleep 1; both_downloads 4 >/dev/null; wait
    } 2>&1 | sed "s/^/$1: /" >&3
}

# ---- the tunnels: up NAME OUTER sets gw_if (empty for policy-based IPsec) and cli_if ----
underlay() {  # OUTER -> "gateway client" underlay addresses
    if [ "$1" = ipv4 ]; then echo "192.0.2.1 192.0.2.2"; else echo "2001:db8:1::1 2001:db8:1::2"; fi
}

inner_addresses() {  # routes and addresses inside a route-based tunnel
    ip addr add 198.51.100.1/24 dev "$gw_if"; ip -6 addr add 2001:db8:100::1/64 dev "$gw_if" nodad
    ip -n cli addr add $c4/24 dev "$cli_if" 2>/dev/null; ip -n cli -6 addr add $c6/64 dev "$cli_if" nodad 2>/dev/null
    ip link set "$gw_if" up; ip -n cli link set "$cli_if" up
    ip -n cli route replace 203.0.113.0/24 via 198.51.100.1 dev "$cli_if" src $c4
    ip -n cli -6 route replace 2001:db8:2::/64 via 2001:db8:100::1 dev "$cli_if" src $c6
}

wireguard_up() {
    local a; read -r -a a <<<"$(underlay "$1")"
    local gk ck; gk=$(wg genkey); ck=$(wg genkey)
    ip link add wg0 type wireguard; ip -n cli link add wg0 type wireguard
    wg set wg0 listen-port 51820 private-key <(echo "$gk") \
        peer "$(echo "$ck" | wg pubkey)" allowed-ips $c4/32,$c6/128
    local endpoint="${a[0]}:51820"; [ "$1" = ipv6 ] && endpoint="[${a[0]}]:51820"
    ip netns exec cli wg set wg0 private-key <(echo "$ck") \
        peer "$(echo "$gk" | wg pubkey)" endpoint "$endpoint" allowed-ips 203.0.113.0/24,198.51.100.1/32,2001:db8:2::/64,2001:db8:100::1/128
    gw_if=wg0; cli_if=wg0; inner_addresses
    # The gateway learns the client's endpoint from its first handshake.
    ip netns exec cli ping -n -q -c 1 -W 2 198.51.100.1 >/dev/null
}
wireguard_down() { ip link del wg0; ip -n cli link del wg0; }

gre_up() {
    local a kind=gre; read -r -a a <<<"$(underlay "$1")"
    [ "$1" = ipv6 ] && kind=ip6gre
    ip link add gre1 type $kind local "${a[0]}" remote "${a[1]}"
    ip -n cli link add gre1 type $kind local "${a[1]}" remote "${a[0]}"
    gw_if=gre1; cli_if=gre1; inner_addresses
}
gre_down() { ip link del gre1; ip -n cli link del gre1; }

vxlan_up() {
    local a; read -r -a a <<<"$(underlay "$1")"
    ip link add vx0 type vxlan id 42 dstport 4789 local "${a[0]}" remote "${a[1]}"
    ip -n cli link add vx0 type vxlan id 42 dstport 4789 local "${a[1]}" remote "${a[0]}"
    gw_if=vx0; cli_if=vx0; inner_addresses
}
vxlan_down() { ip link del vx0; ip -n cli link del vx0; }

openvpn_up() {
    local a proto=udp4; read -r -a a <<<"$(underlay "$1")"
    [ "$1" = ipv6 ] && proto=udp6
    # TLS mode (AES-GCM needs it), certificates pinned by fingerprint, OpenVPN's own MSS
    # clamping (mssfix) off: the lab shows what happens without a clamp, then with mssclamp.
    local common=(--dev tun0 --dev-type tun --proto $proto --data-ciphers AES-128-GCM --tun-mtu 1600 --mssfix 0
        --topology p2p --daemon --verb 3 --ping 10)
    openvpn "${common[@]}" --local "${a[0]}" --lport 1194 --tls-server --dh none \
        --cert "$lab/ovpn-server.crt" --key "$lab/ovpn-server.key" --peer-fingerprint "$(cat "$lab/ovpn-client.fp")" \
        --ifconfig 198.51.100.1 $c4 --ifconfig-ipv6 2001:db8:100::1/64 $c6 \
        --writepid "$lab_run/ovpn-gw.pid" --log "$lab_run/ovpn-gw.log"
    ip netns exec cli openvpn "${common[@]}" --remote "${a[0]}" 1194 --nobind --tls-client \
        --cert "$lab/ovpn-client.crt" --key "$lab/ovpn-client.key" --peer-fingerprint "$(cat "$lab/ovpn-server.fp")" \
        --ifconfig $c4 198.51.100.1 --ifconfig-ipv6 $c6/64 2001:db8:100::1 \
        --writepid "$lab_run/ovpn-cli.pid" --log "$lab_run/ovpn-cli.log"
    local i
    for i in $(seq 150); do
        grep -q "Initialization Sequence Completed" "$lab_run/ovpn-cli.log" 2>/dev/null &&
            grep -q "Initialization Sequence Completed" "$lab_run/ovpn-gw.log" 2>/dev/null && break
        sleep 0.2
    done
    grep -h "Data Channel: cipher\|peer-id\|Initialization Sequence" "$lab_run"/ovpn-*.log | sed 's/^/openvpn: /' >&3
    gw_if=tun0; cli_if=tun0
    ip -n cli route replace 203.0.113.0/24 via 198.51.100.1 dev tun0 src $c4
    ip -n cli -6 route replace 2001:db8:2::/64 via 2001:db8:100::1 dev tun0 src $c6
}
openvpn_down() {
    kill "$(cat "$lab_run/ovpn-gw.pid")" "$(cat "$lab_run/ovpn-cli.pid")" 2>/dev/null
    local i; for i in $(seq 50); do ip link show tun0 >/dev/null 2>&1 || ip -n cli link show tun0 >/dev/null 2>&1 || break; sleep 0.2; done
    rm -f "$lab_run"/ovpn-*
}

# strongSwan: one charon for the gateway (root namespace, /etc/swanctl) and one for the client
# (its own namespace and mount namespace: /run private, /etc/netns/cli/swanctl as /etc/swanctl).
# Policy-based, as strongSwan is by default: no tunnel interface, and the gateway's route
# toward the client is the underlay's, MTU 1500.
swanctl_conf() {  # ROLE: the connections for the gateway (responder) or the client (initiator)
    local me=gw peer=client l4=192.0.2.1 r4=192.0.2.2 l6=2001:db8:1::1 r6=2001:db8:1::2
    [ "$1" = client ] && me=client peer=gw l4=192.0.2.2 r4=192.0.2.1 l6=2001:db8:1::2 r6=2001:db8:1::1
    echo "connections {"
    # The client has one connection per child; the gateway one per address family, whose
    # children (each tunnel's client addresses) it tells apart by traffic selector.
    local conn children local remote encap
    for conn in v4 v4natt v6; do
        children=$conn local=$l4 remote=$r4 encap=no
        [ $conn = v6 ] && local=$l6 remote=$r6
        [ $conn = v4natt ] && encap=yes
        if [ "$1" = gw ]; then
            [ $conn = v4natt ] && continue
            [ $conn = v4 ] && children="v4 v4natt"
        fi
        cat <<CONF
    $conn {
        version = 2
        local_addrs = $local
        remote_addrs = $remote
        proposals = aes128-sha256-ecp256
        encap = $encap
        local {
            auth = psk
            id = $me
        }
        remote {
            auth = psk
            id = $peer
        }
        children {
CONF
        local child lts rts servers=203.0.113.0/24,2001:db8:2::/64
        for child in $children; do
            client_addresses "$(ipsec_tunnel $child)"
            lts=$servers rts=$c4/32,$c6/128
            [ "$1" = client ] && lts=$c4/32,$c6/128 rts=$servers
            cat <<CONF
            $child {
                local_ts = $lts
                remote_ts = $rts
                esp_proposals = aes128gcm16
                mode = tunnel
            }
CONF
        done
        echo "        }"
        echo "    }"
    done
    cat <<CONF
}
secrets {
    ike-lab {
        id-gw = gw
        id-client = client
        secret = mssclamp-lab-psk
    }
}
CONF
}

charons_up() {
    swanctl_conf gw >/etc/swanctl/swanctl.conf
    mkdir -p /etc/netns/cli/swanctl
    swanctl_conf client >/etc/netns/cli/swanctl/swanctl.conf
    /usr/lib/ipsec/charon >"$lab_run/charon-gw.log" 2>&1 &
    # ip netns exec, unshare and bash each exec the next: $! ends up charon's own pid.
    ip netns exec cli unshare -m --propagation private bash -c \
        'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' >"$lab_run/charon-cli.log" 2>&1 &
    cli_charon=$!
    local i
    for i in $(seq 100); do
        swanctl --stats >/dev/null 2>&1 && cli_swanctl --stats >/dev/null 2>&1 && break
        sleep 0.2
    done
    swanctl --load-all >/dev/null; cli_swanctl --load-all >/dev/null
}
cli_swanctl() { nsenter -t "$cli_charon" -m -n swanctl "$@"; }  # in the client charon's namespaces
charons_down() {
    pkill -f "^/usr/lib/ipsec/charon"
    local i; for i in $(seq 50); do pgrep -f "^/usr/lib/ipsec/charon" >/dev/null || break; sleep 0.2; done
}

ipsec_tunnel() { case $1 in v4) echo esp4 ;; v6) echo esp6 ;; v4natt) echo espnatt4 ;; esac; }  # child -> lab name

ipsec_up() {  # OUTER [natt]
    ipsec_child=v4; [ "$1" = ipv6 ] && ipsec_child=v6; [ "${2:-}" = natt ] && ipsec_child=v4natt
    cli_swanctl --initiate --child $ipsec_child --timeout 30 >"$lab_run/initiate.log" 2>&1
    result "ipsec_${ipsec_child}_initiate=$?"
    ip xfrm state | grep -E "^src|proto esp|aead|encap" | sed 's/^/xfrm: /' >&3
    gw_if=; cli_if=
}
ipsec_down() { cli_swanctl --terminate --ike $ipsec_child --timeout 30 >/dev/null 2>&1; }
esp_up() { ipsec_up "$1"; }
esp_down() { ipsec_down; }
espnatt_up() { ipsec_up "$1" natt; }
espnatt_down() { ipsec_down; }

# ---- mssclamp: running all along (one start; a reload is what an operator does). Its policy
# covers one tunnel's client at a time: the previous tunnel's client while this one's download
# stalls ("without"), then this one's with the calculator's number ("with") ----
policy() {  # STACK/OUTER (for the client in c4 / c6), or "none"
    if [ "$1" = none ]; then
        printf 'rules:\n  - name: elsewhere\n    source: 192.0.2.254/32\n    set-mss: 1360\n'
    else
        printf 'rules:\n  - name: tunnel\n    source: [%s/32, "%s/128"]\n    set-mss-for-tunnel: %s\n' "$c4" "$c6" "$1"
    fi >/etc/mssclamp.yaml
}
reload_policy() {  # STACK/OUTER | none: returns once the service runs the new policy
    policy "$1"
    # The unit's ExecReload (`mssclamp reload`) returns when the worker has confirmed the
    # new policy in force, and fails when it kept the old one: nothing to poll.
    timeout 120 systemctl reload mssclamp
}


# ---- the IPsec selector (`ipsec: in`): the IPsec client's SYNs are clamped, a plain forwarded
# SYN is not (the server calling the client's underlay address: forwarded, no IPsec either
# side). The first ipsec: rule needs a restart (the worker binds its class queues at start) ----
syn_mss() {  # PCAP: "source>mss" per SYN seen, sorted, comma-separated
    tcpdump -nr "$1" 2>/dev/null | awk '/Flags \[S\],/ {
        src = $3; sub(/\.[0-9]+$/, "", src); m = "none"
        if (match($0, /mss [0-9]+/)) m = substr($0, RSTART + 4, RLENGTH - 4)
        print src ">" m }' | sort -u | paste -sd, -
}
# readme_recipe NAME: the README's YAML recipe of that name (the block after
# `<!-- recipe: NAME -->`), as an operator copies it into /etc/mssclamp.yaml.
readme_recipe() {
    awk -v marker="<!-- recipe: $1 -->" '$0 == marker {found = 1; next}
        found && /^```yaml$/ {inside = 1; next} inside && /^```$/ {exit} inside {print}' "$lab/README.md"
}

# recipe_check NAME RECIPE: the README's recipe as written, applied by `systemctl reload`,
# and the download through the tunnel that stalled without it.
recipe_check() {  # NAME RECIPE
    local name=$1 got rc
    readme_recipe "$2" >/etc/mssclamp.yaml
    [ -s /etc/mssclamp.yaml ] || { result "${name}_recipe=missing"; return; }
    timeout 120 systemctl reload mssclamp; rc=$?
    got=$(both_downloads 60)
    # Back to a policy for nobody: a recipe covers every client, and the next tunnel (gre6
    # after gre4 makes a gre1 again) must stall before its own policy.
    reload_policy none; local back=$?
    result "${name}_recipe=${got% *} ${name}_recipe_rc=$rc ${name}_recipe_back=$back"
}

ipsec_selector() {  # NAME STACK/OUTER [BACKEND]
    local name=$1 stack=$2 backend=${3:-} restarted rules with d1 d2 a expected m4 m6
    # Plain ESP: the README's strongSwan recipe as written; NAT-T: its stack named.
    if [ "$name" = esp4 ]; then
        readme_recipe strongswan >/etc/mssclamp.yaml
    else
        printf 'rules:\n  - name: from-ipsec\n    ipsec: in\n    set-mss-for-tunnel: %s\n' "$stack" >/etc/mssclamp.yaml
    fi
    [ -n "$backend" ] && echo "MSSCLAMP_OPTIONS=\"--backend $backend\"" >/etc/default/mssclamp
    systemctl restart mssclamp; restarted=$?
    rules=$({ iptables -w -t mangle -S MSSCLAMP 2>/dev/null; nft list table inet mssclamp 2>/dev/null; } |
        grep -cE -- '-m policy --dir in --pol ipsec|meta (ipsec|secpath) exists')
    ip netns exec srv tcpdump -ni s0 -s 160 -U -w "$lab_run/sel-srv.pcap" 'tcp dst port 8080' 2>/dev/null & d1=$!
    ip netns exec cli tcpdump -ni u0 -s 160 -U -w "$lab_run/sel-cli.pcap" 'tcp dst port 9' 2>/dev/null & d2=$!
    sleep 1.5
    with=$(both_downloads 60)
    for a in 192.0.2.2 2001:db8:1::2; do
        ip netns exec srv timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(1)
s.connect_ex((sys.argv[1], 9))' "$a"
    done
    sleep 1; kill "$d1" "$d2" 2>/dev/null; wait "$d1" "$d2" 2>/dev/null
    read -r m4 m6 <<<"$(mssclamp mss --tunnel "${stack%/*}" --outer "${stack#*/}" --json | grep -oE '"mss_ipv[46]":[0-9]+' | cut -d: -f2 | paste -sd' ')"
    expected="$c4>$m4,$c6>$m6"
    result "${name}_selector_restart=$restarted ${name}_selector_rules=$rules ${name}_selector_with=${with% *}"
    result "${name}_selector_ipsec=$(syn_mss "$lab_run/sel-srv.pcap") ${name}_selector_expected=$expected"
    result "${name}_selector_plain=$(syn_mss "$lab_run/sel-cli.pcap")"
    # doctor on a gateway with real SAs: the stack read from them, nothing to fix (mssclamp
    # clamps with ipsec: in).
    mssclamp doctor --json >"$lab_run/doctor.json" 2>/dev/null; local doctor_rc=$?
    # (python3-minimal has no json module: the one-line JSON, keys sorted, read with grep.)
    local ids stack
    ids=$(grep -oE '"id":"[^"]*","severity":"(warning|error)"' "$lab_run/doctor.json" | cut -d'"' -f4 | sort | paste -sd, -)
    stack=$(grep -oE '\(([^,()]+), from the SAs\)' "$lab_run/doctor.json" | head -1 | sed -E 's/^\(([^,]+),.*/\1/')
    result "${name}_doctor_rc=$doctor_rc ${name}_doctor_ids=${ids:-none} ${name}_doctor_stack=${stack:-none}"
    # Back to the lab's own service: the next tunnel's first download must stall again.
    echo 'MSSCLAMP_OPTIONS=""' >/etc/default/mssclamp
    policy none
    systemctl restart mssclamp
}

# ---- clamp-to-interface with real WireGuard: the gateway's wg0 changes MTU, then is deleted
# and made again (new keys, another MTU), each followed by downloads at once; every SYN the
# server sees must carry the MSS of wg0's MTU at that moment ----
follow_wireguard() {  # NAME OUTER
    local name=$1 outer=$2 d v4 v6 mtu metric followed logged
    printf 'rules:\n  - name: follow\n    clamp-to-interface: wg0\n' >/etc/mssclamp.yaml
    timeout 120 systemctl reload mssclamp
    ip netns exec srv tcpdump -ni s0 -s 160 -U -w "$lab_run/follow.pcap" 'tcp dst port 8080' 2>/dev/null & d=$!
    sleep 1.5
    local w1 w2 w3
    w1=$(both_downloads 30)                                   # wg0 as the lab set it (computed)
    ip link set wg0 mtu 1380; w2=$(both_downloads 30)         # changed while up
    # The monitor logs what it samples once a second: give it the second before wg0 goes.
    for _ in $(seq 30); do
        jlog -o cat | grep -q 'clamp-to-interface wg0: MTU 1380' && break
        sleep 0.1
    done
    wireguard_down; wireguard_up "$outer"                     # deleted and made again
    ip link set wg0 mtu 1400; ip -n cli link set wg0 mtu 1500; w3=$(both_downloads 30)
    sleep 1.5
    metric=$(curl -s --max-time 5 http://127.0.0.1:9815/metrics | awk '/^mssclamp_interface_mtu\{interface="wg0"\}/ {print $2 + 0}')
    followed=$(mssclamp status | grep -c 'followed *wg0: MTU 1400, MSS 1360 (IPv4) / 1340 (IPv6)')
    logged=$(jlog -o cat | grep -c 'clamp-to-interface wg0: MTU 1380, MSS 1340 (IPv4) / 1320 (IPv6)')
    sleep 0.5; kill "$d" 2>/dev/null; wait "$d" 2>/dev/null
    # The MSS of each SYN the server saw, in order, per family.
    v4=$(tcpdump -nr "$lab_run/follow.pcap" 2>/dev/null | awk '/^[0-9:.]+ IP .*Flags \[S\],/ && match($0, /mss [0-9]+/) {print substr($0, RSTART + 4, RLENGTH - 4)}' | paste -sd, -)
    v6=$(tcpdump -nr "$lab_run/follow.pcap" 2>/dev/null | awk '/^[0-9:.]+ IP6 .*Flags \[S\],/ && match($0, /mss [0-9]+/) {print substr($0, RSTART + 4, RLENGTH - 4)}' | paste -sd, -)
    result "${name}_follow_downloads=${w1% *}/${w2% *}/${w3% *} ${name}_follow4=$v4 ${name}_follow6=$v6"
    result "${name}_follow_metric=$metric ${name}_follow_status=$followed ${name}_follow_log=$logged"
    reload_policy none
}

# ---- probe through a real tunnel, from the server's side: the server's network drops the
# frag-needed / packet-too-big the gateway sends, so larger probes vanish; probe must find
# the tunnel's inner MTU by bisection and name the gateway (hop 1) as the last to receive
# them ----
probe_tunnel() {  # NAME
    local name=$1 family dest rc json mtu hole last
    for family in 4 6; do
        dest=$c4; [ $family = 6 ] && dest=$c6
        json="$lab_run/probe$family.json"
        ip netns exec srv timeout 120 mssclamp probe --json -$family "$dest" >"$json" 2>"$lab_run/probe$family.err"; rc=$?
        mtu=$(grep -oE '"pathMTU":[0-9]+' "$json" | head -1 | cut -d: -f2)
        hole=$(grep -oE '"blackHole":(true|false)' "$json" | head -1 | cut -d: -f2)
        last=$(grep -oE '"lastReceived":\{"address":"[^"]*","hop":[0-9]+\}' "$json" | head -1 | sed -E 's/.*"address":"([^"]*)","hop":([0-9]+).*/\1\/\2/')
        result "${name}_probe${family}=${mtu:-none} ${name}_probe${family}_rc=$rc ${name}_probe${family}_hole=${hole:-none} ${name}_probe${family}_last=${last:-none}"
        sed "s/^/$name probe -$family: /" "$lab_run/probe$family.err" >&3
    done
    ip netns exec srv timeout 120 mssclamp probe -4 "$c4" 2>&1 | sed "s/^/$name probe: /" >&3
}

# ---- doctor on a gateway with a real WireGuard / GRE tunnel (the kernel's own link kinds):
# nothing clamping; the printed fix as the service's policy; mssclamp's own value too high;
# someone's TCPMSS too high, then its printed fixes applied ----
doctor_ids() {  # -> the ids of findings to fix, sorted, comma-separated ("none")
    mssclamp doctor --json >"$lab_run/doctor.json" 2>/dev/null
    local ids
    ids=$(grep -oE '"id":"[^"]*","severity":"(warning|error)"' "$lab_run/doctor.json" | cut -d'"' -f4 | sort | paste -sd, -)
    echo "${ids:-none}"
}
doctor_tunnel() {  # NAME (gw_if: the tunnel)
    local name=$1 unclamped fixed own tcpmss after fix i
    # A stopped service leaves its safety net clamping (by design): `rules remove` takes it.
    systemctl stop mssclamp; mssclamp rules remove >/dev/null 2>&1
    unclamped=$(doctor_ids)
    fix=$(grep -c "\"fix\":\"mssclamp run -o $gw_if --clamp-to-interface $gw_if" "$lab_run/doctor.json")
    printf 'rules:\n  - name: tunnel\n    out-interface: %s\n    clamp-to-interface: %s\n' "$gw_if" "$gw_if" >/etc/mssclamp.yaml
    systemctl start mssclamp; sleep 1.5   # its state, published once a second
    fixed=$(doctor_ids)
    printf 'rules:\n  - name: tunnel\n    set-mss: 1460\n' >/etc/mssclamp.yaml
    systemctl restart mssclamp; sleep 1.5
    own=$(doctor_ids)
    systemctl stop mssclamp; mssclamp rules remove >/dev/null 2>&1
    iptables -w -t mangle -A FORWARD -o "$gw_if" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1460
    ip6tables -w -t mangle -A FORWARD -o "$gw_if" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1440
    tcpmss=$(doctor_ids)
    grep -oE '"fix":"[^"]*","id":"clamp-too-high-for-tunnel"' "$lab_run/doctor.json" | sed -E 's/^"fix":"//; s/   \(.*//' >"$lab_run/fixes"
    while read -r i; do sh -c "$i"; done <"$lab_run/fixes"
    after=$(doctor_ids)
    result "${name}_doctor_unclamped=$unclamped ${name}_doctor_fix=$fix ${name}_doctor_fixed=$fixed ${name}_doctor_own=$own"
    result "${name}_doctor_tcpmss=$tcpmss ${name}_doctor_fixes=$(wc -l <"$lab_run/fixes") ${name}_doctor_after=$after"
    for i in iptables ip6tables; do
        $i -w -t mangle -S FORWARD | grep -- '-j TCPMSS' | sed 's/^-A //' | while read -r rule; do eval "$i -w -t mangle -D $rule"; done
    done
    policy none
    systemctl start mssclamp
}

# tunnel NAME KIND STACK OUTER: one tunnel, measured, then the download without and with,
# then its extras (scenario-tunnels.sh says which tunnel has which). tunnel_extras=recipe
# keeps only the README's recipe (the Debian 13 scenario).
tunnel() {
    local name=$1 kind=$2 stack=$3 outer=$4 computed m4 m6 without with start=$(now_ms)
    flush_pmtu
    client_addresses "$name"
    ${kind}_up "$outer"
    computed=$(mssclamp mss --tunnel "$stack" --outer "$outer" --json | grep -o '"inner_mtu":[0-9]*' | cut -d: -f2)
    read -r m4 m6 <<<"$(largest "$computed")"
    result "${name}_measured4=$m4 ${name}_measured6=$m6 ${name}_computed=$computed ${name}_stack=$stack/$outer"
    # As deployed: the gateway's tunnel MTU is the calculator's, the client believes 1500.
    if [ -n "$gw_if" ]; then ip link set "$gw_if" mtu "$computed"; ip -n cli link set "$cli_if" mtu 1500; fi
    flush_pmtu
    local t0=$(now_ms) t1 t2 t3 t4
    without=$(both_downloads 3)
    t1=$(now_ms); reload_policy "$stack/$outer"; local reloaded=$?; t2=$(now_ms)
    with=$(both_downloads 60)
    t3=$(now_ms)
    result "${name}_without=${without% *} ${name}_without_connected=${without#* } ${name}_with=${with% *} ${name}_reloaded=$reloaded"
    [ "${with% *}" = 1048576,1048576 ] || diagnose "$name"
    # probe, from the server's side, finds the MTU and the gateway as the black hole; doctor
    # reads the real WireGuard and GRE links.
    local all=1 full=1; [ "${tunnel_extras:-all}" = recipe ] && all=
    [ -f "$lab/quick" ] && full=   # make test's quick set: gre4's probe and doctor repeat wg4's
    [ -n "$all" ] && case $name in wg4 | esp4) probe_tunnel "$name" ;; gre4) [ -n "$full" ] && probe_tunnel "$name" ;; esac
    [ -n "$all" ] && case $name in wg4) doctor_tunnel "$name" ;; gre4) [ -n "$full" ] && doctor_tunnel "$name" ;; esac
    # The README's recipes as written (the strongSwan one is the IPsec selector's policy).
    case $name in
    wg4) recipe_check "$name" wireguard ;;
    gre4) recipe_check "$name" gre ;;
    ovpn4) recipe_check "$name" openvpn ;;
    esac
    # The IPsec selector instead of the client's addresses: iptables-nft (the default), and
    # the native nftables table with NAT-T.
    [ -n "$all" ] && case $name in
    wg4) follow_wireguard "$name" "$outer" ;;
    esp4) ipsec_selector "$name" "$stack/$outer" ;;
    espnatt4) ipsec_selector "$name" "$stack/$outer" nftables ;;
    esac
    ${kind}_down
    t4=$(now_ms)
    result "${name}_seconds=$(( (t4 - start) / 1000 )) ${name}_ms=measure:$((t0 - start)),without:$((t1 - t0)),reload:$((t2 - t1)),with:$((t3 - t2)),after:$((t4 - t3))"
}

# ---- a PPPoE uplink (the README's pppoe recipe): the gateway dials a PPPoE concentrator in
# namespace bras (pppoe-server, kernel-mode PPPoE) and reaches a server behind it, psrv
# 203.0.113.130, through ppp0 (MTU 1492, as PPPoE's 8 bytes leave of 1500). The server drops
# frag-needed, as in the rest of the lab; the client (cli, 192.0.2.2 on the LAN side, MSS 1460)
# downloads from it. IPv4 only: the black hole is the MTU's, not the family's ----
pppoe_up() {
    local plugin i
    modprobe -q pppoe
    plugin=$(ls /usr/lib/pppd/*/pppoe.so /usr/lib/pppd/*/rp-pppoe.so 2>/dev/null | head -1)
    # Debian 13's pppoe-server starts its pppd with plugin /etc/ppp/plugins/rp-pppoe.so, a
    # path its packages do not ship (pppd: "Couldn't load plugin"): point it at pppd's own.
    [ -e /etc/ppp/plugins/rp-pppoe.so ] || { mkdir -p /etc/ppp/plugins; ln -s "$plugin" /etc/ppp/plugins/rp-pppoe.so; }
    ip netns add bras; ip netns add psrv
    ip link add ppe0 type veth peer name ppe1 netns bras
    ip link set ppe0 up; ip -n bras link set ppe1 up; ip -n bras link set lo up
    ip -n bras link add b0 type veth peer name ps0 netns psrv
    ip -n bras addr add 203.0.113.129/25 dev b0; ip -n bras link set b0 up
    ip -n psrv addr add 203.0.113.130/25 dev ps0; ip -n psrv link set ps0 up; ip -n psrv link set lo up
    ip -n psrv route add default via 203.0.113.129
    ip netns exec bras sysctl -qw net.ipv4.ip_forward=1
    ip netns exec psrv iptables-nft -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP
    ip netns exec psrv python3 "$lab/download.py" >"$lab_run/pppoe-server.out" 2>&1 &
    printf 'noauth\nmtu 1492\nmru 1492\nnoproxyarp\nlcp-echo-interval 0\ndebug\nlogfile %s\n' "$lab_run/pppd-server.log" >"$lab_run/pppoe-server-options"
    ip netns exec bras pppoe-server -k -I ppe1 -L 198.51.100.254 -R 198.51.100.253 -N 1 -O "$lab_run/pppoe-server-options"
    pppd plugin "$plugin" nic-ppe0 ifname ppp0 noauth noproxyarp nodefaultroute noipdefault mtu 1492 mru 1492 \
        lcp-echo-interval 0 updetach >"$lab_run/pppd.out" 2>&1
    for i in $(seq 100); do ip -4 addr show dev ppp0 2>/dev/null | grep -q 'inet ' && break; sleep 0.2; done
    ip route add 203.0.113.128/25 dev ppp0
    for i in $(seq 50); do ip -n bras -4 addr show 2>/dev/null | grep -q 'inet 198.51.100.254' && break; sleep 0.2; done
    ip -n bras route add 192.0.2.0/24 dev "$(ip -n bras -o -4 addr show | awk '/198\.51\.100\.254/ {print $2}')"
    ip -n cli route replace 203.0.113.128/25 via 192.0.2.1
    ip netns exec cli ping -n -q -c 1 -W 3 203.0.113.130 >/dev/null 2>&1
}
pppoe_down() {
    pkill -x pppd; ip netns pids bras | xargs -r kill; ip netns pids psrv | xargs -r kill
    sleep 0.5; ip link del ppe0 2>/dev/null; ip netns del bras; ip netns del psrv
}
pppoe_download() {  # SECONDS: the body's bytes received
    ip netns exec cli curl -s -o /dev/null -w '%{size_download}' --max-time "$1" http://203.0.113.130:8080/1M 2>/dev/null
}
# pppoe_check: the download without a rule for this client (stalls), then with the README's
# pppoe recipe as written (completes), and the MSS the server saw.
pppoe_check() {
    local mtu without with rc syns d
    pppoe_up
    mtu=$(cat /sys/class/net/ppp0/mtu 2>/dev/null)
    reload_policy none
    without=$(pppoe_download 3)
    readme_recipe pppoe >/etc/mssclamp.yaml
    timeout 120 systemctl reload mssclamp; rc=$?
    ip netns exec psrv tcpdump -ni ps0 -s 160 -U -w "$lab_run/pppoe.pcap" 'tcp dst port 8080' 2>/dev/null & d=$!
    sleep 1.5
    with=$(pppoe_download 60)
    sleep 0.5; kill "$d" 2>/dev/null; wait "$d" 2>/dev/null
    syns=$(syn_mss "$lab_run/pppoe.pcap")
    result "pppoe_mtu=${mtu:-none} pppoe_without=${without:-0} pppoe_recipe=${with:-0} pppoe_recipe_rc=$rc pppoe_syns=${syns:-none}"
    if [ -z "$mtu" ]; then
        { cat "$lab_run/pppd.out" "$lab_run/pppd-server.log"; journalctl -b -o cat -t pppd -t pppoe-server | tail -30; } 2>&1 | sed 's/^/pppd: /' >&3
    fi
    pppoe_down
    reload_policy none
}

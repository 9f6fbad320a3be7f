#!/bin/bash
# Runs inside the Debian VM (systemd as PID 1, Debian's kernel), started at every boot by
# vm-agent.service from the lab disk mounted at /mnt/lab. The VM's root namespace is the
# router; the client and server are namespaces around it:
#
#   client 198.51.100.2 / 2001:db8:100::2 --c0--r-cli-- [router] --eth0--s0-- server 203.0.113.2 / 2001:db8:2::2
#
# The package's own policy (/etc/mssclamp.yaml: forwarded SYNs above 1340 -> 1360 / 1340)
# clamps as shipped; the router's server-side link is named eth0 as on a real gateway. What the server receives is counted by MSS in its own firewall
# (iptables in its namespace), so "clamped" is read on the far side.
#
# Reports `RESULT key=value` lines on the second serial port; the host judges them.
# scenario (file on the lab disk): one or more of iptables-nft | nftables | iptables-legacy |
# tunnels | debian13 | demo-ipsec, run in order in this VM (a boot under emulation costs a
# minute or more): each begins with a `SCENARIO name` line and ends with `END`, and the
# system is put back between them (package purged, lab network gone).
set -u
exec 3>/dev/ttyS1
# Every command on the console (the first serial port): what the host shows when a
# scenario does not finish.
exec 2>/dev/ttyS0
PS4='+ $(cut -d" " -f1 /proc/uptime) '
set -x
lab=/mnt/lab
state=/var/lib/vmlab
mkdir -p "$state"
scenarios=$(cat "$lab/scenario")
say() { echo "$*" >&3; }
result() { say "RESULT $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Off at once once everything is said and synced: an orderly shutdown took about a minute
# under TCG, and nothing is judged after END. (A scenario's reboot stays orderly.)
power_off() { sync; systemctl poweroff --force --force; exit 0; }
# A scenario that cannot go on: the rest of this VM's scenarios are not run (the host says so).
finish() { say "END phase=$phase"; power_off; }
# The service's journal since this scenario began (this boot only), so that a scenario after
# another in the same VM counts its own lines. By time, not by cursor: systemd 252's
# `--after-cursor` with a unit filter skips the first matching line when the cursor's own
# line is another unit's (it steps twice), and `-p err` then found nothing.
jlog() {
    if [ -n "$jsince" ]; then journalctl -b -u mssclamp --no-pager --since "@$jsince" "$@"; else journalctl -b -u mssclamp --no-pager "$@"; fi
}

net_up() {
    ip netns add cli; ip netns add srv
    ip link add r-cli type veth peer name c0 netns cli
    ip link add eth0 type veth peer name s0 netns srv
    ip addr add 198.51.100.1/24 dev r-cli; ip -6 addr add 2001:db8:100::1/64 dev r-cli nodad
    ip addr add 203.0.113.1/24 dev eth0; ip -6 addr add 2001:db8:2::1/64 dev eth0 nodad
    ip link set r-cli up; ip link set eth0 up
    ip -n cli addr add 198.51.100.2/24 dev c0; ip -n cli -6 addr add 2001:db8:100::2/64 dev c0 nodad
    ip -n srv addr add 203.0.113.2/24 dev s0; ip -n srv -6 addr add 2001:db8:2::2/64 dev s0 nodad
    for ns in cli srv; do ip -n $ns link set lo up; done
    ip -n cli link set c0 up; ip -n srv link set s0 up
    ip -n cli route add default via 198.51.100.1; ip -n cli -6 route add default via 2001:db8:100::1
    ip -n srv route add default via 203.0.113.1; ip -n srv -6 route add default via 2001:db8:2::1
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # The server counts every SYN it receives, and those at each MSS of interest.
    for t in iptables-nft ip6tables-nft; do
        ip netns exec srv $t -A INPUT -p tcp --syn -m comment --comment total
        for m in 1460 1440 1360 1350 1340 1330; do
            ip netns exec srv $t -A INPUT -p tcp --syn -m tcpmss --mss $m -m comment --comment mss$m
        done
    done
}

# counts: "v4_total=.. v4_1460=.. ... v6_total=.." from the server's counters.
counts() {
    local t f
    for f in 4 6; do
        t=iptables-nft; [ $f = 6 ] && t=ip6tables-nft
        ip netns exec srv $t -nvxL INPUT | awk -v f=$f '/\/\* (total|mss[0-9]+) \*\// {
            for (i = 1; i <= NF; i++) if ($i == "/*") name = $(i + 1); sub(/^mss/, "", name); printf "v%s_%s=%s ", f, name, $1 }'
    done
}
counter() { counts | tr ' ' '\n' | sed -n "s/^$1=//p"; }
zero() { ip netns exec srv iptables-nft -Z INPUT; ip netns exec srv ip6tables-nft -Z INPUT; }

# flow SECONDS: SYNs from the client over both families in the background (20/s each).
flow() {
    ip netns exec cli python3 "$lab/syns.py" 203.0.113.2 80 --seconds "$1" --rate 20 >"$state/flow4" &
    flow4=$!
    ip netns exec cli python3 "$lab/syns.py" 2001:db8:2::2 80 --seconds "$1" --rate 20 >"$state/flow6" &
    flow6=$!
}
# tally NAME: once the flow ends, what the server saw: unclamped (the client's own MSS,
# 1460 / 1440), lost (sent, never arrived) and the total, beside the client's own summary.
tally() {
    local name=$1 sent client total unclamped
    wait $flow4 $flow6
    client=$(cat "$state/flow4" "$state/flow6" | tr ' ' '\n' | awk -F= '{s[$1] += $2} END {printf "sent=%d,answered=%d,lost=%d", s["sent"], s["answered"], s["lost"]}')
    sent=$(cat "$state/flow4" "$state/flow6" | tr ' ' '\n' | awk -F= '$1 == "sent" {s += $2} END {print s + 0}')
    total=$(( $(counter v4_total) + $(counter v6_total) ))
    unclamped=$(( $(counter v4_1460) + $(counter v6_1440) ))
    result "${name}_client=$client ${name}_server_total=$total ${name}_unclamped=$unclamped ${name}_lost=$(( sent - total ))"
    result "${name}_counts: $(counts)"
}
# probe NAME N: N SYNs per family, sent and counted now.
probe() {
    zero
    ip netns exec cli python3 "$lab/syns.py" 203.0.113.2 80 --count "$2" --rate 50 >"$state/flow4" & flow4=$!
    ip netns exec cli python3 "$lab/syns.py" 2001:db8:2::2 80 --count "$2" --rate 50 >"$state/flow6" & flow6=$!
    tally "$1"
}

rulesets() {  # the whole firewall as the kernel holds it (no counters, no timestamps)
    nft list ruleset 2>/dev/null | grep -v "^#"
    # x_tables keeps a table once created (until its module is unloaded): a legacy table
    # without a rule changes nothing and is left out.
    if [ -e /proc/net/ip_tables_names ]; then
        { iptables-legacy-save; ip6tables-legacy-save; } 2>/dev/null | grep -v "^#" | sed 's/ \[[0-9]*:[0-9]*\]$//' |
            awk '/^\*/ {block = $0; rules = 0; next} /^COMMIT/ {if (rules) print block "\n" body "COMMIT"; body = ""; next}
                 {body = body $0 "\n"; if (/^-A /) rules = 1}'
    fi
}

wait_active() {  # seconds
    local i
    for i in $(seq $(( $1 * 5 ))); do systemctl is-active -q mssclamp && return 0; sleep 0.2; done
    return 1
}

# lab_net_check: the server's link made afresh in this scenario's namespace (a leftover eth0
# from an earlier scenario would make `ip link add` fail and leave an old server answering).
lab_net_check() {
    local fresh=1
    ip -n srv -o -4 addr show dev s0 2>/dev/null | grep -q ' 203\.0\.113\.2/' || fresh=0
    [ "$(ip -o link show type veth | grep -c '^[0-9]*: eth0@')" = 1 ] || fresh=0
    result "lab_net_fresh=$fresh"
    [ $fresh = 1 ] || { ip -o link show; ip netns list; } | sed 's/^/lab net: /' >&3
}

install_deb() {  # path: as an operator does, apt with a local file; returns apt's status
    local start=$(now_ms) rc
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >"$state/apt.log" 2>&1; rc=$?
    result "$2_apt=$rc $2_ms=$(( $(now_ms) - start ))"
    [ $rc = 0 ] || { tail -20 "$state/apt.log" | sed 's/^/apt: /' >&3; finish; }
}

status_check() {  # name
    mssclamp status >"$state/status.out" 2>&1; local rc=$?
    result "$1_status=$rc"
    [ $rc = 0 ] || sed "s/^/status: /" "$state/status.out" >&3
}

service_facts() {  # name: readiness timing, journal checks, memory
    local pid exec_us ready_us
    pid=$(systemctl show -p MainPID --value mssclamp)
    exec_us=$(systemctl show -p ExecMainStartTimestampMonotonic --value mssclamp)
    ready_us=$(systemctl show -p ActiveEnterTimestampMonotonic --value mssclamp)
    result "$1_type=$(systemctl show -p Type --value mssclamp) $1_exec_to_ready_ms=$(( (ready_us - exec_us) / 1000 )) $1_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status) $1_hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status) $1_user=$(ps -o user= -p $pid)"
    result "$1_priority_noise=$(jlog -o cat | grep -c 'Failed to set thread priority') $1_errors=$(jlog -o cat -p err | grep -vc '^$')"
    jlog -o cat -p warning | tail -6 | sed 's/^/journal: /' >&3
}

wait_journal() {  # text seconds: until the service's journal (this boot) says it
    local i
    for i in $(seq $(( $2 * 5 ))); do jlog -o cat | grep -q "$1" && return 0; sleep 0.2; done
    return 1
}

start_flow_then() {  # name command...: SYNs flowing from 2 s before a change until 2 s after it
    local name=$1; shift
    zero
    flow 300
    sleep 2
    local start=$(now_ms)
    "$@" >"$state/change.log" 2>&1
    result "${name}_change_rc=$? ${name}_change_ms=$(( $(now_ms) - start ))"
    sleep 2
    stop_flow
    tally "$name"
}

stop_flow() { kill -TERM $flow4 $flow6 2>/dev/null; }

# The firewall's own reload, then until mssclamp has put its rules back: the window in
# which SYNs pass unclamped.
nft_reload_until_repaired() {
    local before i
    before=$(jlog -o cat | grep -c 'rules: reinstalled')
    systemctl reload nftables || return 1
    for i in $(seq 600); do
        [ "$(jlog -o cat | grep -c 'rules: reinstalled')" -gt "$before" ] && return 0
        sleep 0.2
    done
    return 1
}

# Between two scenarios in one VM: what the last one left goes (the package purged with its
# configuration and drop-ins, the lab's namespaces and links, its fragment filter).
reset_system() {
    local t
    DEBIAN_FRONTEND=noninteractive apt-get purge -y mssclamp >/dev/null 2>&1
    rm -rf /etc/systemd/system/mssclamp.service.d; systemctl daemon-reload
    # A namespace lives on while a process is in it (a lab's download server): deleting its
    # name alone left the stall lab's server, its link and its address answering the next
    # scenario's clients, so the tunnel lab's "without" downloads completed through it.
    local ns link i
    for ns in $(ip netns list | awk '{print $1}'); do ip netns pids "$ns" | xargs -r kill -9 2>/dev/null; done
    # The lab's links in this namespace are deleted here, by kind: deleting one end of a veth
    # deletes its peer wherever it is. Leaving them to the kernel's teardown of the dead
    # namespaces (bounded wait of 10 s) was not enough: on CI, with the VM at nice 19 beside
    # the swift tests, the tunnel scenario after the stall lab still met an eth0 (lab_net_fresh=0).
    # (The VM has no NIC of its own: every such link here is a lab's.)
    local kind
    for kind in veth wireguard gre ip6gre gretap vxlan tun; do
        for link in $(ip -o link show type $kind | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$link" 2>/dev/null; done
    done
    ip -all netns delete 2>/dev/null
    for i in $(seq 50); do [ -z "$(ip -o link show type veth)" ] && break; sleep 0.2; done
    ip -o link show type veth | sed 's/^/reset: veth left: /' >&3
    nft delete table netdev labfrag 2>/dev/null
    ip xfrm policy flush; ip xfrm state flush
    # iptables as Debian sets it up (nf_tables), x_tables' rules gone and its modules out.
    update-alternatives --quiet --auto iptables; update-alternatives --quiet --auto ip6tables
    if [ -e /proc/net/ip_tables_names ] || [ -e /proc/net/ip6_tables_names ]; then
        for t in iptables-legacy ip6tables-legacy; do $t -F 2>/dev/null; $t -t mangle -F 2>/dev/null; done
        modprobe -r iptable_mangle iptable_filter ip6table_mangle ip6table_filter ip_tables ip6_tables 2>/dev/null
    fi
    # What the package's removal left in the firewall, said (it should leave nothing).
    nft list ruleset 2>/dev/null | grep -n mssclamp | sed 's/^/reset: left in nft: /' >&3
    sync
}

for scenario in $scenarios; do
    grep -qx "$scenario" "$state/done" 2>/dev/null && continue
    phase=$(cat "$state/phase" 2>/dev/null || echo 1)
    # After a reboot (phase 2 on) the whole boot's journal is the scenario's. Otherwise from
    # the next whole second: everything the last scenario logged is before it.
    jsince=; [ "$phase" = 1 ] && { sleep 1; jsince=$(date +%s); }
    say "SCENARIO $scenario"
    say "AGENT scenario=$scenario phase=$phase kernel=$(uname -r) pid1=$(cat /proc/1/comm) uptime=$(cut -d' ' -f1 /proc/uptime)"
    source "$lab/scenario-$scenario.sh"
    say "END phase=$phase"
    echo "$scenario" >>"$state/done"; rm -f "$state/phase"
    reset_system
done
power_off

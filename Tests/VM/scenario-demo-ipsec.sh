# make demo-ipsec: the classic IPsec black hole and its fix, told as an operator meets it.
# A strongSwan gateway (IKEv2, kernel ESP tunnel mode, AES-128-GCM, policy-based: no tunnel
# interface, so the route toward the client says MTU 1500), a client whose side believes 1500,
# a server behind a network that drops ICMP frag-needed / packet-too-big. Sourced by agent.sh;
# the story goes out as DEMO lines (vmlab.sh prints them), the verdict as a RESULT.
source "$lab/tunnel-lab.sh"
demo() { say "DEMO $*"; }

# fetch FAMILY: "  IPv4 203.0.113.2   server saw MSS 1460   0 bytes in 4.0 s  STALLED"
fetch() {
    local family=$1 url=http://203.0.113.2:8080/1M dst=203.0.113.2 syn="tcp[13] & 0x12 == 0x02" out bytes seconds mss verdict
    # The SYN as the server receives it (BPF reads IPv6's TCP flags by offset: 40 + 13).
    [ "$family" = 6 ] && url="http://[2001:db8:2::2]:8080/1M" dst=2001:db8:2::2 syn="ip6[6] == 6 and ip6[53] & 0x12 == 0x02"
    ip netns exec srv timeout 15 tcpdump -ni s0 -c 1 -v "$syn" >"$lab_run/syn$family" 2>/dev/null &
    sleep 1
    out=$(ip netns exec cli curl -s -o /dev/null -w '%{size_download} %{time_total}' --max-time 5 "$url" 2>/dev/null)
    read -r bytes seconds <<<"$out"
    sleep 0.5; pkill -f "tcpdump -ni s0" 2>/dev/null; wait
    mss=$(grep -o 'mss [0-9]*' "$lab_run/syn$family" | head -1 | cut -d' ' -f2)
    verdict=STALLED; [ "$bytes" = 1048576 ] && verdict=COMPLETED
    printf '  IPv%s %-16s server saw MSS %-5s %8s bytes in %4.1f s  %s\n' "$family" "$dst" "${mss:-?}" "$bytes" "$seconds" "$verdict"
}

tunnels_net_up
install_deb "$lab/mssclamp.deb" install
# The package starts with its shipped policy, which would already clamp: the demo starts from a
# gateway without mssclamp.
systemctl disable --now mssclamp >/dev/null 2>&1
mssclamp rules remove >/dev/null 2>&1
charons_up
client_addresses esp4
esp_up ipv4
spi=$(ip xfrm state | awk '/proto esp/ {print $4; exit}')

demo "mssclamp demo-ipsec: client ==[strongSwan IKEv2, ESP tunnel AES-128-GCM over IPv4]== gateway -- server"
route=$(ip route get $c4 from 203.0.113.2 iif eth0 | head -1)
dev=$(echo "$route" | grep -o 'dev [^ ]*' | cut -d' ' -f2)
demo "  the client believes MTU 1500; the server's network drops ICMP frag-needed / packet-too-big"
demo "  SA up (spi $spi); no tunnel interface: the gateway routes the client's packets $(echo "$route" | grep -o 'via .*table [0-9]*'), MTU $(cat /sys/class/net/$dev/mtu)"
demo ""
demo "1. without mssclamp: fetching 1 MiB"
r4=$(fetch 4); r6=$(fetch 6)
demo "$r4"; demo "$r6"
stalled=0; [[ "$r4" == *STALLED ]] && [[ "$r6" == *STALLED ]] && stalled=1
demo ""
demo "2. the number: mssclamp mss --tunnel esp-gcm"
while IFS= read -r line; do demo "  $line"; done < <(mssclamp mss --tunnel esp-gcm)
demo ""
demo "3. with: mssclamp run --set-mss-for-tunnel esp-gcm   (on the gateway)"
mssclamp run --set-mss-for-tunnel esp-gcm >"$lab_run/run.log" 2>&1 &
worker=$!
for i in $(seq 100); do grep -q "ready" "$lab_run/run.log" && break; sleep 0.2; done
r4=$(fetch 4); r6=$(fetch 6)
demo "$r4"; demo "$r6"
completed=0; [[ "$r4" == *COMPLETED ]] && [[ "$r6" == *COMPLETED ]] && completed=1
kill -TERM $worker; wait $worker; rc=$?
demo ""
demo "  mssclamp counters: $(sed -n 's/.*\] stopped: //p' "$lab_run/run.log" | tail -1)"
demo "  rules left on the gateway after SIGTERM: $(iptables-nft-save | grep -c mssclamp) (exit status $rc)"
demo ""
if [ $stalled = 1 ] && [ $completed = 1 ]; then
    demo "VERDICT: the IPsec black hole is real (both transfers stalled) and mssclamp fixes it (both completed)."
    result "demo_verdict=ok"
else
    demo "VERDICT: FAILED (stalled=$stalled completed=$completed)"
    result "demo_verdict=failed"
    sed 's/^/run: /' "$lab_run/run.log" | tail -20 >&3
fi
esp_down
charons_down

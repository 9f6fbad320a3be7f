# Native nftables (table inet mssclamp; needs nft_queue, which Debian's kernel has), chosen
# after install as an operator would: /etc/default/mssclamp, then a restart. The classic
# policy (one value for both families) is the one `status` once misjudged. Sourced by agent.sh.
net_up
systemctl enable --now nftables >/dev/null 2>&1
rulesets >"$state/before.rules"
install_deb "$lab/mssclamp.deb" install
result "install_active=$(systemctl is-active mssclamp)"
cat >/etc/mssclamp.yaml <<'YAML'
rules:
  - name: classic
    out-interface: eth0
    mss: 1361:1536
    set-mss: 1360
YAML
sed -i 's/^MSSCLAMP_OPTIONS=.*/MSSCLAMP_OPTIONS="--backend nftables"/' /etc/default/mssclamp
systemctl restart mssclamp
result "switch_active=$(systemctl is-active mssclamp) switch_iptables_left=$(iptables-nft-save | grep -c mssclamp) switch_table=$(nft list table inet mssclamp >/dev/null 2>&1 && echo 1 || echo 0)"
result "switch_ready_said=$(jlog -o cat | grep -c 'installed in table inet mssclamp (nftables)') switch_cleanup_said=$(jlog -o cat | grep -c 'removed mssclamp rules left in iptables-nft')"
probe nft 5
# One value for both families: IPv6 gets 1360 too (nothing else, e.g. a leftover iptables-nft
# safety net with 1340, may act on it).
result "nft_v6_at_1360=$(counter v6_1360)"
status_check nft
service_facts nft
start_flow_then nftreload nft_reload_until_repaired
result "nftreload_repaired=$(jlog -o cat | grep -c 'putting them back') nftreload_table=$(nft list table inet mssclamp >/dev/null 2>&1 && echo 1 || echo 0)"
status_check nftreload
DEBIAN_FRONTEND=noninteractive apt-get remove -y mssclamp >"$state/remove.log" 2>&1
result "remove_apt=$? remove_ruleset_diff=$(rulesets | diff "$state/before.rules" - | grep -c '^[<>]')"
# Each stop named the safety net it left in its own backend's words: the iptables-nft worker
# stopped at the switch, the nftables one at the removal.
result "stop_net_iptables=$(jlog -o cat | grep -c 'leaving the safety net (mangle/MSSCLAMP_NET)') stop_net_nft=$(jlog -o cat | grep -c 'leaving the safety net (chain safety_net of table inet mssclamp)')"
rulesets | diff "$state/before.rules" - | head -20 | sed 's/^/ruleset: /' >&3

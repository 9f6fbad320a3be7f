# A host on iptables-legacy (its rules are in x_tables, so auto detection picks legacy).
# Without the drop-in the service cannot open the legacy lock as its user and says so; with
# the documented drop-in it runs. Sourced by agent.sh.
net_up
update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy
update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-legacy
iptables-legacy -A INPUT -i lo -j ACCEPT
ip6tables-legacy -A INPUT -i lo -j ACCEPT
rulesets >"$state/before.rules"
install_deb "$lab/mssclamp.deb" install
sleep 3
result "nodropin_active=$(systemctl is-active mssclamp) nodropin_lock_said=$(journalctl -b -u mssclamp -o cat | grep -c 'xtables.lock') nodropin_backend_said=$(journalctl -b -u mssclamp -o cat | grep -c 'backend: iptables-legacy (auto)')"
mkdir -p /etc/systemd/system/mssclamp.service.d
cp /usr/share/doc/mssclamp/examples/iptables-legacy.conf /etc/systemd/system/mssclamp.service.d/
systemctl daemon-reload
systemctl reset-failed mssclamp
systemctl restart mssclamp
result "legacy_active=$(systemctl is-active mssclamp) legacy_rules=$(iptables-legacy-save -t mangle | grep -c mssclamp) legacy_nft_rules=$(nft list ruleset | grep -c mssclamp)"
probe legacy 5
status_check legacy
service_facts legacy
DEBIAN_FRONTEND=noninteractive apt-get remove -y mssclamp >"$state/remove.log" 2>&1
result "remove_apt=$? remove_ruleset_diff=$(rulesets | diff "$state/before.rules" - | grep -c '^[<>]')"
rulesets | diff "$state/before.rules" - | head -20 | sed 's/^/ruleset: /' >&3

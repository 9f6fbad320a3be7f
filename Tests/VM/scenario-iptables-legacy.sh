# A host on iptables-legacy (its rules are in x_tables). As installed, the service user
# cannot list x_tables' tables (the kernel's list is root's), so it clamps through
# iptables-nft and the journal says why and names the drop-in; with the documented drop-in
# (--backend iptables-legacy, the lock, CAP_NET_RAW) its rules move to legacy and the
# iptables-nft ones go. Sourced by agent.sh.
net_up
update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy
update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-legacy
iptables-legacy -A INPUT -i lo -j ACCEPT
ip6tables-legacy -A INPUT -i lo -j ACCEPT
rulesets >"$state/before.rules"
install_deb "$lab/mssclamp.deb" install
result "nodropin_active=$(systemctl is-active mssclamp) nodropin_backend_said=$(jlog -o cat | grep -c 'backend: iptables-nft (auto).*only root may list them.*iptables-legacy.conf')"
mkdir -p /etc/systemd/system/mssclamp.service.d
cp /usr/share/doc/mssclamp/examples/iptables-legacy.conf /etc/systemd/system/mssclamp.service.d/
systemctl daemon-reload
systemctl reset-failed mssclamp
systemctl restart mssclamp
jlog -o cat | tail -15 | sed 's/^/journal: /' >&3
result "legacy_active=$(systemctl is-active mssclamp) legacy_rules=$(iptables-legacy-save -t mangle | grep -c mssclamp) legacy_nft_rules=$(nft list ruleset | grep -c mssclamp) legacy_cleanup_said=$(jlog -o cat | grep -c 'removed mssclamp rules left in iptables-nft')"
probe legacy 5
status_check legacy
service_facts legacy
DEBIAN_FRONTEND=noninteractive apt-get remove -y mssclamp >"$state/remove.log" 2>&1
result "remove_apt=$? remove_ruleset_diff=$(rulesets | diff "$state/before.rules" - | grep -c '^[<>]')"
rulesets | diff "$state/before.rules" - | head -20 | sed 's/^/ruleset: /' >&3

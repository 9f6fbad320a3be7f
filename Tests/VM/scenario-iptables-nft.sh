# The default gateway: iptables-nft detected with no flag, nftables.service enabled with
# Debian's stock /etc/nftables.conf (which begins with `flush ruleset`). Two boots.
# Sourced by agent.sh.
net_up
if [ "$phase" = 1 ]; then
    systemctl enable --now nftables >/dev/null 2>&1
    rulesets >"$state/before.rules"
    install_deb "$lab/mssclamp.deb" install
    # The start-up window: whatever is sent once apt (and with it `systemctl start`) returns.
    result "install_active=$(systemctl is-active mssclamp) install_enabled=$(systemctl is-enabled mssclamp)"
    probe after_install 5
    status_check install
    service_facts install
    result "install_backend_said=$(jlog -o cat | grep -c 'backend: iptables-nft (auto)') install_ready_said=$(jlog -o cat | grep -c 'ready: queue 0, 1 rule(s), .* installed in mangle/MSSCLAMP (iptables-nft)')"

    # A changed policy applied by `systemctl reload` while SYNs flow: none lost or unclamped.
    sed -i 's/set-mss: { ipv4: 1360, ipv6: 1340 }/set-mss: { ipv4: 1350, ipv6: 1330 }/' /etc/mssclamp.yaml
    # `systemctl reload` returns once the worker confirmed the new policy (ExecReload is
    # `mssclamp reload`, which waits for it): the journal says so by then.
    pid_before=$(systemctl show -p MainPID --value mssclamp)
    zero; flow 300; sleep 2
    reload_start=$(now_ms)
    timeout 120 systemctl reload mssclamp; result "reload_change_rc=$? reload_applied_ms=$(( $(now_ms) - reload_start ))"
    jlog -o cat | grep -q 'SIGHUP: reloaded 1 rule(s)'; result "reload_said=$?"
    sleep 2; stop_flow
    tally reload
    result "reload_new_value=$(( $(counter v4_1350) + $(counter v6_1330) )) reload_pid_kept=$([ "$(systemctl show -p MainPID --value mssclamp)" = "$pid_before" ] && echo 1 || echo 0)"
    status_check reload

    # A typo: `systemctl reload` fails with the worker's reason; the service keeps running
    # the policy it had, and a fixed file reloads.
    cp /etc/mssclamp.yaml /tmp/good.yaml
    printf 'rules:\n  - name: typo\n    set-mss: 136O\n' >/etc/mssclamp.yaml
    timeout 120 systemctl reload mssclamp >/dev/null 2>&1; result "reload_typo_rc=$?"
    result "reload_typo_said=$(jlog -o cat | grep -c 'reload refused; the running policy (policy:[0-9a-f]*) stays: .*136O') reload_typo_active=$(systemctl is-active mssclamp)"
    # Each line at its own priority (the `<N>` prefix on stderr): the refusal is an error,
    # `ready` is info and not among the warnings.
    result "journal_err=$(jlog -p err -o cat | grep -c 'keeping the running policy') journal_warning_ready=$(jlog -p warning -o cat | grep -c 'ready:') journal_info_ready=$(jlog -p info -o cat | grep -c 'ready:')"
    cp /tmp/good.yaml /etc/mssclamp.yaml
    timeout 120 systemctl reload mssclamp; result "reload_fixed_rc=$?"

    # `systemctl restart` while SYNs flow: the safety net covers the gap.
    start_flow_then restart systemctl restart mssclamp
    status_check restart

    # An upgrade to a newer build while SYNs flow (dpkg restarts the service after unpacking).
    start_flow_then upgrade apt-get install -y "$lab/upgrade.deb"
    result "upgrade_version=$(dpkg-query -W -f '${Version}' mssclamp) upgrade_active=$(systemctl is-active mssclamp)"
    status_check upgrade
    service_facts upgrade

    # The firewall's own reload flushes every table, ours included.
    start_flow_then nftreload nft_reload_until_repaired
    result "nftreload_repaired=$(jlog -o cat | grep -c 'putting them back') nftreload_rules=$(iptables-nft-save -t mangle | grep -c mssclamp)"
    status_check nftreload

    # A stock Debian 12 loads ip_tables at boot with no table (no module uses it): no start
    # (install, restart, upgrade) had to say it cannot read iptables-legacy's tables.
    result "xtables_users=$(cat /sys/module/ip_tables/refcnt 2>/dev/null) legacy_unreadable_said=$(jlog -o cat | grep -c 'only root may list them')"

    echo 2 >"$state/phase"
    say "REBOOT"
    sync
    systemctl reboot
    exit 0
fi

# Phase 2, after a reboot: enabled, started before the network, clamping again.
wait_active 60
result "reboot_active=$(systemctl is-active mssclamp) reboot_enabled=$(systemctl is-enabled mssclamp) reboot_order=$(systemctl show -p Before --value mssclamp | grep -c network-pre.target)"
probe after_reboot 5
status_check reboot

# Remove: the firewall exactly as before the install. Purge: config and user gone too.
DEBIAN_FRONTEND=noninteractive apt-get remove -y mssclamp >"$state/remove.log" 2>&1
result "remove_apt=$? remove_ruleset_diff=$(rulesets | diff "$state/before.rules" - | grep -c '^[<>]') remove_config_kept=$(ls /etc/mssclamp.yaml 2>/dev/null | wc -l)"
rulesets | diff "$state/before.rules" - | head -20 | sed 's/^/ruleset: /' >&3
probe after_remove 3
DEBIAN_FRONTEND=noninteractive apt-get purge -y mssclamp >"$state/purge.log" 2>&1
result "purge_apt=$? purge_config=$(ls /etc/mssclamp.yaml /etc/default/mssclamp 2>/dev/null | wc -l) purge_user=$(getent passwd mssclamp | wc -l) purge_group=$(getent group mssclamp | wc -l)"

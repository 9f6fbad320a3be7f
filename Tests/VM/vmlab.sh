#!/usr/bin/env bash
# The Debian VM lab (make vmtest; part of make test): the package as an operator meets it.
# A fresh Debian 12 image (build-image.sh, cached) boots Debian's own kernel under qemu with
# systemd as PID 1; inside, agent.sh installs the .deb with apt and runs one scenario per
# backend (scenario-*.sh); this script judges what it reports.
#
#   vmlab.sh DEB [SCENARIO...]     (default: iptables-nft nftables iptables-legacy)
#
# VM_DIR: the image cache (.build-vm). VM_ACCEL: auto (KVM when it boots, else TCG), kvm, tcg.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deb=$(readlink -f "${1:?usage: vmlab.sh DEB [SCENARIO...]}"); shift
scenarios=("$@"); [ ${#scenarios[@]} -gt 0 ] || scenarios=(iptables-nft nftables iptables-legacy)
vm_dir=$(mkdir -p "${VM_DIR:-.build-vm}" && cd "${VM_DIR:-.build-vm}" && pwd)
accel=${VM_ACCEL:-auto}
work=$(mktemp -d /tmp/mssclamp-vmlab.XXXXXX)
trap 'pkill -f "qemu-system-x86_64.*$work" 2>/dev/null; rm -rf "$work"' EXIT
lab_start=$(date +%s)

bash "$here/build-image.sh" "$vm_dir" || exit 1

# The upgrade: the same build as a newer version (what dpkg sees when a newer package
# arrives: unpack over the running one, restart).
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -R "$deb" "$work/upgrade"
sed -i "s/^Version: .*/Version: $version+vmlab1/" "$work/upgrade/DEBIAN/control"
dpkg-deb -b -Zxz -z1 "$work/upgrade" "$work/upgrade.deb" >/dev/null

# boot NAME LABIMG OVERLAY: one boot, until the VM powers off or reboots (-no-reboot).
boot() {
    local name=$1 lab=$2 overlay=$3 how=$4 start=$(date +%s)
    local args=(-m 2048 -smp 2 -display none -monitor none -no-reboot
        -kernel "$vm_dir/vmlinuz" -initrd "$vm_dir/initrd.img"
        -append "root=/dev/vda rw console=ttyS0 panic=-1 quiet"
        -drive "file=$overlay,if=virtio,format=qcow2" -drive "file=$lab,if=virtio,format=raw,readonly=on"
        -nic none -serial "file:$work/$name.console" -serial "file:$work/$name.results")
    if [ "$how" = kvm ]; then args=(-accel kvm -cpu host,-arch-capabilities "${args[@]}"); else args=(-accel tcg "${args[@]}"); fi
    timeout 1200 qemu-system-x86_64 "${args[@]}" >>"$work/$name.qemu" 2>&1
    tr -d '\r' <"$work/$name.results" >>"$work/$name.all"
    echo "  boot $name ($how): $(( $(date +%s) - start )) s"
}

# KVM is a bonus: it must bring the kernel to its console within 20 s, or TCG is used.
if [ "$accel" = auto ]; then
    accel=tcg
    if [ -w /dev/kvm ]; then
        truncate -s 1M "$work/empty.img"
        qemu-img create -q -f qcow2 -b "$vm_dir/base.img" -F raw "$work/probe.qcow2"
        ( timeout 20 qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities -m 512 -display none -monitor none -no-reboot \
            -kernel "$vm_dir/vmlinuz" -append "console=ttyS0 panic=-1" -nic none -serial "file:$work/probe.console" ) >/dev/null 2>&1
        grep -q "Linux version" "$work/probe.console" 2>/dev/null && accel=kvm
    fi
fi
echo "vm lab: accelerator $accel"

passed=0; failed=0
check() {  # scenario key expected-regex
    local value
    value=$(grep -oE "(^| )$2=[^ ]*" "$work/$1.all" | tail -1 | cut -d= -f2- | tr -d '"')
    if [[ "$value" =~ ^($3)$ ]]; then passed=$((passed + 1)); echo "  ok   $1 $2=$value"
    else failed=$((failed + 1)); echo "  FAIL $1 $2=${value:-<missing>} (want $3)"; fi
}

for s in "${scenarios[@]}"; do
    echo "scenario $s"
    mkdir -p "$work/lab-$s"
    cp "$here/agent.sh" "$here/syns.py" "$here"/scenario-*.sh "$work/lab-$s/"
    cp "$deb" "$work/lab-$s/mssclamp.deb"; cp "$work/upgrade.deb" "$work/lab-$s/upgrade.deb"
    echo "$s" >"$work/lab-$s/scenario"
    truncate -s 256M "$work/lab-$s.img"; mke2fs -q -t ext4 -d "$work/lab-$s" "$work/lab-$s.img"
    qemu-img create -q -f qcow2 -b "$vm_dir/base.img" -F raw "$work/$s.qcow2"
    : >"$work/$s.all"
    for n in 1 2 3; do
        boot "$s" "$work/lab-$s.img" "$work/$s.qcow2" "$accel"
        grep -q "^REBOOT" "$work/$s.results" || break
    done
    grep -v "^RESULT" "$work/$s.all" | sed 's/^/  vm: /'
    grep "^RESULT" "$work/$s.all" | sed 's/^RESULT /  /'
    if ! grep -q "^END" "$work/$s.all"; then
        failed=$((failed + 1)); echo "  FAIL $s: the agent did not finish; console tail:"; tail -30 "$work/$s.console"
    fi
    case $s in
    iptables-nft)
        check $s install_apt 0; check $s install_active active; check $s install_enabled enabled
        check $s after_install_server_total 10; check $s after_install_unclamped 0; check $s after_install_lost 0
        check $s install_status 0; check $s install_type notify; check $s install_user mssclamp
        check $s install_priority_noise 0; check $s install_errors 0
        check $s install_backend_said '[1-9][0-9]*'; check $s install_ready_said '[1-9][0-9]*'
        check $s reload_change_rc 0; check $s reload_unclamped 0; check $s reload_lost 0; check $s reload_said 0; check $s reload_new_value '[1-9][0-9]*'; check $s reload_pid_kept 1; check $s reload_status 0
        check $s restart_change_rc 0; check $s restart_unclamped 0; check $s restart_lost 0; check $s restart_status 0
        check $s upgrade_change_rc 0; check $s upgrade_unclamped 0; check $s upgrade_lost 0
        check $s upgrade_version "${version//./\\.}\\+vmlab1"; check $s upgrade_active active; check $s upgrade_status 0
        check $s nftreload_change_rc 0; check $s nftreload_lost 0; check $s nftreload_repaired '[1-9][0-9]*'
        check $s nftreload_rules '[1-9][0-9]*'; check $s nftreload_status 0
        check $s reboot_active active; check $s reboot_enabled enabled; check $s reboot_order 1
        check $s after_reboot_unclamped 0; check $s after_reboot_server_total 10; check $s reboot_status 0
        check $s remove_apt 0; check $s remove_ruleset_diff 0; check $s remove_config_kept 1
        check $s after_remove_server_total 6; check $s after_remove_unclamped 6
        check $s purge_apt 0; check $s purge_config 0; check $s purge_user 0; check $s purge_group 0
        ;;
    nftables)
        check $s install_apt 0; check $s install_active active
        check $s switch_active active; check $s switch_iptables_left 0; check $s switch_table 1; check $s switch_ready_said '[1-9][0-9]*'; check $s switch_cleanup_said 1
        check $s nft_server_total 10; check $s nft_unclamped 0; check $s nft_v6_at_1360 5; check $s nft_status 0
        check $s nft_priority_noise 0; check $s nft_errors 0
        check $s nftreload_change_rc 0; check $s nftreload_lost 0; check $s nftreload_repaired '[1-9][0-9]*'
        check $s nftreload_table 1; check $s nftreload_status 0
        check $s remove_apt 0; check $s remove_ruleset_diff 0
        ;;
    iptables-legacy)
        check $s install_apt 0; check $s nodropin_active active; check $s nodropin_backend_said '[1-9][0-9]*'
        check $s legacy_active active; check $s legacy_rules '[1-9][0-9]*'; check $s legacy_nft_rules 0; check $s legacy_cleanup_said 1
        check $s legacy_server_total 10; check $s legacy_unclamped 0; check $s legacy_status 0
        check $s legacy_priority_noise 0
        check $s remove_apt 0; check $s remove_ruleset_diff 0
        ;;
    esac
done
echo "vm lab: $(( $(date +%s) - lab_start )) s in all ($accel)"
echo "vmlab: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Builds the Debian VM lab's base image, once: a stock Debian 12 (or 13) root from Debian's
# own packages (mmdebstrap), with Debian's kernel (linux-image-amd64), its modules and initrd,
# systemd as PID 1, and the packages mssclamp depends on preinstalled (the VM has no
# network, so `apt install ./mssclamp.deb` must find its dependencies there).
#
#   build-image.sh OUTDIR [SUITE]   writes OUTDIR/base.img, OUTDIR/vmlinuz, OUTDIR/initrd.img
#                                   (SUITE: bookworm, the default, or trixie)
#
# Cached: the image is rebuilt only when this script or the suite changes (their hash names
# the build).
set -euo pipefail
out=${1:?usage: build-image.sh OUTDIR [SUITE]}
suite=${2:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
key=$({ cat "$0" "$here/vm-agent.service"; echo "$suite"; } | sha256sum | cut -c1-12)
# One builder per image: a second call (another lab on the same cache) waits here, then
# finds the image cached.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if [ -f "$out/base.img" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
    echo "vm image ($suite): cached ($out, key $key)"
    exit 0
fi
mkdir -p "$out"
root="$out/root"
rm -rf "$root" "$out/base.img" "$out/key"
start=$(date +%s)

# The system: what a minimal Debian gateway has (systemd, udev, both firewalls, iproute2),
# the kernel as a stock install has it, mssclamp's run-time libraries, and the lab's
# tools (python3 sends the SYNs, tcpdump looks when something fails).
packages=systemd,systemd-sysv,udev,dbus,kmod,procps,iproute2,iptables,nftables,passwd,adduser
packages+=,linux-image-amd64,initramfs-tools
# (Debian 13's libpcap is libpcap0.8t64, which provides libpcap0.8 for the package's Depends.)
pcap=libpcap0.8; [ "$suite" = bookworm ] || pcap=libpcap0.8t64
packages+=,libnetfilter-queue1,libmnl0,$pcap,libcap2,libyaml-0-2
packages+=,python3-minimal,tcpdump,curl
# The tunnel lab's VPN software, as an operator installs it (none of it runs until the lab
# starts it in its namespaces: the services the packages enable are masked).
packages+=,strongswan-charon,strongswan-swanctl,libstrongswan-standard-plugins,wireguard-tools,openvpn,iputils-ping,ppp,pppoe
mmdebstrap --variant=minbase --include="$packages" \
    --customize-hook='echo mssclamp-vm >"$1/etc/hostname"' \
    --customize-hook='ln -sf /dev/null "$1/etc/systemd/system/serial-getty@ttyS0.service"' \
    --customize-hook='ln -sf /dev/null "$1/etc/systemd/system/getty@tty1.service"' \
    --customize-hook='for u in openvpn strongswan strongswan-starter; do ln -sf /dev/null "$1/etc/systemd/system/$u.service"; done' \
    --customize-hook='printf "/dev/vda / ext4 rw 0 1\n" >"$1/etc/fstab"' \
    --customize-hook='upload '"$here"'/vm-agent.service /etc/systemd/system/vm-agent.service' \
    --customize-hook='chroot "$1" systemctl enable vm-agent.service' \
    --customize-hook='chroot "$1" python3 -c "import socket, select, threading"' \
    "$suite" "$root" >"$out/mmdebstrap.log" 2>&1 || { tail -30 "$out/mmdebstrap.log"; exit 1; }

cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
cp "$root"/boot/initrd.img-* "$out/initrd.img"
chmod 0644 "$out/vmlinuz" "$out/initrd.img"
truncate -s 4G "$out/base.img"
mke2fs -q -t ext4 -d "$root" "$out/base.img"
rm -rf "$root"
echo "$key" >"$out/key"
echo "vm image ($suite): built in $(( $(date +%s) - start )) s ($(du -h --apparent-size "$out/base.img" | cut -f1) sparse, kernel $(basename "$(ls "$out"/vmlinuz)"))"

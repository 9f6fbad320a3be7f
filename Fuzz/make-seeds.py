"""Writes the seed corpora in Fuzz/seeds/ (committed; rerun to regenerate).

core:    7 control bytes + an IP packet: the spec's vectors, the SYN layouts of Linux,
         Windows and macOS, IPv6, fragments and malformed headers.
capture: small pcap and pcapng files of such packets, over Ethernet and Linux cooked; beside
         them (kept, not written here) real Linux handshakes captured by tcpdump
         (Tests/Fixtures/capture-handshake.sh) and the test fixtures of every link type.
policy:  the example policy and variants of every YAML form.
"""
import os, shutil, struct, sys
from scapy.all import IP, IPv6, TCP, Ether, CookedLinux, wrpcap, raw
try:
    from scapy.utils import wrpcapng
except ImportError:
    wrpcapng = None

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
for d in ("core", "capture", "policy"):
    os.makedirs(os.path.join(root, d), exist_ok=True)

def control(flags, target=1360, low=1361, span=175):
    target = 1400 if flags & 0x20 else target  # a path MTU, for bit 5
    return bytes([flags]) + struct.pack(">HHH", target, low, span)

linux = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
windows = [("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None), ("SAckOK", b"")]
macos = [("MSS", 1460), ("NOP", None), ("WScale", 6), ("NOP", None), ("NOP", None), ("Timestamp", (1, 0)), ("SAckOK", b""), ("EOL", None)]
packets = {
    "linux4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40000, dport=443, flags="S", options=linux),
    "windows4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40001, dport=443, flags="S", options=windows),
    "macos4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40002, dport=443, flags="S", options=macos),
    "linux6": IPv6(src="2001:db8:1::1", dst="2001:db8:2::1") / TCP(sport=40003, dport=443, flags="S", options=linux),
    "synack4": IP(src="198.51.100.7", dst="192.0.2.1") / TCP(sport=443, dport=40000, flags="SA", options=[("MSS", 1460)]),
    "nomss4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40004, dport=443, flags="S"),
    "nomss6": IPv6(src="2001:db8:1::1", dst="2001:db8:2::1") / TCP(sport=40005, dport=443, flags="S", options=[("NOP", None)] * 4),
    "oddmss4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40006, dport=443, flags="S", options=[("NOP", None), ("MSS", 1460), ("NOP", None), ("NOP", None), ("NOP", None)]),
    "tfo4": IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40007, dport=443, flags="S") / b"data",
    "frag4": IP(src="192.0.2.1", dst="198.51.100.7", flags="MF") / TCP(sport=40008, dport=443, flags="S", options=linux),
}
spec = [bytes.fromhex("450000281234400040063c60c0000201c63364079c4001bb00000001000000005002faf02ab90000")]
for name, packet in packets.items():
    data = raw(packet)
    for flags in (0, 1, 2, 3, 4, 8, 0x20, 0x21):
        open(os.path.join(root, "core", f"{name}-{flags}"), "wb").write(control(flags) + data)
for index, data in enumerate(spec):
    open(os.path.join(root, "core", f"spec-{index}"), "wb").write(control(1, 1400) + data)
bad = raw(packets["linux4"])
open(os.path.join(root, "core", "doff3"), "wb").write(control(2) + bad[:32] + bytes([0x30]) + bad[33:])
open(os.path.join(root, "core", "short"), "wb").write(control(2) + bad[:30])

frames = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p for p in packets.values()]
wrpcap(os.path.join(root, "capture", "ethernet.pcap"), frames)
wrpcap(os.path.join(root, "capture", "cooked.pcap"), [CookedLinux() / p for p in packets.values()])
if wrpcapng:
    wrpcapng(os.path.join(root, "capture", "ethernet.pcapng"), frames)

policies = {
    "example.yaml": open(os.path.join(os.path.dirname(root), "..", "deploy", "mssclamp.yaml")).read(),
    "simple.yaml": "rules:\n  - out-interface: eth0\n    mss: 1361:1536\n    set-mss: 1360\n",
    "pmtu.yaml": "rules:\n  - in-interface: wg+\n    clamp-mss-to-pmtu: true\n    direction: syn\n",
    "families.yaml": "rules:\n  - family: ipv6\n    destination: [\"2001:db8::/32\"]\n    set-mss: { ipv4: 1360, ipv6: 1340 }\n    insert-missing: true\n",
    "bad.yaml": "rules:\n  - name: x\n    mss: 9000:100\n",
}
for name, text in policies.items():
    open(os.path.join(root, "policy", name), "w").write(text)
print("seeds:", {d: len(os.listdir(os.path.join(root, d))) for d in ("core", "capture", "policy")})

#!/usr/bin/python3
"""Crafts the edge-case captures the dry-run tests replay, with scapy (a real, independent
packet library): every link type dry-run reads, and SYNs that exercise each outcome.

Usage: make-captures.py OUTDIR. Deterministic: fixed timestamps, fixed fields.
Addresses are documentation prefixes only (RFC 5737, RFC 3849)."""
import os
import sys

from scapy.all import (ARP, IP, UDP, Dot1AD, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, TCP, CookedLinux, CookedLinuxV2,
                       Padding, Raw, wrpcap, wrpcapng)

C4, S4 = "192.0.2.10", "198.51.100.20"
C6, S6 = "2001:db8::10", "2001:db8:1::20"
LINUX_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def syn(mss=1460, flags="S", sport=40000, opts=None, v6=False, reply=False, **tcp):
    options = opts if opts is not None else [("MSS", mss)] + LINUX_OPTS[1:]
    src, dst = (C6, S6) if v6 else (C4, S4)
    if reply:
        src, dst = dst, src
    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst, id=1, flags="DF")
    ports = dict(sport=443, dport=sport) if reply else dict(sport=sport, dport=443)
    return ip / TCP(flags=flags, seq=1000, window=64240, options=options, **ports, **tcp)


def stamp(packets, start=1700000000):
    for index, packet in enumerate(packets):
        packet.time = start + index + (index + 1) / 1e6
    return packets


def ethernet(outdir):
    frames = [
        Ether(**MAC) / syn(),                                                   # clamped
        Ether(**MAC) / syn(flags="SA", reply=True),                              # SYN-ACK clamped
        Ether(**MAC) / syn(mss=1300),                                           # below range
        Ether(**MAC) / syn(mss=8960),                                           # jumbo, above range
        Ether(**MAC) / syn(opts=[("NOP", None), ("MSS", 1460), ("NOP", None), ("NOP", None), ("NOP", None)]),  # odd offset
        Ether(**MAC) / syn(opts=[]) / Padding(load=b"\x00" * 6),                 # no MSS, Ethernet padding
        Ether(**MAC) / Dot1Q(vlan=100) / syn(),                                 # 802.1Q
        Ether(**MAC) / Dot1AD(vlan=200) / Dot1Q(vlan=100) / syn(mss=1440, v6=True),  # QinQ, IPv6
        Ether(**MAC) / (IPv6(src=C6, dst=S6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
                        / TCP(sport=40001, dport=443, flags="S", options=[("MSS", 1460)])),  # IPv6 ext headers
        Ether(**MAC) / IP(src=C4, dst=S4, proto=6, frag=185) / Raw(b"x" * 40),  # non-first fragment
        Ether(**MAC) / ARP(psrc=C4, pdst=S4),                                   # not IP
        Ether(**MAC) / IP(src=C4, dst=S4) / TCP(sport=40000, dport=443, flags="A") / Raw(b"data"),  # not SYN
        Ether(**MAC) / IP(src=C4, dst=S4) / UDP(sport=5353, dport=53),          # not TCP
        Ether(**MAC) / IP(src=C4, dst=S4) / TCP(sport=40002, dport=443, flags="S", dataofs=4),  # malformed
        Ether(**MAC) / syn(opts=[]) / Raw(b"TFO data"),                         # payload, no MSS
    ]
    wrpcap(os.path.join(outdir, "edge-ethernet.pcap"), stamp(frames))
    wrpcapng(os.path.join(outdir, "edge-ethernet.pcapng"), stamp([f.copy() for f in frames]))


def link_types(outdir):
    v4, v6 = syn(), syn(mss=1440, v6=True, sport=40003)
    wrpcap(os.path.join(outdir, "link-sll.pcap"),
           stamp([CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\0\0\0\0\x01\0\0", proto=0x0800) / v4,
                  CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\0\0\0\0\x01\0\0", proto=0x86dd) / v6]))
    wrpcap(os.path.join(outdir, "link-sll2.pcap"),
           stamp([CookedLinuxV2(proto=0x0800, ifindex=3, lladdrtype=1, lladdrlen=6) / v4,
                  CookedLinuxV2(proto=0x86dd, ifindex=3, lladdrtype=1, lladdrlen=6) / v6]))
    wrpcap(os.path.join(outdir, "link-raw.pcap"), stamp([v4, v6]), linktype=101)
    # DLT_NULL stores the family in the writer's byte order (little-endian here), DLT_LOOP in
    # network order; write the header bytes by hand so each file is exactly that.
    wrpcap(os.path.join(outdir, "link-null.pcap"),
           stamp([Raw(b"\x02\0\0\0" + bytes(v4)), Raw(b"\x1e\0\0\0" + bytes(v6))]), linktype=0)
    wrpcap(os.path.join(outdir, "link-loop.pcap"),
           stamp([Raw(b"\0\0\0\x02" + bytes(v4)), Raw(b"\0\0\0\x18" + bytes(v6))]), linktype=108)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    ethernet(outdir)
    link_types(outdir)


if __name__ == "__main__":
    main()

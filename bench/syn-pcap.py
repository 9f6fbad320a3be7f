#!/usr/bin/env python3
"""Writes a classic pcap of COUNT Ethernet frames carrying TCP SYNs (documentation
addresses), for make bench's dry-run comparison: Linux, Windows and macOS option layouts
in turn, IPv4 with one in eight IPv6, MSS 1460 (1440 for IPv6) with one in sixteen 1200.
Usage: syn-pcap.py FILE [COUNT]. Plain Python (struct), no scapy: a million frames in
seconds."""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


LAYOUTS = [
    lambda mss: struct.pack("!BBH", 2, 4, mss) + bytes([4, 2, 8, 10]) + b"\0\1\x86\xa0\0\0\0\0" + bytes([1, 3, 3, 7]),
    lambda mss: struct.pack("!BBH", 2, 4, mss) + bytes([1, 3, 3, 8, 1, 1, 4, 2]),
    lambda mss: struct.pack("!BBH", 2, 4, mss) + bytes([1, 3, 3, 6, 1, 1, 8, 10]) + b"\x2c\x4f\x1a\x7b\0\0\0\0" + bytes([4, 2, 0, 0]),
]


def frame(index):
    ipv6 = index % 8 == 7
    mss = 1200 if index % 16 == 5 else (1440 if ipv6 else 1460)
    options = LAYOUTS[index % 3](mss)
    port = 1024 + index % 60000
    if ipv6:
        src = bytes.fromhex("20010db8000000000000000000000002")
        dst = bytes.fromhex("20010db8000100000000000000000001")
    else:
        src, dst = bytes([192, 0, 2, 2 + index % 200]), bytes([198, 51, 100, 1])
    tcp = struct.pack("!HHIIBBHHH", port, 443, index * 2654435761 & 0xFFFFFFFF, 0,
                      (20 + len(options)) // 4 << 4, 0x02, 64240, 0, 0) + options
    pseudo = src + dst + (struct.pack("!IxxxB", len(tcp), 6) if ipv6 else struct.pack("!xBH", 6, len(tcp)))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    if ipv6:
        ip = struct.pack("!IHBB", 0x60000000, len(tcp), 6, 64) + src + dst
        ethertype = 0x86DD
    else:
        header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), index & 0xFFFF, 0x4000, 64, 6, 0) + src + dst
        ip = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
        ethertype = 0x0800
    return b"\x02\0\0\0\0\2\x02\0\0\0\0\1" + struct.pack("!H", ethertype) + ip + tcp


def main():
    path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for index in range(count):
            data = frame(index)
            out.write(struct.pack("<IIII", 1_700_000_000 + index // 100_000, index % 100_000 * 10, len(data), len(data)))
            out.write(data)


main()

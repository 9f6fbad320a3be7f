#!/usr/bin/python3
"""Differential test helper: `send ADDRESS PORT` sends the crafted SYN set from this host;
`compare KERNEL.pcap WORKER.pcap` pairs packets by source port and classifies them.

Cases are raw TCP option bytes (and payload), carried after a hand-set data offset so that
every layout reaches the wire exactly as written, with a checksum scapy computes."""
import sys

from scapy.all import IP, IPv6, TCP, Raw, conf, rdpcap, send

conf.verb = 0
TS = b"\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00"
CASES = [  # (name, options, payload, flags)
    ("mss1460", b"\x02\x04\x05\xb4", b"", "S"),
    ("linux-layout", b"\x02\x04\x05\xb4\x04\x02" + TS + b"\x01\x03\x03\x07", b"", "S"),
    ("odd-offset", b"\x01\x02\x04\x05\xb4\x01\x01\x01", b"", "S"),
    ("odd-offset-65535", b"\x01\x02\x04\xff\xff\x01\x01\x01", b"", "S"),
    ("wscale-then-odd-mss", b"\x03\x03\x07\x02\x04\x05\xb4\x00", b"", "S"),
    ("nops-then-mss-eol", b"\x01\x01\x01\x02\x04\x05\xb4\x00", b"", "S"),
    ("eol-first", b"\x00\x01\x01\x01\x02\x04\x05\xb4", b"", "S"),
    ("zero-length-byte", b"\x08\x00\x02\x04\x05\xb4\x01\x01", b"", "S"),
    ("mss-len3-then-mss", b"\x02\x03\x05\x02\x04\x05\xb4\x01", b"", "S"),
    ("mss-after-timestamp", TS + b"\x01\x01\x02\x04\x05\xb4", b"", "S"),
    ("mss1300", b"\x02\x04\x05\x14", b"", "S"),
    ("mss9000", b"\x02\x04\x23\x28", b"", "S"),
    ("mss1361", b"\x02\x04\x05\x51", b"", "S"),
    ("mss1536", b"\x02\x04\x06\x00", b"", "S"),
    ("mss1537", b"\x02\x04\x06\x01", b"", "S"),
    ("no-options", b"", b"", "S"),
    ("sack-only", b"\x04\x02\x01\x01", b"", "S"),
    ("tfo-no-mss", b"", b"fast-open-data", "S"),
    ("mss-with-payload", b"\x02\x04\x05\xb4", b"data", "S"),
    ("header-full", b"\x01" * 40, b"", "S"),
    ("syn-ack", b"\x02\x04\x05\xb4", b"", "SA"),
    ("data-offset-4", None, b"", "S"),
]


def send_all(address, port):
    for index, (_, options, payload, flags) in enumerate(CASES):
        ip = IPv6(dst=address) if ":" in address else IP(dst=address, id=7)
        if options is None:
            tcp = TCP(sport=port + index, dport=9, flags=flags, seq=1, window=64240, dataofs=4, options=[])
            send(ip / tcp)
            continue
        tcp = TCP(sport=port + index, dport=9, flags=flags, seq=1, window=64240,
                  dataofs=5 + len(options) // 4, options=[])
        send(ip / tcp / Raw(options + payload))


def tcp_checksum_ok(layer):
    packet = layer.copy()
    sent = packet[TCP].chksum
    del packet[TCP].chksum
    return packet.__class__(bytes(packet))[TCP].chksum == sent


def by_port(path):
    result = {}
    for frame in rdpcap(path):
        layer = frame.getlayer(IP) or frame.getlayer(IPv6)
        if layer is not None and layer.haslayer(TCP):
            result[layer[TCP].sport] = layer
    return result


def compare(kernel_path, worker_path, port, family):
    kernel, worker = by_port(kernel_path), by_port(worker_path)
    counts = {"identical": 0, "kernel_checksum_wrong": 0, "both_dropped": 0, "mismatch": 0}
    notes = []
    for index, (name, *_rest) in enumerate(CASES):
        k, w = kernel.get(port + index), worker.get(port + index)
        if k is None and w is None:
            counts["both_dropped"] += 1
            continue
        if k is None or w is None:
            counts["mismatch"] += 1
            notes.append(f"{name}:{'kernel' if k is None else 'worker'}-missing")
            continue
        kb, wb = bytes(k), bytes(w)
        if kb == wb:
            counts["identical"] += 1
            continue
        diff = [i for i in range(max(len(kb), len(wb))) if i >= min(len(kb), len(wb)) or kb[i] != wb[i]]
        tcp_at = len(kb) - len(bytes(k[TCP]))
        if all(i in (tcp_at + 16, tcp_at + 17) for i in diff) and tcp_checksum_ok(w) and not tcp_checksum_ok(k):
            counts["kernel_checksum_wrong"] += 1
            notes.append(f"{name}:kernel-checksum-wrong")
        else:
            counts["mismatch"] += 1
            notes.append(f"{name}:differs-at-{diff[:6]}")
    print(f"RESULT family={family} " + " ".join(f"{k}={v}" for k, v in counts.items())
          + f" notes={','.join(notes) or 'none'}")
    return counts["mismatch"] == 0


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send_all(sys.argv[2], int(sys.argv[3]))
    else:
        ok = compare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        sys.exit(0 if ok else 1)

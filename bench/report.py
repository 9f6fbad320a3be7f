#!/usr/bin/python3
"""make bench, last step: bench/results/*.tsv -> BENCHMARKS.md tables and gnuplot PNGs.

Medians over the repeats, with the spread (min-max); ratios against the kernel rule and the
C consumer measured in the same run. Plain Python 3 (no third-party modules); plots by gnuplot.
"""
import csv
import os
import statistics
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
results = os.environ.get("BENCH_OUT", os.path.join(root, "bench", "results"))
order = ["none", "kernel", "c", "cpin", "mssclamp", "mpin", "mssclamp2", "mct", "mstall"]
names = {"none": "no rule", "kernel": "kernel TCPMSS", "c": "C consumer", "cpin": "C consumer, CPU 1",
         "mssclamp": "mssclamp (1 queue)", "mpin": "mssclamp --cpus 1", "mssclamp2": "mssclamp (2 queues)",
         "mct": "mssclamp, conntrack on", "mstall": "mssclamp --learn-stalls"}
consumers = ("c", "cpin", "mssclamp", "mpin", "mssclamp2", "mct", "mstall")


def read(name):
    with open(os.path.join(results, name)) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def spread(values, fmt="{:.0f}"):
    if not values:
        return "-"
    med = statistics.median(values)
    return fmt.format(med) + (" (" + fmt.format(min(values)) + "–" + fmt.format(max(values)) + ")" if len(values) > 1 else "")


points = read("points.tsv")
latency = read("latency.tsv")
machine = open(os.path.join(results, "machine.txt")).read().strip()
contenders = [c for c in order if any(p["contender"] == c for p in points)]
rates = []
for p in points:
    if p["rate"] not in rates:
        rates.append(p["rate"])


def of(who, rate):
    return [p for p in points if p["contender"] == who and p["rate"] == rate]


def rate_of(p):
    """Clamped SYN/s at the server over the sending time (what was delivered and right)."""
    wanted = int(p["arrived"]) if p["contender"] == "none" else int(p["clamped"])
    return wanted / max(float(p["seconds"]), 1e-3)


lines = ["# Benchmarks", "", "Written by `make bench` (bench/bench.sh, bench/report.py). " + machine.replace("\n", ". ") + ".", ""]
lines += ["## Offered-load sweep", "",
          "Per point: SYNs sent by trafgen (pinned to CPU 0), arrived at the server, arrived with MSS 1360 "
          "(for `none`, every SYN arrives unclamped by design), lost = sent − arrived, unclamped = arrived − clamped; "
          "median of the repeats (min–max).", ""]
lines.append("| contender | offered SYN/s | delivered SYN/s | lost | unclamped | CPU µs/SYN | peak RSS MB |")
lines.append("|---|---|---|---|---|---|---|")
for who in contenders:
    for rate in rates:
        ps = of(who, rate)
        if not ps:
            continue
        lost = [int(p["sent"]) - int(p["arrived"]) for p in ps]
        unclamped = [0 if who == "none" else int(p["arrived"]) - int(p["clamped"]) for p in ps]
        cpu = [float(p["cpu_us_per_syn"]) for p in ps if who in consumers]
        rss = [int(p["peak_rss_kb"]) / 1024 for p in ps if who in consumers]
        lines.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            names[who], rate, spread([rate_of(p) for p in ps]), spread(lost), spread(unclamped),
            spread(cpu, "{:.2f}") if cpu else "-", spread(rss, "{:.1f}") if rss else "-"))
lines.append("")

# Saturation: the "max" point, as ratios in the same run.
sat = {}
if "max" in rates:
    lines += ["## Saturation (trafgen as fast as it goes)", "",
              "Clamped SYN/s at the server over the time from the first SYN sent to the last one counted; the share of "
              "the SYNs sent that arrived clamped (the rest passed unclamped: fail-open); the consumer's CPU time per SYN it "
              "handled (it clamps every SYN it sees), split into user space (its own code and libraries) and kernel (the "
              "netlink copy, the verdict, and the reinjected SYN's forwarding, which runs on the thread that sends the "
              "verdict); and the capacity that cost implies, SYNs per second of one CPU. Here the sender's CPU is the limit "
              "of the clamped rate (the consumer's CPU has idle time left when it keeps up), so the capacity column is the "
              "fairer comparison of consumers. Medians of the repeats; ratios against the same run's kernel rule and C "
              "consumer.", "",
              "| contender | clamped SYN/s | × kernel | × C consumer | clamped share | CPU µs/SYN | user µs | kernel µs "
              "| SYN/s per CPU | × C |", "|---|---|---|---|---|---|---|---|---|---|"]
    sat = {who: statistics.median([rate_of(p) for p in of(who, "max")]) for who in contenders if of(who, "max")}
    capacity = {who: 1e6 / statistics.median([float(p["cpu_us_per_syn"]) for p in of(who, "max")])
                for who in consumers if of(who, "max") and all(float(p["cpu_us_per_syn"]) > 0 for p in of(who, "max"))}
    for who in contenders:
        if who not in sat:
            continue
        k = sat.get("kernel")
        c = sat.get("c")
        ps = of(who, "max")
        share = statistics.median([int(p["clamped"]) / max(1, int(p["sent"])) for p in ps])
        cpu = [float(p["cpu_us_per_syn"]) for p in ps if who in consumers]
        user = [float(p["user_us_per_syn"]) for p in ps if who in consumers and p.get("user_us_per_syn")]
        kernel = [float(p["cpu_us_per_syn"]) - float(p["user_us_per_syn"]) for p in ps if who in consumers and p.get("user_us_per_syn")]
        lines.append("| {} | {:.0f} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            names[who], sat[who], "{:.2f}".format(sat[who] / k) if k else "-", "{:.2f}".format(sat[who] / c) if c else "-",
            "-" if who == "none" else "{:.1%}".format(share), spread(cpu, "{:.2f}") if cpu else "-",
            spread(user, "{:.2f}") if user else "-", spread(kernel, "{:.2f}") if kernel else "-",
            "{:.0f}".format(capacity[who]) if who in capacity else "-",
            "{:.2f}".format(capacity[who] / capacity["c"]) if who in capacity and "c" in capacity else "-"))
    lines.append("")

lines += ["## Connect latency", "", "Sequential connects client → server through the router (Python `connect()` timed with "
          "perf_counter; the server accepts and closes; the client resets). Median over repeats of each run's p50 / p99, and the "
          "added latency over `none`.", "", "| contender | p50 µs | p99 µs | added p50 | added p99 |", "|---|---|---|---|---|"]
lat = {who: ([int(r["p50_us"]) for r in latency if r["contender"] == who], [int(r["p99_us"]) for r in latency if r["contender"] == who])
       for who in contenders}
base50 = statistics.median(lat["none"][0]) if lat.get("none") and lat["none"][0] else None
base99 = statistics.median(lat["none"][1]) if lat.get("none") and lat["none"][1] else None
for who in contenders:
    p50, p99 = lat[who]
    if not p50:
        continue
    lines.append("| {} | {} | {} | {} | {} |".format(
        names[who], spread(p50), spread(p99),
        "{:.0f}".format(statistics.median(p50) - base50) if base50 is not None else "-",
        "{:.0f}".format(statistics.median(p99) - base99) if base99 is not None else "-"))
lines.append("")

def optional(name):
    path = os.path.join(results, name)
    return read(name) if os.path.exists(path) else []


transfers = optional("throughput.tsv")
if transfers:
    lines += ["## Forwarding throughput", "",
              "One TCP transfer server → client through the router per contender and repeat, before any SYN flood "
              "(python, `recv_into`; veth, one flow): what each costs the data path, not only SYNs. `--learn-stalls` adds "
              "a rule every forwarded TCP packet crosses and needs conntrack (with its accounting), and copies each flow's "
              "first packets to the worker (NFLOG): its own cost is the ratio to mssclamp on a router that already tracks "
              "connections, as most gateways do. Median (min–max), and the ratios in the same run.", "",
              "| contender | Mbit/s | × no rule | × kernel TCPMSS | × mssclamp, conntrack on |", "|---|---|---|---|---|"]
    mbit = {who: [float(r["mbit_s"]) for r in transfers if r["contender"] == who and r["mbit_s"]] for who in order}
    med = {who: statistics.median(v) for who, v in mbit.items() if v}
    for who in [w for w in order if mbit.get(w)]:
        lines.append("| {} | {} | {} | {} | {} |".format(
            names[who], spread(mbit[who]), "{:.3f}".format(med[who] / med["none"]) if med.get("none") else "-",
            "{:.3f}".format(med[who] / med["kernel"]) if med.get("kernel") else "-",
            "{:.3f}".format(med[who] / med["mct"]) if med.get("mct") else "-"))
    lines.append("")

calls = optional("callgrind.tsv")
if calls:
    lines += ["## Instructions per SYN (callgrind)", "",
              "The worker's per-packet path as shipped (release build; `bench/hotpath`, which runs `MSSClampWorker.PacketPath`: "
              "decode the queue message, copy, apply the policy, build the verdict with the new bytes, count) on SYNs of each "
              "system's option layout, MSS 1460 → 1360 (IPv6 1440 → 1340). Two runs (640 and 64 640 SYNs), difference divided by "
              "64 000: start-up and message building cancel out (`bash bench/callgrind.sh`).", "",
              "| SYN layout | instructions per SYN |", "|---|---|"]
    label = {"linux": "Linux (MSS, SACK-perm, TS, NOP, WS)", "windows": "Windows (MSS, NOP, WS, NOP, NOP, SACK-perm)",
             "macos": "macOS (MSS, NOP, WS, NOP, NOP, TS, SACK-perm, EOL)", "linux6": "Linux, IPv6"}
    for row in calls:
        lines.append("| {} | {} |".format(label.get(row["layout"], row["layout"]), row["instructions_per_syn"]))
    lines.append("")

dry = optional("dryrun.tsv")
if dry:
    lines += ["## Dry-run of a million SYNs", "",
              "`bench/syn-pcap.py` writes 1 000 000 Ethernet SYNs (Linux, Windows, macOS layouts; one in eight IPv6); wall-clock "
              "seconds (to the millisecond) and peak RSS (`/usr/bin/time`), the tools interleaved, median of the runs (min–max). tcpdump filters and writes (its `tcp[13]` "
              "reads IPv4 only, so it writes 7/8 of the frames and rewrites nothing); dry-run decides every SYN, rewrites "
              "937 500 and writes every frame; `-q` prints only the counts, without it a line per SYN goes to /dev/null.", "",
              "| tool | seconds | × tcpdump | peak RSS MB |", "|---|---|---|---|"]
    tools = []
    for row in dry:
        if row["tool"] not in tools:
            tools.append(row["tool"])
    base = statistics.median([float(r["seconds"]) for r in dry if r["tool"] == "tcpdump"])
    for tool in tools:
        secs = [float(r["seconds"]) for r in dry if r["tool"] == tool]
        rss = [int(r["peak_rss_kb"]) / 1024 for r in dry if r["tool"] == tool]
        command = {"tcpdump": "`tcpdump -r F -w G 'tcp[13] & 2 != 0'`", "dry-run -q": "`mssclamp dry-run -q F -w G`",
                   "dry-run": "`mssclamp dry-run F -w G`"}.get(tool, tool)
        lines.append("| {} | {} | {:.2f} | {} |".format(command, spread(secs, "{:.3f}"), statistics.median(secs) / base, spread(rss, "{:.1f}")))
    lines.append("")

soak = optional("soak.tsv")
if soak:
    rss = [(int(r["seconds"]), int(r["rss_kb"])) for r in soak]
    last = rss[-1][0]
    first_max = max(v for t, v in rss if t < 60)
    late_max = max(v for t, v in rss if t >= last - 60)
    lines += ["## Soak (`make soak`)", "",
              "The worker (one queue) under a steady {:.0f} SYN/s for {} s, VmRSS every {} s: first minute's largest {:.1f} MB, last "
              "minute's {:.1f} MB (growth {} kB); {} SYNs arrived at the server, {} of them clamped (the rest passed unclamped, fail-open, while the worker was starved of CPU). Plot: bench/soak.png.".format(
                  int(soak[-1]["arrived"]) / max(1, last), last, rss[1][0] - rss[0][0] if len(rss) > 1 else 0,
                  first_max / 1024, late_max / 1024, late_max - first_max, soak[-1]["arrived"], soak[-1]["clamped"]), ""]

# Plots.
numeric = [r for r in rates if r != "max"]
data = os.path.join(results, "sweep.dat")
with open(data, "w") as f:
    for who in contenders:
        f.write("# {}\n".format(names[who]))
        for rate in numeric:
            ps = of(who, rate)
            if ps:
                f.write("{} {:.0f}\n".format(rate, statistics.median([rate_of(p) for p in ps])))
        f.write("\n\n")
with open(os.path.join(results, "latency.dat"), "w") as f:
    for index, who in enumerate(contenders):
        p50, p99 = lat[who]
        if p50:
            f.write('{} "{}" {:.0f} {:.0f}\n'.format(index, names[who], statistics.median(p50), statistics.median(p99)))
plots = ["set terminal png size 900,560", "set key left top", "set grid",
         "set output '{}/bench/sweep.png'".format(root), "set xlabel 'offered SYN/s'", "set ylabel 'clamped SYN/s at the server'",
         "set title 'Clamped SYN/s against offered load (median of repeats)'",
         "plot " + ", ".join("'{}' index {} using 1:2 with linespoints title '{}'".format(data, i, names[w]) for i, w in enumerate(contenders)),
         "set output '{}/bench/latency.png'".format(root), "set style data histograms", "set style fill solid 0.6", "set boxwidth 0.8",
         "set xlabel ''", "set ylabel 'connect latency (µs)'", "set title 'Connect latency through the router (median of runs)'",
         "plot '{0}/latency.dat' using 3:xtic(2) title 'p50', '' using 4 title 'p99'".format(results)]
if soak:
    plots += ["unset style", "set style data lines", "set output '{}/bench/soak.png'".format(root), "set xlabel 'seconds'",
              "set ylabel 'VmRSS (MB)'", "set yrange [0:*]", "set title 'mssclamp resident memory under a steady SYN flood'",
              "plot '{}/soak.tsv' using 1:($2/1024) skip 1 with lines title 'VmRSS'".format(results)]
if subprocess.run(["gnuplot"], input="\n".join(plots), text=True).returncode == 0:
    lines += ["## Plots", "", "![clamped against offered](bench/sweep.png)", "", "![latency](bench/latency.png)", ""]
    if soak:
        lines += ["![soak](bench/soak.png)", ""]
else:
    print("report: gnuplot failed; tables only", file=sys.stderr)

# The five-line summary on top, from the same figures as the tables below.
summary = []
mine = [w for w in ("mssclamp", "mpin", "mssclamp2") if of(w, "150000")]
if mine:
    bad = [int(p["sent"]) - int(p["clamped"]) for w in mine for p in of(w, "150000")]
    cbad = [int(p["arrived"]) - int(p["clamped"]) for p in of("c", "150000")]
    summary.append("- **At 150k SYN/s**: mssclamp lost or left unclamped {} SYNs per run over {} runs (1 queue, pinned, 2 queues); "
                   "the C consumer left {} unclamped.".format(spread(bad), len(bad), spread(cbad)))
if "max" in rates and "mssclamp" in sat and "c" in sat:
    share = lambda w: statistics.median([int(p["clamped"]) / max(1, int(p["sent"])) for p in of(w, "max")])
    summary.append("- **Flooded**: {:.0f} clamped SYN/s, {:.2f}× the C consumer, {:.1%} of SYNs clamped (C {:.1%}); CPU per SYN "
                   "{} µs against C's {} µs, most of it the kernel's.".format(
                       sat["mssclamp"], sat["mssclamp"] / sat["c"], share("mssclamp"), share("c"),
                       spread([float(p["cpu_us_per_syn"]) for p in of("mssclamp", "max")], "{:.2f}"),
                       spread([float(p["cpu_us_per_syn"]) for p in of("c", "max")], "{:.2f}")))
if lat.get("mssclamp") and lat["mssclamp"][0] and base50 is not None and lat.get("c") and lat["c"][0]:
    summary.append("- **Latency added** to a connect: p50 +{:.0f} µs, p99 +{:.0f} µs (C consumer +{:.0f} / +{:.0f}).".format(
        statistics.median(lat["mssclamp"][0]) - base50, statistics.median(lat["mssclamp"][1]) - base99,
        statistics.median(lat["c"][0]) - base50, statistics.median(lat["c"][1]) - base99))
if transfers and med.get("mstall") and med.get("mct"):
    stall_sat = statistics.median([rate_of(p) for p in of("mstall", "max")]) if of("mstall", "max") else None
    ct_sat = statistics.median([rate_of(p) for p in of("mct", "max")]) if of("mct", "max") else None
    overlap = min(mbit["mstall"]) <= max(mbit["mct"]) and min(mbit["mct"]) <= max(mbit["mstall"])
    summary.append("- **Detection of stalled flows** (`--learn-stalls`), against mssclamp on a router that tracks connections: "
                   "forwarding {:.3f}× ({} against {} Mbit/s, one flow{}){}; mssclamp without conntrack forwards {}.".format(
                       med["mstall"] / med["mct"], spread(mbit["mstall"]), spread(mbit["mct"]),
                       ": the ranges overlap, no cost this run can resolve" if overlap else "",
                       "; flooded SYNs clamped {:.2f}× (it queues every SYN)".format(stall_sat / ct_sat) if stall_sat and ct_sat else "",
                       spread(mbit.get("mssclamp", []))))
if calls:
    per = {row["layout"]: row["instructions_per_syn"] for row in calls}
    summary.append("- **Code per SYN**: {} instructions (IPv6 {}), no heap allocation (`make allocs`).".format(
        per.get("linux", "-"), per.get("linux6", "-")))
if soak and dry:
    peak = max(int(p["peak_rss_kb"]) for p in points if p["contender"] == "mssclamp") / 1024
    dmed = statistics.median([float(r["seconds"]) for r in dry if r["tool"] == "dry-run -q"])
    summary.append("- **Memory**: peak RSS {:.1f} MB, flat over the soak ({} kB growth); a million-SYN dry-run `-q` in {:.2f} s "
                   "({:.2f}× tcpdump).".format(peak, late_max - first_max, dmed, dmed / base))
lines[4:4] = ["## Summary", ""] + summary + [""]

for extra in ("LEVERS.md", "NOTES.md"):
    path = os.path.join(root, "bench", extra)
    if os.path.exists(path):
        lines += [open(path).read().rstrip(), ""]
with open(os.path.join(root, "BENCHMARKS.md"), "w") as f:
    f.write("\n".join(lines))
print("report: wrote BENCHMARKS.md, bench/sweep.png, bench/latency.png")

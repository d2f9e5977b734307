#!/usr/bin/env python3
"""Benchmark, not a test: what the helper weighs at every start and while the watcher waits.
Peak RSS of `usbrecover list` and `usbrecover --help`, the watcher's RSS once it is idle, the
shared libraries the binary needs, and start-up time (`--help`, median of 50 runs) next to
/bin/true's, whose start-up is the floor for any dynamically linked program on this machine.
usage: bench_weight.py HELPER"""
import os
import statistics
import subprocess
import sys
import time

helper = sys.argv[1]


def peak_rss_kib(args):
    """Peak RSS of one run in KiB, from GNU time, which forks from its own small process: a
    Python parent's getrusage would count the interpreter's pages the child had before exec."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    return int(out.stderr.strip().splitlines()[-1])


def mib(kib):
    return f"{kib / 1024:.2f} MiB" if kib else "not measured (GNU time, package time, is not installed)"


def start_ms(args, runs=50):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def watcher_idle_kib():
    """VmRSS of `usbrecover watch` one second after it started (no NUT driver, this machine's
    kernel log and uevents), or None where it cannot run."""
    p = subprocess.Popen([helper, "watch", "--duration", "3s", "--ups-conf", "/nonexistent"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    rss = None
    try:
        with open(f"/proc/{p.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    p.kill()
    p.wait()
    return rss


libs = [l.split()[0] for l in subprocess.run(["ldd", helper], capture_output=True, text=True).stdout.splitlines()
        if "=>" in l]
print(f"usbrecover ({os.path.getsize(helper)} bytes), shared libraries: {len(libs)} ({' '.join(libs)})")
print(f"  peak RSS, list:        {mib(peak_rss_kib([helper, 'list']))}")
print(f"  peak RSS, --help:      {mib(peak_rss_kib([helper, '--help']))}")
idle = watcher_idle_kib()
print(f"  watcher idle RSS:      {idle / 1024:.2f} MiB" if idle else "  watcher idle RSS:      not measured (it did not run)")
ours, floor = start_ms([helper, "--help"]), start_ms(["/bin/true"])
print(f"  start-up, --help:      median {ours:.2f} ms; /bin/true {floor:.2f} ms; ratio {ours / floor:.2f}")

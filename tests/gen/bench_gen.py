#!/usr/bin/env python3
"""Benchmark, not a test: generator wall time and peak RSS on an N-entry table.
usage: bench_gen.py GENERATOR N"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

gen, n = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    table = os.path.join(tmp, "big.toml")
    with open(table, "w", encoding="utf-8") as f:
        f.write("schema = 1\n[defaults]\nprobe = \"open\"\n")
        for i in range(n):
            f.write(f'\n[[device]]\nname = "bench device {i}"\nids = ["{i >> 16:04x}:{i & 0xffff:04x}"]\n'
                    f'services = ["bench{i % 7}.service"]\n')
    size = os.path.getsize(table)
    times = []
    for run in range(5):
        out = os.path.join(tmp, f"out{run}")
        start = time.perf_counter()
        subprocess.run([gen, "--table", table, "--output-dir", out, "--quiet"], check=True)
        times.append(time.perf_counter() - start)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rules = os.path.getsize(os.path.join(tmp, "out0", "rules", "70-usbrecover.rules"))
    hwdb = os.path.getsize(os.path.join(tmp, "out0", "hwdb", "70-usbrecover.hwdb"))
    print(f"usbrecover-gen, {n} entries ({size} bytes of TOML -> {hwdb} bytes of hwdb, {rules} bytes of rules), "
          "5 runs:")
    print(f"  wall time: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"  per entry: {statistics.median(times) / n * 1e6:.1f} us")
    print(f"  peak RSS:  {rss_kib / 1024:.1f} MiB")

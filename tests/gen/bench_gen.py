#!/usr/bin/env python3
"""Benchmark, not a test: generator wall time and peak RSS on an N-entry table.
usage: bench_gen.py GENERATOR N [TOML_PARSE]

A wall time alone says little on a machine other than the one it was taken on (or on the same
one under load), so each run also times peers on the same table, alternating with the
generator so that they see the same load, and the ratios are printed:

- TOML_PARSE (tests/gen/bench_toml_parse.cpp): toml++ reading the table into its tree and
  nothing else, the floor under usbrecover-gen, which parses with toml++ too. A program of
  its own, so the generator needs no hook for it.
- Python's tomllib (3.11 and later; Debian 12 has 3.11) reading the table, as
  `python3 -c "import tomllib; tomllib.load(...)"`: the parser most machines have, in pure
  Python. Skipped when tomllib is missing.

Every figure is a whole process, start to exit, like the generator's; peak RSS is each
program's own (wait4), not the largest of all children."""
import os
import statistics
import sys
import tempfile
import time


def run(argv):
    """Runs argv to completion; its wall time in seconds and peak RSS in KiB."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_gen.py: {argv} failed with status {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss


def have_tomllib():
    try:
        import tomllib  # noqa: F401  (Python 3.11 and later)
    except ImportError:
        return False
    return True


gen, n = sys.argv[1], int(sys.argv[2])
toml_parse = sys.argv[3] if len(sys.argv) > 3 else None
with tempfile.TemporaryDirectory() as tmp:
    table = os.path.join(tmp, "big.toml")
    with open(table, "w", encoding="utf-8") as f:
        f.write("schema = 1\n[defaults]\nprobe = \"open\"\n")
        for i in range(n):
            f.write(f'\n[[device]]\nname = "bench device {i}"\nids = ["{i >> 16:04x}:{i & 0xffff:04x}"]\n'
                    f'services = ["bench{i % 7}.service"]\n')
    size = os.path.getsize(table)
    programs = {"usbrecover-gen": lambda run_no: [gen, "--table", table, "--output-dir",
                                                  os.path.join(tmp, f"out{run_no}"), "--quiet"]}
    if toml_parse:
        programs["toml++ parse alone"] = lambda run_no: [toml_parse, table]
    if have_tomllib():
        programs["python3 tomllib.load"] = lambda run_no: [
            sys.executable, "-c", f"import tomllib; tomllib.load(open({table!r}, 'rb'))"]
    times = {name: [] for name in programs}
    rss = {name: 0 for name in programs}
    for run_no in range(5):
        for name, argv in programs.items():
            elapsed, rss_kib = run(argv(run_no))
            times[name].append(elapsed)
            rss[name] = max(rss[name], rss_kib)
    rules = os.path.getsize(os.path.join(tmp, "out0", "rules", "70-usbrecover.rules"))
    hwdb = os.path.getsize(os.path.join(tmp, "out0", "hwdb", "70-usbrecover.hwdb"))
    median = {name: statistics.median(t) for name, t in times.items()}
    t = times["usbrecover-gen"]
    print(f"usbrecover-gen, {n} entries ({size} bytes of TOML -> {hwdb} bytes of hwdb, {rules} bytes of rules), "
          "5 runs:")
    print(f"  wall time: median {median['usbrecover-gen'] * 1000:.0f} ms, "
          f"min {min(t) * 1000:.0f} ms, max {max(t) * 1000:.0f} ms")
    print(f"  per entry: {median['usbrecover-gen'] / n * 1e6:.1f} us")
    print(f"  peak RSS:  {rss['usbrecover-gen'] / 1024:.1f} MiB")
    for name in programs:
        if name == "usbrecover-gen":
            continue
        print(f"  peer, {name}: median {median[name] * 1000:.0f} ms, peak RSS {rss[name] / 1024:.1f} MiB; "
              f"usbrecover-gen takes {median['usbrecover-gen'] / median[name]:.2f}x its time")

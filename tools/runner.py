"""Run ladder stages against one local 00_server and collect their reports.

The engine behind `./ladder bench` (and the tour): it starts 00_server on a
free loopback port, runs stage binaries with --json, and reads what the server
itself saw from /stats. Every child runs in its own process group and is killed
on exit, Ctrl-C or an error, so nothing is left behind.
"""

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = [
    "01_blocking", "02_process_pool", "03_thread_pool", "04_busy_loop",
    "05_callbacks", "06_generators", "07_coroutines", "08_toolkit", "09_executors",
]

_children = []  # every Popen we started and have not reaped


def _kill_all(*_):
    for p in list(_children):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        _children.remove(p)


def install_cleanup():
    """Ctrl-C and SIGTERM stop every child before we exit."""
    import atexit
    atexit.register(_kill_all)

    def on_signal(signum, _frame):
        _kill_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def binary(build, stage):
    return os.path.join(build, "stages", stage, stage)


def available_stages(build):
    return [s for s in STAGES if os.access(binary(build, s), os.X_OK)]


def resolve_stages(build, wanted):
    """'01', '5', '07_coroutines' -> stage names that were built."""
    built = available_stages(build)
    names = []
    for w in wanted:
        match = [s for s in built if s.startswith(w.zfill(2) + "_") or s == w]
        if not match:
            raise SystemExit(f"ladder: no built stage '{w}'; built: {' '.join(built)}")
        names.append(match[0])
    return names


class Server:
    """A 00_server on a free port for the length of a `with` block."""

    def __init__(self, build, delay_ms, jitter_ms=0, extra=()):
        argv = [binary(build, "00_server"), "--port", "0", "--delay-ms", str(delay_ms),
                "--jitter-ms", str(jitter_ms), *extra]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     start_new_session=True, text=True)
        _children.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"ladder: 00_server did not start ({line!r})")
        self.port = int(line.rsplit(":", 1)[1])

    def __enter__(self):
        return self

    def __exit__(self, *_):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc in _children:
            _children.remove(self.proc)

    def stats(self, reset=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/stats?reset=1" if reset else "/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


def run_stage(build, server, stage, count, timeout_ms=30000, extra=(), limit_s=None):
    """Runs one stage with --json; returns its report plus what the server saw."""
    server.stats(reset=True)
    argv = [binary(build, stage), "--port", str(server.port), "--count", str(count),
            "--timeout-ms", str(timeout_ms), "--json", "--quiet", *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    _children.append(proc)
    try:
        out, err = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\nkilled after {limit_s} s"
    _children.remove(proc)
    try:
        report = json.loads(out)
    except ValueError:
        report = {"stage": stage, "ok": 0, "failed": count, "errors": [err.strip()[-300:]]}
    report["exit_code"] = proc.returncode
    report["command"] = " ".join(argv)
    seen = server.stats()
    report["server_peak_open"] = seen["peak_open_connections"]
    report["server_served"] = seen["served"]
    return report


def median(values):
    return statistics.median(values) if values else float("nan")


# --- ./ladder bench ---------------------------------------------------------------------

BENCH_KEYS = ["wall_s", "user_s", "sys_s", "max_rss_kb", "ctx_voluntary", "ctx_involuntary"]


def bench(build, stages, count, delay_ms, repeat, extra=()):
    """Runs the stages alternately `repeat` times on one server; prints medians and ratios."""
    runs = {s: [] for s in stages}
    with Server(build, delay_ms) as server:
        for r in range(repeat):
            for s in stages:
                rep = run_stage(build, server, s, count, timeout_ms=max(30000, 4 * delay_ms),
                                extra=extra)
                runs[s].append(rep)
                print(f"  run {r + 1}/{repeat} {s}: {rep.get('wall_s', float('nan')):.3f} s, "
                      f"{rep.get('ok', 0)}/{count} ok", file=sys.stderr)
    rows = []
    for s in stages:
        reps = runs[s]
        row = {"stage": s, "runs": len(reps), "ok": min(r.get("ok", 0) for r in reps)}
        for k in BENCH_KEYS:
            row[k] = median([r[k] for r in reps if k in r])
        row["overhead_ms"] = (row["wall_s"] - delay_ms / 1000) * 1000
        row["pages_per_s"] = count / row["wall_s"] if row["wall_s"] else float("nan")
        row["rss_per_page_kb"] = row["max_rss_kb"] / count
        row["server_peak_open"] = max(r.get("server_peak_open", 0) for r in reps)
        if any("frame_bytes_per_task" in r for r in reps):
            row["frame_bytes_per_task"] = median([r["frame_bytes_per_task"] for r in reps
                                                  if "frame_bytes_per_task" in r])
        rows.append(row)
    base = rows[0]
    print(f"\n{count} pages x {delay_ms} ms delay, median of {repeat} alternating runs "
          f"({os.cpu_count()} cores, {os.uname().release})")
    print(f"{'stage':<16} {'ok':>6} {'wall s':>8} {'overhead ms':>12} {'pages/s':>9} "
          f"{'cpu s':>7} {'max rss MiB':>12} {'server peak':>12} {'wall/first':>11}")
    for row in rows:
        cpu = row["user_s"] + row["sys_s"]
        print(f"{row['stage']:<16} {row['ok']:>6} {row['wall_s']:>8.3f} {row['overhead_ms']:>12.1f} "
              f"{row['pages_per_s']:>9.0f} {cpu:>7.3f} {row['max_rss_kb'] / 1024:>12.1f} "
              f"{row['server_peak_open']:>12} {row['wall_s'] / base['wall_s']:>11.2f}")
    if len(rows) > 1:
        print()
        for row in rows[1:]:
            o0, o1 = base["overhead_ms"], row["overhead_ms"]
            print(f"{row['stage']} vs {base['stage']}: wall x{row['wall_s'] / base['wall_s']:.3f}, "
                  f"pages/s x{row['pages_per_s'] / base['pages_per_s']:.3f}, "
                  f"overhead {o1:.1f} ms vs {o0:.1f} ms, "
                  f"max rss x{row['max_rss_kb'] / base['max_rss_kb']:.2f}")
    for row in rows:
        if "frame_bytes_per_task" in row:
            print(f"{row['stage']}: coroutine frame bytes per page {row['frame_bytes_per_task']:.0f}")
    return rows


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(prog="ladder")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="run stages alternately and print medians and ratios")
    b.add_argument("stages", nargs="+", help="stage numbers, e.g. 05 07")
    b.add_argument("--count", type=int, default=10)
    b.add_argument("--delay-ms", type=int, default=300)
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--selector", choices=["epoll", "poll"])
    args = parser.parse_args(argv)
    install_cleanup()
    if args.command == "bench":
        if args.count < 1 or args.repeat < 1 or args.delay_ms < 0:
            parser.error("--count and --repeat must be >= 1, --delay-ms >= 0")
        extra = ("--selector", args.selector) if args.selector else ()
        rows = bench(args.build, resolve_stages(args.build, args.stages), args.count,
                     args.delay_ms, args.repeat, extra)
        return 0 if all(r["ok"] == args.count for r in rows) else 1
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

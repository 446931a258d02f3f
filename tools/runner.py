"""Run ladder stages against one local 00_server and collect their reports.

The engine behind `./ladder bench` and `./ladder run` (and the tour): it starts
00_server on a free loopback port, runs stage binaries with --json, and reads
what the server itself saw from /stats. Every child runs in its own process
group and is killed on exit, Ctrl-C or an error, so nothing is left behind; only
the stage of `./ladder run` shares the terminal's group, as if typed there.
"""

import atexit
import ctypes
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

import environment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each client stage: its one-line idea, and how many pages it keeps in flight
# ("one": one at a time, "pool": as many as its workers, "all": every page).
STAGE_INFO = {
    "01_blocking": ("connect, send, recv until EOF: one page after another", "one"),
    "02_process_pool": ("the same blocking fetch in a pool of forked worker processes", "pool"),
    "03_thread_pool": ("the same blocking fetch in a pool of threads", "pool"),
    "04_busy_loop": ("non-blocking sockets, asked again and again in a spin loop", "one"),
    "05_callbacks": ("epoll says which socket is ready; callbacks do the rest", "all"),
    "06_generators": ("generators yield Futures; a Task steps them along (yield from)", "all"),
    "07_coroutines": ("native coroutines: co_await hides the event loop", "all"),
    "08_toolkit": ("asyncio's toolbox: timers, gather/wait, Lock/Event/Semaphore/Queue", "demo"),
    "09_executors": ("CPU-bound work: run_in_executor with threads and processes", "demo"),
    "10_green_threads": ("01's blocking code on fibers: each blocking call yields", "all"),
    "11_io_uring": ("07's coroutines on io_uring: the kernel does the I/O, then says it is done", "all"),
}
STAGES = list(STAGE_INFO)

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


def _die_with_parent():
    """In the child, before exec: if this script is killed outright (SIGKILL
    leaves it no time to clean up), the kernel sends the child SIGTERM."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(argv, **kwargs):
    """Popen in a session of its own, remembered for cleanup."""
    proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=_die_with_parent, **kwargs)
    _children.append(proc)
    return proc


def install_cleanup():
    """Ctrl-C and SIGTERM stop every child before we exit."""
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
            print(f"ladder: no built stage '{w}'; built: {' '.join(built)}", file=sys.stderr)
            sys.exit(2)
        names.append(match[0])
    return names


class Server:
    """A 00_server on a free port for the length of a `with` block."""

    def __init__(self, build, delay_ms=None, jitter_ms=0, extra=()):
        # Without a delay the server keeps its own default (`./ladder run`).
        delay = ["--delay-ms", str(delay_ms)] if delay_ms is not None else []
        argv = [binary(build, "00_server"), "--port", "0", *delay, "--jitter-ms", str(jitter_ms),
                *extra]
        self.workdir = tempfile.mkdtemp(prefix="ladder.")
        # Its stderr goes to a file: it says why it would not start (a bad --fault),
        # and a pipe nobody reads would fill up and stop it.
        with open(os.path.join(self.workdir, "server.err"), "w") as err:
            self.proc = spawn(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.wait()
            with open(os.path.join(self.workdir, "server.err")) as err:
                why = err.read().strip() or repr(line)
            shutil.rmtree(self.workdir, ignore_errors=True)
            print(f"ladder: 00_server did not start: {why}", file=sys.stderr)
            sys.exit(2 if self.proc.returncode == 2 else 1)  # 2: a bad flag, as the server says
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
        shutil.rmtree(self.workdir, ignore_errors=True)

    def cpu_s(self):
        """The server's CPU seconds so far (user + sys): read before and after a
        stage, the difference says how hard the server worked for that stage."""
        return process_cpu_s(self.proc.pid)

    def stats(self, reset=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/stats?reset=1" if reset else "/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


def process_cpu_s(pid):
    """utime + stime of a live process from /proc/PID/stat, in seconds.

    The kernel counts them in clock ticks (SC_CLK_TCK, 100 a second on Linux),
    so anything shorter than 10 ms reads as 0. The command name (field 2) may
    hold spaces and parentheses: the fields we want come after its last ')'."""
    with open(f"/proc/{pid}/stat") as f:
        after_name = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(after_name[11]), int(after_name[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def stage_argv(build, server, stage, count=None, extra=()):
    """The command a student would type to run this stage against this server."""
    argv = [os.path.relpath(binary(build, stage), ROOT), "--port", str(server.port)]
    if count is not None:
        argv += ["--count", str(count)]
    return argv + list(extra)


def finish(proc, limit_s=None):
    """Waits for a spawned child (its group killed after limit_s); returns its
    (stdout, stderr) as communicate() does, stderr ending "killed after N s" then."""
    try:
        out, err = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err = (err or "") + f"\nkilled after {limit_s} s"
    _children.remove(proc)
    return out, err or ""


def run_stage(build, server, stage, count=None, extra=(), limit_s=None, show_output=False):
    """Runs one stage; returns its JSON report plus what the server saw.

    With show_output the stage prints as usual (its per-page lines and summary
    reach the terminal) and the report comes through LADDER_REPORT_JSON;
    otherwise it runs with --json --quiet and its stdout is the report."""
    server.stats(reset=True)
    argv = stage_argv(build, server, stage, count, extra)
    report_file = os.path.join(server.workdir, stage + ".json")
    env = dict(os.environ, LADDER_REPORT_JSON=report_file)
    if not show_output:
        argv += ["--json", "--quiet"]
    pipe = None if show_output else subprocess.PIPE
    if os.path.exists(report_file):
        os.remove(report_file)
    server_cpu_before = server.cpu_s()
    proc = spawn(argv, stdout=pipe, stderr=pipe, text=True, env=env, cwd=ROOT)
    _, err = finish(proc, limit_s)
    # Before /stats below: answering it is server work the stage did not cause.
    server_cpu = server.cpu_s() - server_cpu_before
    try:
        with open(report_file) as f:
            report = json.load(f)
    except (OSError, ValueError):
        report = {"stage": stage, "ok": 0, "failed": count or 0,
                  "errors": [(err or "").strip()[-300:] or f"exit code {proc.returncode}"]}
    report["exit_code"] = proc.returncode
    report["command"] = " ".join(argv)
    seen = server.stats()
    report["server_peak_open"] = seen["peak_open_connections"]
    report["server_served"] = seen["served"]
    report["server_cpu_s"] = server_cpu
    return report


# --- ./ladder run ----------------------------------------------------------------------

def say(text):
    print(f"ladder: {text}", file=sys.stderr)


def stage_folders(build):
    """Every stage the build made, 00_server first, whether or not STAGE_INFO knows it."""
    root = os.path.join(build, "stages")
    names = os.listdir(root) if os.path.isdir(root) else []
    return sorted(n for n in names
                  if n[:2].isdigit() and n[2:3] == "_" and os.access(binary(build, n), os.X_OK))


def find_stage(build, wanted):
    """'01' or '01_blocking' -> the built stage, 00_server included."""
    built = stage_folders(build)
    match = [s for s in built if s.startswith(wanted + "_") or s == wanted]
    if not match:
        say(f"no stage {wanted}; the stages are: {' '.join(built)}")
        sys.exit(2)
    return match[0]


def run_by_hand(build, stage, flags):
    """`./ladder run NN [flags]`: one stage against a server of its own, in the
    terminal as a student would type it; returns the command's exit code."""
    path = binary(build, stage)
    # The server itself, a stage pointed at a server of the user's own, or --help:
    # nothing to start, the binary takes our place.
    if stage == "00_server" or any(f in ("--port", "--help") or f.startswith("--port=")
                                   for f in flags):
        os.execv(path, [path, *flags])
    with Server(build) as server:
        say(f"00_server is listening on 127.0.0.1:{server.port} (pid {server.proc.pid})")
        argv = stage_argv(build, server, stage, extra=flags)
        say("running: " + " ".join(argv))
        return in_foreground(argv)


def in_foreground(argv):
    """Runs argv in our own process group, so that Ctrl-C reaches it as typed in
    the terminal: 02 and 07-09 then stop cleanly and still print their report.
    A SIGINT or SIGTERM sent to us alone is passed on. Either way we wait for it,
    then answer 128 + that signal, as a shell would; else its own exit code."""
    proc = subprocess.Popen(argv, cwd=ROOT, preexec_fn=_die_with_parent)
    caught = []

    def pass_on(signum, _frame):
        caught.append(signum)
        proc.send_signal(signum)  # a no-op once it has exited

    before = {s: signal.signal(s, pass_on) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    if caught:
        return 128 + caught[0]
    return 128 - code if code < 0 else code


def median(values):
    return statistics.median(values) if values else float("nan")


# --- ./ladder bench ---------------------------------------------------------------------

BENCH_KEYS = ["wall_s", "user_s", "sys_s", "server_cpu_s", "max_rss_kb", "ctx_voluntary",
              "ctx_involuntary"]


def cpu_s(report):
    return report["user_s"] + report["sys_s"]


def spread(values, digits):
    """min-max of the repeats, the noise a median hides."""
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}" if values else "-"


def bench(build, variants, count, delay_ms, repeat, extra=()):
    """Runs each (stage, its own flags) alternately `repeat` times on one server;
    prints what the numbers depend on, then medians with their spread, and ratios.
    The same stage twice with other flags measures what the flags cost."""
    labels = [" ".join([stage, *flags]) for stage, flags in variants]
    runs = {label: [] for label in labels}
    with Server(build, delay_ms) as server:
        for r in range(repeat):
            for label, (stage, flags) in zip(labels, variants):
                rep = run_stage(build, server, stage, count,
                                extra=("--timeout-ms", str(max(30000, 4 * delay_ms)), *extra,
                                       *flags))
                runs[label].append(rep)
                print(f"  run {r + 1}/{repeat} {label}: "
                      f"{rep.get('wall_s', float('nan')):.3f} s, {rep.get('ok', 0)}/{count} ok",
                      file=sys.stderr)
    rows = [bench_row(label, runs[label], count, delay_ms) for label in labels]
    print(f"\n{count} pages x {delay_ms} ms delay, {repeat} alternating runs of each stage")
    environment.print_header(environment.environment(build, repeat))
    print()
    bench_table(rows)
    bench_lines(rows, runs, count, delay_ms)
    return rows


def bench_row(stage, reps, count, delay_ms):
    """One stage's medians, and the values of every run under "all" for the spreads."""
    measured = [r for r in reps if "wall_s" in r]  # a run that never reported has no numbers
    row = {"stage": stage, "runs": len(reps), "ok": min(r.get("ok", 0) for r in reps)}
    row["all"] = {"wall_s": [r["wall_s"] for r in measured],
                  "cpu_s": [cpu_s(r) for r in measured],
                  "server_cpu_s": [r["server_cpu_s"] for r in measured],
                  "max_rss_mib": [r["max_rss_kb"] / 1024 for r in measured]}
    for k in BENCH_KEYS:
        row[k] = median([r[k] for r in reps if k in r])
    row["cpu_s"] = median(row["all"]["cpu_s"])
    row["overhead_ms"] = (row["wall_s"] - delay_ms / 1000) * 1000
    row["pages_per_s"] = count / row["wall_s"] if row["wall_s"] else float("nan")
    row["rss_per_page_kb"] = row["max_rss_kb"] / count
    row["server_peak_open"] = max(r.get("server_peak_open", 0) for r in reps)
    if any("frame_bytes_per_page" in r for r in reps):
        row["frame_bytes_per_page"] = median([r["frame_bytes_per_page"] for r in reps
                                              if "frame_bytes_per_page" in r])
    return row


def bench_table(rows):
    """Medians, each followed by the min-max of its runs; 'vs first' is a ratio of medians."""
    base = rows[0]
    w = max([16] + [len(row["stage"]) for row in rows])  # a stage with flags is a longer name
    head = (f"{'stage':<{w}} {'ok':>5} {'wall s':>8} {'min-max':>13} {'cpu s':>7} {'min-max':>13} "
            f"{'srv cpu s':>9} {'min-max':>10} {'max rss MiB':>11} {'min-max':>9} "
            f"{'in flight':>9} {'vs first':>8}")
    print(head)
    print("-" * len(head))
    for row in rows:
        every = row["all"]
        print(f"{row['stage']:<{w}} {row['ok']:>5} {row['wall_s']:>8.3f} "
              f"{spread(every['wall_s'], 3):>13} {row['cpu_s']:>7.3f} "
              f"{spread(every['cpu_s'], 3):>13} {row['server_cpu_s']:>9.2f} "
              f"{spread(every['server_cpu_s'], 2):>10} {row['max_rss_kb'] / 1024:>11.1f} "
              f"{spread(every['max_rss_mib'], 1):>9} {row['server_peak_open']:>9} "
              f"{row['wall_s'] / base['wall_s']:>8.2f}")
    print("\n'cpu s' is the stage's user + sys, 'srv cpu s' 00_server's over the same runs "
          "(10 ms ticks);\n'in flight' is the server's peak_open_connections, the most of any run.")


def bench_lines(rows, runs, count, delay_ms):
    """What the medians mean per page, and each stage against the first."""
    base = rows[0]
    print()
    for row in rows:
        line = (f"{row['stage']}: {row['pages_per_s']:.0f} pages/s, "
                f"overhead {row['overhead_ms']:.1f} ms (wall minus one {delay_ms} ms delay)")
        if row is not base:
            line += (f"; vs {base['stage']}: wall x{row['wall_s'] / base['wall_s']:.3f}, "
                     f"cpu x{row['cpu_s'] / base['cpu_s'] if base['cpu_s'] else float('nan'):.3f}, "
                     f"pages/s x{row['pages_per_s'] / base['pages_per_s']:.3f}, "
                     f"max rss x{row['max_rss_kb'] / base['max_rss_kb']:.2f}")
        print(line)
    for row in rows:
        if "frame_bytes_per_page" in row:
            print(f"{row['stage']}: coroutine frame bytes per page {row['frame_bytes_per_page']:.0f}")
    for s in runs:  # 07 and 11 count their syscalls the same way (common/syscall_count.hpp)
        counted = [r["syscalls_per_page"] for r in runs[s] if "syscalls_per_page" in r]
        cpu = median([cpu_s(r) / count for r in runs[s] if "user_s" in r])
        if counted:
            print(f"{s}: syscalls per page {median(counted):.2f}, cpu per page {cpu * 1e6:.1f} us")
        if any("skipped" in r for r in runs[s]):
            print(f"{s}: skipped: {runs[s][0]['skipped']}")

"""The class tour (`./ladder`) and the teacher's comparison (`./ladder compare`).

Both run the stages against one 00_server and end with the same comparison:
what the numbers depend on (environment.py: build, compiler, machine), then a
table (wall time, speed-up over 01, the stage's CPU and the server's, context
switches, pages in flight as the *server* saw them, memory) and a bar chart of
wall time.
"""

import datetime
import json
import math
import os
import statistics
import sys
import time
import xml.sax.saxutils as sax

import environment
import runner
import timeline

PRESETS = {  # name: (pages, delay ms)
    "class": (10, 300),
    "c10k": (10000, 1000),
}
FULL_RUN_BUDGET_S = 60  # a stage predicted to take longer is measured on a sample
SAMPLE_BUDGET_S = 5     # ...that takes about this long


def use_colour(stream):
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text, code, stream=sys.stdout):
    return f"\033[{code}m{text}\033[0m" if use_colour(stream) else text


# --- the comparison ------------------------------------------------------------------------

def row_of(report):
    """The numbers the table shows, from one stage's report."""
    cpu = report.get("user_s", 0) + report.get("sys_s", 0)
    wall = report.get("wall_s", float("nan"))
    skipped = report.get("skipped")  # this machine cannot run it (11 without io_uring): exit 3
    if skipped:
        ok = report.get("exit_code") == 3
    elif "demos" in report:  # 08/09: pages cancelled on purpose are part of the lesson
        ok = report.get("exit_code") == 0 and all(d.get("ok") for d in report["demos"])
    else:
        ok = report.get("ok", 0) == report.get("requests", -1) and report.get("exit_code") == 0
    return {
        "stage": report["stage"],
        "ok": ok,
        "error": (report.get("errors") or [""])[0],
        "wall_s": wall,
        "cpu_s": cpu,
        "server_cpu_s": report.get("server_cpu_s", float("nan")),
        "wall_runs": [w for w in report.get("wall_s_runs") or [] if w is not None],
        "cpu_per_wall": cpu / wall if wall and wall == wall else float("nan"),
        "ctx": report.get("ctx_voluntary", 0) + report.get("ctx_involuntary", 0),
        "peak": report.get("server_peak_open", 0),
        "max_rss_mib": report.get("max_rss_kb", 0) / 1024,
        "estimated": report.get("estimated", False),
        "demo": "demos" in report,
        "skipped": skipped,
    }


def table(reports, out=sys.stdout):
    rows = [row_of(r) for r in reports]
    base = next((r["wall_s"] for r in rows if r["stage"] == "01_blocking" and r["ok"]), None)
    # A failed stage's first error gets a column of its own (./ladder compare --fault).
    errors = any(not r["ok"] and r["error"] for r in rows)
    # With --repeat the wall time is a median: its spread stands beside it.
    repeated = any(len(r["wall_runs"]) > 1 for r in rows)
    spread_head = f" {'wall min-max':>13}" if repeated else ""
    head = (f"{'stage':<16} {'wall s':>9}{spread_head} {'vs 01':>7} {'cpu s':>7} "
            f"{'srv cpu s':>9} {'cpu/wall':>8} {'ctx sw':>8} {'in flight':>9} {'max rss':>9}  " +
            ("status  first error" if errors else "status"))
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        spread_cell = f" {runner.spread(r['wall_runs'], 3):>13}" if repeated else ""
        if r["skipped"]:
            spread_cell = f" {'-':>13}" if repeated else ""
            print(f"{r['stage']:<16} {'-':>9}{spread_cell} {'-':>7} {'-':>7} {'-':>9} {'-':>8} "
                  f"{'-':>8} {'-':>9} {'-':>9}  skipped: {r['skipped']}", file=out)
            continue
        speed = f"x{base / r['wall_s']:.1f}" if base and r["wall_s"] > 0 and not r["demo"] else "-"
        status = "ok" if r["ok"] else paint("FAILED", "31", out)
        if r["estimated"]:
            status += " (estimate from a sample)"
        if errors and not r["ok"]:
            status += "  " + shorten(r["error"], 70)
        wall = f"~{r['wall_s']:.0f}" if r["estimated"] else f"{r['wall_s']:.3f}"
        print(f"{r['stage']:<16} {wall:>9}{spread_cell} {speed:>7} {r['cpu_s']:>7.3f} "
              f"{r['server_cpu_s']:>9.2f} {r['cpu_per_wall']:>8.2f} {int(r['ctx']):>8} "
              f"{r['peak']:>9} {r['max_rss_mib']:>6.1f} MiB  {status}", file=out)
    print("\n'in flight' is the server's own count (/stats peak_open_connections); "
          "'vs 01' is 01's wall time / the stage's.\n"
          "'cpu s' is the stage's own user + sys; 'srv cpu s' is 00_server's over the same run "
          "(in 10 ms ticks):\nthe larger of the two was the busier process.", file=out)
    if repeated:
        print("'wall s' is the median of the repeats; the other columns come from the run "
              "with that median.", file=out)


def shorten(text, width):
    text = " ".join(text.split())  # one line
    return text if len(text) <= width else text[:width - 3] + "..."


def scale(values):
    """Linear when the values are comparable, log10 when they span decades."""
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 30:
        lo = math.log10(min(positive)) - 0.3
        span = math.log10(max(positive)) - lo
        return (lambda v: (math.log10(v) - lo) / span if v > 0 else 0), "log scale"
    top = max(positive, default=1)
    return (lambda v: v / top), "linear scale"


def bars(reports, out=sys.stdout, width=40):
    rows = [row_of(r) for r in reports if not r.get("skipped")]
    frac, kind = scale([r["wall_s"] for r in rows])
    print(f"\nwall time ({kind}; shorter is better)", file=out)
    for r in rows:
        n = max(1, round(frac(r["wall_s"]) * width)) if r["wall_s"] > 0 else 0
        bar = paint("#" * n, "32" if r["ok"] else "31", out)
        mark = "~" if r["estimated"] else ""
        print(f"  {r['stage']:<16} {bar}{' ' * (width - n)} {mark}{r['wall_s']:.3f} s", file=out)


def svg(reports, title, env):
    """Two horizontal bar charts: wall time and max RSS, one bar per stage, and
    below them one small line of what the numbers depend on."""
    rows = [row_of(r) for r in reports if not r.get("skipped")]
    left, width, bar_h, gap = 150, 420, 22, 8
    panel_h = 40 + len(rows) * (bar_h + gap) + 40
    height = 50 + 2 * panel_h + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 220}" '
             f'height="{height}" viewBox="0 0 {left + width + 220} {height}" '
             'font-family="sans-serif" font-size="13">',
             f"<title>{sax.escape(title)}</title>",
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="10" y="28" font-size="17" font-weight="bold">{sax.escape(title)}</text>']
    for p, (key, label, unit) in enumerate([("wall_s", "Wall time", "s"),
                                            ("max_rss_mib", "Max RSS", "MiB")]):
        top = 50 + p * panel_h
        frac, kind = scale([r[key] for r in rows])
        parts.append(f'<text x="10" y="{top + 20}" font-weight="bold">{label} ({unit}, {kind})</text>')
        axis_y = top + 30 + len(rows) * (bar_h + gap)
        parts.append(f'<line x1="{left}" y1="{top + 30}" x2="{left}" y2="{axis_y}" stroke="black"/>')
        parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + width}" y2="{axis_y}" stroke="black"/>')
        parts.append(f'<text x="{left + width / 2}" y="{axis_y + 28}" text-anchor="middle">'
                     f'{label.lower()} in {unit} ({kind})</text>')
        for i, r in enumerate(rows):
            y = top + 34 + i * (bar_h + gap)
            w = max(1.0, frac(r[key]) * width) if r[key] > 0 else 0
            colour = ("#a8cf96" if r["estimated"] else "#4c9a2a") if r["ok"] else "#c0392b"
            estimate = " (estimate)" if r["estimated"] and key == "wall_s" else ""
            parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{r["stage"]}</text>')
            parts.append(f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{colour}"><title>{r["stage"]}: {r[key]:.3f} {unit}{estimate}'
                         f'</title></rect>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{r[key]:.3f} {unit}'
                         f'{estimate}</text>')
    parts.append(f'<text class="environment" x="10" y="{height - 12}" font-size="10" '
                 f'fill="#555">{sax.escape(environment.one_line(env))}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --- ./ladder (the tour) -------------------------------------------------------------------

def tour(build, count, delay_ms, pause, extra=()):
    stages = [s for s in runner.available_stages(build)]
    reports = []
    # Every crawler stage also writes its --trace, so the tour can end with the timeline.
    trace_dir = os.path.join(build, "trace")
    os.makedirs(trace_dir, exist_ok=True)
    server_trace = os.path.join(trace_dir, "00_server.jsonl")
    traces = []
    with runner.Server(build, delay_ms, extra=("--trace", server_trace)) as server:
        print(f"00_server is listening on 127.0.0.1:{server.port}: every page takes {delay_ms} ms "
              f"(notes/00_server.md)")
        for i, stage in enumerate(stages):
            idea, kind = runner.STAGE_INFO[stage]
            demo = kind == "demo"
            trace = os.path.join(trace_dir, stage + ".jsonl")
            flags = tuple(extra) + (() if demo else ("--trace", os.path.relpath(trace, runner.ROOT)))
            argv = runner.stage_argv(build, server, stage, None if demo else count, flags)
            print(f"\n{paint('== ' + stage + ' ==', '1')}  {idea}")
            print(f"   read: notes/{stage}.md")
            print(f"   $ {' '.join(argv)}", flush=True)
            rep = runner.run_stage(build, server, stage, None if demo else count, flags,
                                   limit_s=600, show_output=True)
            reports.append(rep)
            if not demo and not rep.get("skipped"):  # a skipped stage's file would be old
                try:
                    header, pages = timeline.load_trace(trace)
                    traces.append((stage, header, pages, timeline.stage_wall_ms(pages)))
                except (OSError, ValueError):
                    pass  # a stage that failed early may write no trace
            if rep.get("skipped"):
                print(f"   {stage} is skipped on this machine: {rep['skipped']}")
            elif rep["exit_code"] != 0:
                print(paint(f"   {stage} failed (exit {rep['exit_code']}); "
                            "the tour goes on with the next stage", "31"))
            if pause and i + 1 < len(stages):
                try:
                    answer = input("\nEnter for the next stage (q to stop here) ")
                except EOFError:
                    answer = ""
                if answer.strip().lower().startswith("q"):
                    break
    print(f"\n{len(reports)} stages, {count} pages x {delay_ms} ms each")
    environment.print_header(environment.environment(build))
    print()
    table(reports)
    bars(reports)
    if traces:
        page = os.path.join(build, "timeline.html")
        title = f"async-ladder tour: {count} pages, {delay_ms} ms server delay"
        with open(page, "w") as f:
            f.write(timeline.html_page(
                timeline.svg(traces, title, timeline.load_server_trace(server_trace)), title))
        print(f"\nWhen was each page connecting, waiting, reading? Open {os.path.relpath(page)} "
              "in a browser (notes/00_overview.md explains the chart).")
        print("What did the event loop do meanwhile? Step through it turn by turn: "
              "./ladder loop 07 --html loop.html")
    return 0 if all(row_of(r)["ok"] for r in reports) else 1


# --- ./ladder compare ----------------------------------------------------------------------

class Progress:
    """One self-overwriting line on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.live = sys.stderr.isatty()
        self.start = time.monotonic()

    def show(self, text):
        if self.live:
            sys.stderr.write(f"\r\033[K[{time.monotonic() - self.start:5.0f} s] {text}")
            sys.stderr.flush()

    def done(self):
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def scaled(rep, sample, count, per):
    """A sample's report scaled up to `count` pages, `per` pages in flight at a time."""
    factor = math.ceil(count / per) / math.ceil(sample / per)
    for key in ("wall_s", "user_s", "sys_s", "server_cpu_s", "ctx_voluntary", "ctx_involuntary",
                "bytes"):
        if key in rep:
            rep[key] = rep[key] * factor
    all_ok = rep.get("ok") == sample
    rep.update(estimated=True, sample_count=sample, requests=count,
               ok=count if all_ok else rep.get("ok", 0), failed=0 if all_ok else rep.get("failed"))
    return rep


def measure(build, server, stage, count, delay_ms, progress, extra=()):
    """One run of a stage or, when the full run would take too long (01 and 04
    at c10k need hours), a run on a sample scaled up and marked as an estimate."""
    _, kind = runner.STAGE_INFO[stage]
    delay_s = max(delay_ms / 1000, 0.001)
    if kind == "one" and count * delay_s > FULL_RUN_BUDGET_S:
        sample = max(2, int(SAMPLE_BUDGET_S / delay_s))
        progress.show(f"{stage}: a sample of {sample} pages (all {count} would take too long)")
        return scaled(runner.run_stage(build, server, stage, sample, extra, limit_s=600),
                      sample, count, 1)
    if kind == "pool" and count > 512:
        progress.show(f"{stage}: a sample of 512 pages")
        probe = runner.run_stage(build, server, stage, 512, extra, limit_s=600)
        workers = max(1, probe.get("workers", probe.get("peak_in_flight", 1)))
        if math.ceil(count / workers) * delay_s > FULL_RUN_BUDGET_S:
            return scaled(probe, 512, count, workers)
    progress.show(f"{stage}: {count} pages")
    return runner.run_stage(build, server, stage, count, extra)


def compare(build, stages, count, delay_ms, jitter_ms, repeat, preset, json_path, svg_path,
            fault=None, timeout_ms=None):
    progress = Progress()
    reports = []
    # A stalled page costs a stage its whole --timeout-ms (10 s by default), and
    # 01 and 04 pay it page after page: a shorter one keeps the lesson short.
    if fault == "stall" and timeout_ms is None:
        timeout_ms = 1000
    extra = ("--timeout-ms", str(timeout_ms)) if timeout_ms else ()
    server_flags = ("--fault", fault) if fault else ()
    with runner.Server(build, delay_ms, jitter_ms, extra=server_flags) as server:
        for stage in stages:
            runs = []
            for r in range(repeat):
                progress.show(f"{stage} run {r + 1}/{repeat}")
                runs.append(measure(build, server, stage, count, delay_ms, progress, extra))
            runs.sort(key=lambda rep: rep.get("wall_s", float("inf")))
            median_run = dict(runs[(len(runs) - 1) // 2])  # the run with the median wall time
            median_run["repeat"] = repeat
            median_run["wall_s_runs"] = [rep.get("wall_s") for rep in runs]
            walls = [rep["wall_s"] for rep in runs if "wall_s" in rep]
            if walls:  # none from a stage that was skipped or never reported (no NaN in JSON)
                median_run["wall_s"] = statistics.median(walls)
            reports.append(median_run)
    progress.done()
    label = preset or "custom"
    faulty = f"every page with fault '{fault}', " if fault else ""
    timeout = f"--timeout-ms {timeout_ms}, " if timeout_ms else ""
    env = environment.environment(build, repeat)
    print(f"{label}: {count} pages x {delay_ms} ms (jitter {jitter_ms} ms), {faulty}{timeout}"
          f"{repeat} run(s) of each stage")
    environment.print_header(env)
    print()
    table(reports)
    bars(reports)
    if json_path:
        doc = {"preset": label, "count": count, "delay_ms": delay_ms, "jitter_ms": jitter_ms,
               "fault": fault or "none", "timeout_ms": timeout_ms,
               "repeat": repeat, "environment": env,
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "stages": reports}
        with open(json_path, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"\nwrote {json_path}")
    if svg_path:
        with open(svg_path, "w") as f:
            f.write(svg(reports, f"async-ladder: {count} pages x {delay_ms} ms ({label})", env))
        print(f"wrote {svg_path}")
    return 0 if all(row_of(r)["ok"] for r in reports) else 1

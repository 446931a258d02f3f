"""`./ladder timeline`: when was each page connecting, waiting, reading?

Runs stages with --trace against one 00_server (itself with --trace) and draws,
for each stage, one lane per page on a shared time axis: the staircase of 01
and 04, the batches of a small pool, the single column of 05-07. Output: an
SVG, a self-contained HTML page (hover a segment for its details), or
characters in the terminal.
"""

import html
import json
import os
import sys

import runner

SEGMENTS = [  # (name, from, to, colour, text character)
    ("connecting", "start_ms", "connected_ms", "#f0a030", "."),
    ("waiting for the server", "connected_ms", "first_byte_ms", "#4a7fd0", "-"),
    ("reading", "first_byte_ms", "done_ms", "#3a9a4a", "="),
]
FAILED_COLOUR = "#c0392b"
IN_FLIGHT = ("in flight", "#9a9a9a", "~")
MAX_LANES = 100      # above this, lanes are sampled (and the chart says so)
MAX_TEXT_LANES = 40


def load_trace(path):
    """A stage's --trace file: (header, [page objects])."""
    header, pages = None, []
    with open(path) as f:
        for line in f:
            obj = json.loads(line)
            if obj.get("type") == "header":
                header = obj
            else:
                pages.append(obj)
    if header is None:
        raise ValueError(f"{path}: no header line")
    return header, pages


def load_server_trace(path):
    """00_server --trace: per path, the (delay_started, written) times in µs."""
    waits = {}
    try:
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:  # a line the running server has not finished writing
                    continue
                if e.get("event") == "delay_started":
                    waits.setdefault(e["path"], []).append([e["t_us"], None])
                elif e.get("event") == "written" and waits.get(e["path"]):
                    open_waits = [w for w in waits[e["path"]] if w[1] is None]
                    if open_waits:
                        open_waits[-1][1] = e["t_us"]
    except OSError:
        pass
    return waits


def sample_lanes(pages, limit):
    """At most `limit` pages, spread evenly; says whether it sampled."""
    if len(pages) <= limit:
        return pages, False
    step = len(pages) / limit
    return [pages[int(i * step)] for i in range(limit)], True


def segments(page):
    """The coloured pieces of one lane: (name, from_ms, to_ms, colour, char)."""
    out = []
    for name, a, b, colour, char in SEGMENTS:
        start, end = page.get(a), page.get(b)
        if start is not None and end is not None and end >= start:
            out.append((name, start, end, colour, char))
    # 08 and 09 fetch through helpers that note only a page's start and end.
    if not out and page.get("ok") and page.get("done_ms") is not None:
        out.append((IN_FLIGHT[0], page.get("start_ms") or 0, page["done_ms"], *IN_FLIGHT[1:]))
    if not page.get("ok"):
        start = page.get("start_ms") or 0
        end = page.get("done_ms") if page.get("done_ms") is not None else start
        reached = max([s[2] for s in out], default=start)
        out.append(("failed", reached, max(end, reached), FAILED_COLOUR, "x"))
    return out


def stage_wall_ms(pages):
    return max([p.get("done_ms") or 0 for p in pages], default=0)


# --- SVG ---------------------------------------------------------------------------------

def svg(traces, title, server_waits=None):
    """traces: [(stage, header, pages, wall_ms)] — one panel each, one time scale."""
    server_waits = server_waits or {}
    left, width, right = 120, 760, 30
    axis_ms = max([t[3] for t in traces] + [1])
    x = lambda ms: left + width * ms / axis_ms  # noqa: E731
    y, parts = 60, []
    for stage, header, pages, wall_ms in traces:
        lanes, sampled = sample_lanes(pages, MAX_LANES)
        lane_h = max(2.0, min(14.0, 280.0 / max(1, len(lanes))))
        note = f" — {len(lanes)} of {len(pages)} pages shown (sampled)" if sampled else ""
        parts.append(f'<g class="panel" data-stage="{stage}">')
        parts.append(f'<text x="10" y="{y + 14}"><tspan font-weight="bold">{stage}</tspan>'
                     f'  wall time {wall_ms:.0f} ms, {len(pages)} pages{html.escape(note)}</text>')
        y += 24
        for lane, page in enumerate(lanes):
            ly = y + lane * lane_h
            label = f"page {page['page']}"
            if page.get("worker") is not None:
                label += f", worker {page['worker']}"
            if lane_h >= 9:
                parts.append(f'<text x="{left - 6}" y="{ly + lane_h - 2:.1f}" text-anchor="end" '
                             f'font-size="{min(11, lane_h):.0f}">{page["page"]}</text>')
            parts.append(f'<g class="lane" data-page="{page["page"]}">')
            for name, a, b, colour, _ in segments(page):
                detail = f"{stage}, {label}: {name} {a:.1f}–{b:.1f} ms ({b - a:.1f} ms)"
                if name == "failed":
                    detail += f": {page.get('error', '')}"
                parts.append(f'<rect class="segment" x="{x(a):.2f}" y="{ly:.2f}" '
                             f'width="{max(0.8, x(b) - x(a)):.2f}" height="{max(1.0, lane_h - 1):.2f}" '
                             f'fill="{colour}"><title>{html.escape(detail)}</title></rect>')
            # The server's own view of the same page: when it started and ended the delay.
            t0 = header.get("t0_us")
            for start_us, end_us in server_waits.get(f"/{page['page']}" if page["page"] else "/", []):
                if t0 is None or end_us is None:
                    continue
                a, b = (start_us - t0) / 1000, (end_us - t0) / 1000
                if 0 <= a <= wall_ms + 1:
                    parts.append(f'<line class="server" x1="{x(a):.2f}" x2="{x(b):.2f}" '
                                 f'y1="{ly + lane_h / 2:.2f}" y2="{ly + lane_h / 2:.2f}" '
                                 'stroke="#1b2a49" stroke-width="1"><title>'
                                 f'00_server: delay of {label} {a:.1f}–{b:.1f} ms</title></line>')
            parts.append("</g>")
        y += len(lanes) * lane_h + 8
        parts.append(f'<line x1="{x(wall_ms):.2f}" y1="{y - len(lanes) * lane_h - 8:.2f}" '
                     f'x2="{x(wall_ms):.2f}" y2="{y:.2f}" stroke="#888" stroke-dasharray="3,3"/>')
        parts.append("</g>")
        y += 18
    # The time axis, shared by every panel.
    parts.append(f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="black"/>')
    step = nice_step(axis_ms)
    tick = 0.0
    while tick <= axis_ms + 1e-9:
        parts.append(f'<line x1="{x(tick):.2f}" y1="{y}" x2="{x(tick):.2f}" y2="{y + 5}" stroke="black"/>'
                     f'<text x="{x(tick):.2f}" y="{y + 18}" text-anchor="middle" font-size="11">'
                     f'{tick:.0f}</text>')
        tick += step
    parts.append(f'<text x="{left + width / 2}" y="{y + 36}" text-anchor="middle">'
                 'time since the stage started (ms)</text>')
    y += 50
    legend_x = left
    legend = SEGMENTS + [("failed", None, None, FAILED_COLOUR, "x")]
    if any(seg[0] == IN_FLIGHT[0] for t in traces for page in t[2] for seg in segments(page)):
        legend.append((IN_FLIGHT[0], None, None, IN_FLIGHT[1], IN_FLIGHT[2]))
    for name, _, _, colour, _ in legend:
        parts.append(f'<rect x="{legend_x}" y="{y}" width="14" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + 18}" y="{y + 9}" font-size="12">{name}</text>')
        legend_x += 40 + 7 * len(name)
    if server_waits:
        if legend_x + 280 > left + width + right:  # no room left on this row
            legend_x, y = left, y + 18
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 14}" y1="{y + 5}" y2="{y + 5}" '
                     f'stroke="#1b2a49"/><text x="{legend_x + 18}" y="{y + 9}" font-size="12">'
                     "the server's delay (00_server --trace)</text>")
    height = y + 30
    total_w = left + width + right
    # The time axis as data, so a page around the chart can mark a moment on it (./ladder loop).
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height:.0f}" '
            f'viewBox="0 0 {total_w} {height:.0f}" font-family="sans-serif" font-size="13" '
            f'data-axis-left="{left}" data-axis-width="{width}" data-axis-ms="{axis_ms:.3f}">'
            f"<title>{html.escape(title)}</title>"
            '<rect width="100%" height="100%" fill="white"/>'
            f'<text x="10" y="30" font-size="17" font-weight="bold">{html.escape(title)}</text>')
    return head + "\n".join(parts) + "</svg>\n"


def nice_step(span):
    """A round tick spacing giving about 5-10 ticks."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000,
                 50000, 100000):
        if span / step <= 10:
            return step
    return span / 10


def html_page(svg_text, title):
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
#detail {{ min-height: 1.4em; font-family: monospace; }}
.segment:hover, .lane:hover .segment {{ stroke: black; stroke-width: 0.6; }}
</style></head><body>
<p>Hover a segment for its details. Orange: connecting; blue: waiting for the server; green:
reading; red: failed. Every panel uses the same time scale.</p>
<div id="detail"></div>
{svg_text}
<script>
// Show the hovered segment's details above the chart (the SVG <title> also shows as a tooltip).
for (const el of document.querySelectorAll('.segment, .server')) {{
  el.addEventListener('mouseenter', () => {{
    document.getElementById('detail').textContent = el.querySelector('title').textContent;
  }});
}}
</script>
</body></html>
"""


# --- text ----------------------------------------------------------------------------------

def text(traces, width=64, out=sys.stdout):
    axis_ms = max([t[3] for t in traces] + [1])
    print(f"one lane per page; '.' connecting, '-' waiting for the server, '=' reading, "
          f"'x' failed; {width} columns = {axis_ms:.0f} ms", file=out)
    for stage, _, pages, wall_ms in traces:
        lanes, sampled = sample_lanes(pages, MAX_TEXT_LANES)
        note = f" ({len(lanes)} of {len(pages)} pages shown)" if sampled else ""
        print(f"\n{stage}: {wall_ms:.0f} ms{note}", file=out)
        for page in lanes:
            row = [" "] * width
            for _, a, b, _, char in segments(page):
                lo = min(width - 1, int(a / axis_ms * width))
                hi = min(width - 1, max(lo, int(b / axis_ms * width + 0.5) - 1))
                for i in range(lo, hi + 1):
                    row[i] = char
            print(f"  {page['page']:>4} |{''.join(row)}|", file=out)


# --- running the stages ---------------------------------------------------------------------

def collect(build, stages, count, delay_ms, workdir, extra_for=lambda stage: ()):
    """Runs each stage with --trace on one traced server; returns (traces, server waits)."""
    server_trace = os.path.join(workdir, "00_server.jsonl")
    traces = []
    with runner.Server(build, delay_ms, extra=("--trace", server_trace)) as server:
        for stage in stages:
            path = os.path.join(workdir, f"{stage}.jsonl")
            rep = runner.run_stage(build, server, stage, count,
                                   extra=("--trace", path, *extra_for(stage)), limit_s=600)
            if rep.get("skipped"):  # it ran nothing (and an old trace file may lie there)
                print(f"ladder: {stage} skipped: {rep['skipped']}", file=sys.stderr)
                continue
            try:
                header, pages = load_trace(path)
            except (OSError, ValueError) as e:
                print(f"ladder: {stage} wrote no trace ({e}); exit code {rep['exit_code']}",
                      file=sys.stderr)
                continue
            traces.append((stage, header, pages, stage_wall_ms(pages)))
    return traces, load_server_trace(server_trace)


def timeline(build, stages, count, delay_ms, svg_path, html_path, as_text, workdir):
    os.makedirs(workdir, exist_ok=True)

    def extra_for(stage):
        # A small pool shows its batches: fewer workers than pages.
        if runner.STAGE_INFO[stage][1] == "pool":
            return ("--workers", str(max(1, min(4, count // 3 or 1))))
        return ()

    traces, waits = collect(build, stages, count, delay_ms, workdir, extra_for)
    if not traces:
        print("ladder: no trace to draw", file=sys.stderr)
        return 1
    title = f"async-ladder timeline: {count} pages, {delay_ms} ms server delay"
    if as_text or not (svg_path or html_path):
        text(traces)
    chart = svg(traces, title, waits)
    for path, content in ((svg_path, chart), (html_path, html_page(chart, title) if html_path else None)):
        if path:
            with open(path, "w") as f:
                f.write(content)
            print(f"wrote {path}")
    return 0

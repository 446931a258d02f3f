"""`./ladder loop NN`: step through one stage's event loop, turn by turn.

Runs the stage with --trace-loop (one JSON line per turn of its loop,
common/loop_watch.hpp) and --trace (one line per page) against a traced
00_server, then shows the turns: a self-contained HTML page with Prev/Next, the
arrow keys and a slider, the page timeline of the same run underneath; or one
block of text per turn for a terminal.
"""

import html
import json
import os
import subprocess
import sys

import runner
import timeline

# The stages whose binary takes --trace-loop.
STEPPABLE = ["05_callbacks", "06_generators", "07_coroutines", "08_toolkit", "09_executors"]
DEFAULT_COUNT = "3"   # a few pages: a handful of turns to step through
DEFAULT_DELAY_MS = 200  # long enough that the sleeping turn stands out on the timeline
# 08 and 09 run every experiment by default: thousands of turns. One shows the idea.
DEFAULT_DEMO = {"08_toolkit": "gather", "09_executors": "mixed"}
STAGE_LIMIT_S = 120


def steppable_stage(build, wanted):
    """'07' or '07_coroutines' -> the stage name; None if it cannot be stepped here."""
    built = [s for s in STEPPABLE if os.access(runner.binary(build, s), os.X_OK)]
    match = [s for s in built if s == wanted or s.startswith(wanted.zfill(2) + "_")]
    return match[0] if match else None


def split_flags(flags):
    """The stepper's own flags out of the stage's: (html path, text?, delay ms, stage flags).
    They may come anywhere after the stage number, so argparse's REMAINDER keeps them."""
    html_path, as_text, delay_ms, rest = None, False, DEFAULT_DELAY_MS, []
    i = 0
    while i < len(flags):
        flag = flags[i]
        name, eq, value = flag.partition("=")
        if name in ("--html", "--delay-ms"):
            if not eq:
                if i + 1 >= len(flags):
                    raise ValueError(f"{name} needs a value")
                i += 1
                value = flags[i]
            if name == "--html":
                html_path = value
            elif value.isdigit():
                delay_ms = int(value)
            else:
                raise ValueError(f"--delay-ms wants a whole number >= 0, not '{value}'")
        elif flag == "--text":
            as_text = True
        else:
            rest.append(flag)
        i += 1
    return html_path, as_text, delay_ms, rest


# --- the recording ----------------------------------------------------------------------

def load_recording(path):
    """A --trace-loop file: {"header", "turns", "end"}; "end" is None if the run was cut short."""
    recording = {"header": None, "turns": [], "end": None}
    with open(path) as f:
        for line in f:
            obj = json.loads(line)
            if obj.get("type") == "turn":
                recording["turns"].append(obj)
            else:
                recording[obj.get("type")] = obj
    if recording["header"] is None:
        raise ValueError(f"{path}: no header line")
    return recording


def record(build, stage, flags, delay_ms, workdir):
    """Runs the stage with both traces on a traced server. Returns (exit code, the
    stage's last error line, paths) where paths has "loop", "pages" and "server"."""
    paths = {kind: os.path.join(workdir, f"{stage}.{kind}.jsonl")
             for kind in ("loop", "pages", "server")}
    for path in paths.values():
        if os.path.exists(path):
            os.remove(path)
    has_count = any(f == "--count" or f.startswith("--count=") for f in flags)
    with runner.Server(build, delay_ms, extra=("--trace", paths["server"])) as server:
        argv = runner.stage_argv(build, server, stage, None if has_count else DEFAULT_COUNT,
                                 ("--trace-loop", paths["loop"], "--trace", paths["pages"],
                                  "--quiet", *flags))
        runner.say("running: " + " ".join(argv))
        proc = runner.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=runner.ROOT)
        out, err = runner.finish(proc, STAGE_LIMIT_S)
    # Why it failed: its last word on stderr, else its summary ("3 pages (0 ok, 3 failed)...").
    lines = ([line for line in err.splitlines() if line.strip()]
             or [line for line in (out or "").splitlines() if line.strip()])
    return proc.returncode, (lines[-1] if lines else f"{stage}: exit code {proc.returncode}"), paths


# --- one turn, in words --------------------------------------------------------------------

def label(entry):
    """'page 3 on_readable (fd 7, read)'."""
    where = [f"fd {entry['fd']}"] if "fd" in entry else []
    if "for" in entry:
        where.append(entry["for"])
    if "ms" in entry:
        where.append(f"{entry['ms']:.3f} ms")
    return entry["who"] + (f" ({', '.join(where)})" if where else "")


def listing(turn, key):
    entries = [label(e) for e in turn.get(key, [])]
    if turn.get(key + "_more"):
        entries.append(f"... and {turn[key + '_more']} more")
    return f"({len(turn.get(key, []))}) " + ("; ".join(entries) if entries else "-")


def slept(turn):
    allowed = turn.get("timeout_ms")
    limit = "no limit" if allowed is None else f"allowed {allowed:.1f} ms"
    return f"slept {turn.get('slept_ms', 0):.3f} ms ({limit}): {turn.get('why', '?')}"


def text(recording, out=sys.stdout):
    header = recording["header"]
    print(f"{header['stage']}: every turn of its event loop "
          f"(waiting and ready as the turn began; what the selector returned; what ran)", file=out)
    for turn in recording["turns"]:
        print(f"\nturn {turn['turn']} at {turn['t_ms']:.3f} ms", file=out)
        print(f"  waiting  {listing(turn, 'waiting')}", file=out)
        print(f"  selector {slept(turn)}", file=out)
        print(f"  fds      {listing(turn, 'fds')}", file=out)
        if turn.get("timers"):
            print(f"  timers   {listing(turn, 'timers')}", file=out)
        print(f"  ready    {listing(turn, 'ready')}", file=out)
        together = f", {turn['steps_ms']:.3f} ms together" if "steps_ms" in turn else ""
        print(f"  steps    {listing(turn, 'steps')}{together}", file=out)
        print(f"  after    {turn.get('waiting_after', '?')} waiting, "
              f"{turn.get('ready_after', '?')} ready", file=out)


def summary(recording, path):
    end = recording["end"]
    total = end["turns"] if end else "?"
    return (f"{len(recording['turns'])} turns recorded (of {total}) in "
            f"{os.path.relpath(path)}")


# --- the page ------------------------------------------------------------------------------

def page_timeline(stage, paths):
    """The timeline's SVG of this run's pages, or "" when the stage wrote none."""
    try:
        header, pages = timeline.load_trace(paths["pages"])
    except (OSError, ValueError):
        return "", None
    if not pages:
        return "", header
    title = f"{stage}: the pages of the same run"
    traces = [(stage, header, pages, timeline.stage_wall_ms(pages))]
    return timeline.svg(traces, title, timeline.load_server_trace(paths["server"])), header


def html_page(recording, svg_text, pages_header, title):
    loop_t0 = recording["header"].get("t0_us")
    pages_t0 = (pages_header or {}).get("t0_us")
    data = dict(recording, title=title,
                # The page trace counts from its own start: a turn's t_ms + this = its time there.
                timeline_offset_ms=(loop_t0 - pages_t0) / 1000 if loop_t0 and pages_t0 else 0)
    # "</" may not appear inside a <script>: JSON allows "<\/" for it.
    embedded = json.dumps(data).replace("</", "<\\/")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "loop_stepper.html")) as f:
        template = f.read()
    return (template.replace("{{title}}", html.escape(title))
            .replace("{{timeline}}", svg_text or "<p>This stage wrote no page trace.</p>")
            .replace("{{recording}}", embedded))


# --- ./ladder loop ---------------------------------------------------------------------------

def loop(build, wanted, flags, workdir):
    stage = steppable_stage(build, wanted)
    if stage is None:
        runner.say(f"stage '{wanted}' cannot be stepped; the stages that can: "
            + " ".join(s[:2] for s in STEPPABLE))
        return 2
    try:
        html_path, as_text, delay_ms, stage_flags = split_flags(flags)
    except ValueError as e:
        runner.say(str(e))
        return 2
    if bool(html_path) == as_text:
        runner.say("say how to show the turns: --html FILE or --text (one of them)")
        return 2
    if stage in DEFAULT_DEMO and not any(f.split("=")[0] == "--demo" for f in stage_flags):
        stage_flags += ["--demo", DEFAULT_DEMO[stage]]
        runner.say(f"stepping through {stage}'s '{DEFAULT_DEMO[stage]}' experiment "
                   "(--demo NAME for another)")
    os.makedirs(workdir, exist_ok=True)
    code, error, paths = record(build, stage, stage_flags, delay_ms, workdir)
    if code != 0:
        print(error, file=sys.stderr)
        return code if code > 0 else 1
    try:
        recording = load_recording(paths["loop"])
    except (OSError, ValueError) as e:
        runner.say(f"{stage} left no loop recording ({e})")
        return 1
    if as_text:
        text(recording)
    else:
        title = (f"{stage}: its event loop, turn by turn "
                 f"({' '.join(stage_flags) or 'default flags'}; server delay {delay_ms} ms)")
        svg_text, pages_header = page_timeline(stage, paths)
        with open(html_path, "w") as f:
            f.write(html_page(recording, svg_text, pages_header, title))
        print(f"wrote {html_path}: open it in a browser; {html_path}#turn=N opens at turn N")
    print(summary(recording, paths["loop"]))
    return 0

"""The command line behind `./ladder`: parses it and calls into the libraries.

    python3 tools/ladder_cli.py [--build DIR] tour|compare|timeline|loop|bench|run ...

It imports the libraries and none of them imports it; they import only
downward: tour uses timeline, runner and environment; loop_stepper uses timeline
and runner; timeline uses runner; runner uses environment, and environment only
the standard library.
"""

import argparse
import os
import sys

import loop_stepper
import runner
import timeline
import tour


def positive(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def non_negative(text):
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


positive.__name__ = "a whole number >= 1"
non_negative.__name__ = "a whole number >= 0"


def parser():
    p = argparse.ArgumentParser(prog="ladder")
    p.add_argument("--build", default=os.path.join(runner.ROOT, "build"))
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("tour", help="run every stage in order, then compare them")
    t.add_argument("--count", type=positive, default=tour.PRESETS["class"][0])
    t.add_argument("--delay-ms", type=non_negative, default=tour.PRESETS["class"][1])
    t.add_argument("--timeout-ms", type=positive, help="passed to every stage")
    t.add_argument("--no-pause", action="store_true", help="never wait for Enter between stages")

    c = sub.add_parser("compare", help="the tour's runs without the walkthrough, for a teacher")
    c.add_argument("--stages", help="e.g. 01,05,07 (default: every crawler stage built)")
    c.add_argument("--preset", choices=sorted(tour.PRESETS), default="class",
                   help="class: 10 pages x 300 ms; c10k: 10,000 pages x 1 s")
    c.add_argument("--count", type=positive, help="pages (overrides the preset)")
    c.add_argument("--delay-ms", type=non_negative, help="server delay (overrides the preset)")
    c.add_argument("--jitter-ms", type=non_negative, default=0)
    c.add_argument("--repeat", type=positive, default=1, help="median of N runs")
    c.add_argument("--fault", metavar="MODE",
                   help="every page goes wrong this way: 00_server --fault MODE (notes/00_server.md)")
    c.add_argument("--timeout-ms", type=positive,
                   help="passed to every stage (with --fault stall: 1000 unless given)")
    c.add_argument("--json", metavar="FILE", help="write every result as JSON")
    c.add_argument("--svg", metavar="FILE", help="write a bar chart of wall time and memory")

    tl = sub.add_parser("timeline", help="draw when each page connected, waited and read")
    tl.add_argument("--stages", help="e.g. 01,03,05,07 (default: every crawler stage built)")
    tl.add_argument("--count", type=positive, default=20)
    tl.add_argument("--delay-ms", type=non_negative, default=200)
    tl.add_argument("--svg", metavar="FILE")
    tl.add_argument("--html", metavar="FILE", help="the SVG in a self-contained page with hover details")
    tl.add_argument("--text", action="store_true", help="draw the lanes with characters here")

    lp = sub.add_parser("loop", help="step through one stage's event loop, turn by turn",
                        description="Runs stage NN (05-09) with --trace-loop against a local "
                        "00_server and shows every turn of its loop. Our flags, anywhere after "
                        "NN: --html FILE (a page to step through) or --text (one block per "
                        "turn), --delay-ms D (the server's, default "
                        f"{loop_stepper.DEFAULT_DELAY_MS}). Every other flag goes to the stage "
                        f"(--count {loop_stepper.DEFAULT_COUNT} unless given).")
    lp.add_argument("stage", help="its number, e.g. 07")
    lp.add_argument("flags", nargs=argparse.REMAINDER,
                    help="--html FILE | --text, --delay-ms D, and the stage's own flags")

    b = sub.add_parser("bench", help="run stages alternately and print medians and ratios")
    b.add_argument("stages", nargs="+",
                   help="stage numbers, e.g. 05 07; one in quotes with flags of its own is a "
                   "row of its own: 07 '07 --trace-loop /dev/null'")
    b.add_argument("--count", type=positive, default=10)
    b.add_argument("--delay-ms", type=non_negative, default=300)
    b.add_argument("--repeat", type=positive, default=3)
    b.add_argument("--selector", choices=["epoll", "poll", "select"])

    r = sub.add_parser("run", help="one stage against a server of its own (00: the server itself)")
    r.add_argument("stage", help="its number, e.g. 01")
    r.add_argument("flags", nargs=argparse.REMAINDER, help="passed to the stage as they are")
    return p


def crawler_stages(build, stages_flag):
    """--stages 01,05 or, without it, every crawler stage built (08 and 09 are demos)."""
    wanted = stages_flag.split(",") if stages_flag else [
        s for s in runner.available_stages(build) if runner.STAGE_INFO[s][1] != "demo"]
    return runner.resolve_stages(build, wanted)


def main(argv):
    args = parser().parse_args(argv)
    runner.install_cleanup()

    if args.command == "tour":
        pause = sys.stdout.isatty() and sys.stdin.isatty() and not args.no_pause
        extra = ("--timeout-ms", str(args.timeout_ms)) if args.timeout_ms else ()
        return tour.tour(args.build, args.count, args.delay_ms, pause, extra)
    if args.command == "compare":
        count, delay = tour.PRESETS[args.preset]
        return tour.compare(args.build, crawler_stages(args.build, args.stages),
                            args.count or count,
                            delay if args.delay_ms is None else args.delay_ms,
                            args.jitter_ms, args.repeat,
                            args.preset if args.count is None and args.delay_ms is None else None,
                            args.json, args.svg, args.fault, args.timeout_ms)
    if args.command == "timeline":
        return timeline.timeline(args.build, crawler_stages(args.build, args.stages), args.count,
                                 args.delay_ms, args.svg, args.html, args.text,
                                 os.path.join(args.build, "trace"))
    if args.command == "loop":
        return loop_stepper.loop(args.build, args.stage, args.flags, os.path.join(args.build, "loop"))
    if args.command == "run":
        return runner.run_by_hand(args.build, runner.find_stage(args.build, args.stage), args.flags)
    extra = ("--selector", args.selector) if args.selector else ()
    variants = [(runner.resolve_stages(args.build, [v.split()[0]])[0], v.split()[1:])
                for v in args.stages if v.split()]
    rows = runner.bench(args.build, variants, args.count, args.delay_ms, args.repeat, extra)
    return 0 if all(r["ok"] == args.count for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

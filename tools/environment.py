"""What the numbers depend on: the build, the compiler and the machine.

A wall time or a CPU time means little without them: a debug build, another
compiler, fewer cores or a different kernel change every column of the tour's
table. `environment()` collects them once; the tour, `./ladder compare` (its
JSON and SVG too) and `./ladder bench` all print the same block from it
(notes/reading_numbers.md explains how to read it).

    python3 tools/environment.py [--build DIR]   prints the block for that build

Only the standard library: runner and tour import this, never the other way.
"""

import json
import os
import platform
import subprocess
import sys

# Meson's `optimization` values that make code worth timing; "0", "g" (-Og) and
# "plain" (no flag at all) are debugging builds.
OPTIMISED_LEVELS = {"1", "2", "3", "s"}


def build_options(build):
    """buildtype, optimization and b_sanitize as meson recorded them for `build`,
    or {} when the folder has no meson-info (not configured, or not by meson)."""
    path = os.path.join(build, "meson-info", "intro-buildoptions.json")
    try:
        with open(path) as f:
            options = {o["name"]: o["value"] for o in json.load(f)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {"buildtype": str(options.get("buildtype", "unknown")),
            "optimization": str(options.get("optimization", "unknown")),
            "sanitize": str(options.get("b_sanitize", "none"))}


def is_optimised(options):
    """False for -O0/-Og/plain or any sanitizer; also False when unknown, since
    numbers whose build we cannot name cannot be compared either."""
    return options.get("optimization") in OPTIMISED_LEVELS and options.get("sanitize") == "none"


def compiler_command(build):
    """The C++ compiler meson used for this build (`c++`, `clang++`, ...).

    Newer meson writes intro-compilers.json; older ones (1.0 here) only name
    the compiler in every target's sources, so the first C++ target tells."""
    info = os.path.join(build, "meson-info")
    try:
        with open(os.path.join(info, "intro-compilers.json")) as f:
            return json.load(f)["host"]["cpp"]["exelist"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(info, "intro-targets.json")) as f:
            for target in json.load(f):
                for source in target.get("target_sources", []):
                    if source.get("language") == "cpp" and source.get("compiler"):
                        return source["compiler"]
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return [os.environ.get("CXX", "c++")]  # what ./ladder would build with


def compiler_version(command):
    """The first line of `COMPILER --version`, e.g. "c++ (Debian 12.2.0-14) 12.2.0"."""
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=10)
        first = out.stdout.strip().splitlines()
        return first[0] if out.returncode == 0 and first else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model():
    """/proc/cpuinfo's "model name" (x86); other CPUs name it otherwise or not at all."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores():
    """The cores this process may run on (taskset, cgroups' cpusets): fewer than
    os.cpu_count() in many containers and CI runners."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def environment(build, repeat=1):
    """Everything a reader needs to judge the numbers, as one flat dict (it goes
    into compare's JSON as it is)."""
    options = build_options(build)
    return {
        "build_dir": os.path.abspath(build),
        "buildtype": options.get("buildtype", "unknown"),
        "optimization": options.get("optimization", "unknown"),
        "sanitize": options.get("sanitize", "unknown"),
        "optimised": is_optimised(options),
        "compiler": compiler_version(compiler_command(build)),
        "system": platform.system(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count() or 1,
        "cores_usable": usable_cores(),
        "repeat": repeat,
    }


def cores_text(env):
    text = f"{env['cores']} cores"
    if env["cores_usable"] < env["cores"]:
        text += f", {env['cores_usable']} usable by this process"
    return text


def build_text(env):
    flag = {"plain": "no -O flag", "unknown": "-O?"}.get(env["optimization"],
                                                        "-O" + env["optimization"])
    sanitizers = "" if env["sanitize"] == "none" else f", sanitizers {env['sanitize']}"
    return f"{env['buildtype']} ({flag}{sanitizers})"


def warning(env):
    """One line when the numbers come from a build not worth timing, else None."""
    if env["optimised"]:
        return None
    if env["buildtype"] == "unknown":
        why = f"no meson-info in {env['build_dir']}, so the build type is unknown"
    else:
        why = f"{os.path.basename(env['build_dir'])}/ is a {build_text(env)} build"
    return (f"WARNING: {why}: not optimised, so these numbers are not comparable "
            "with an optimised build's (notes/reading_numbers.md)")


def header_lines(env):
    """The block printed above every table: machine, build, repeats, warning."""
    runs = (f"median of {env['repeat']} runs, min-max spread beside each median"
            if env["repeat"] > 1 else "1 run each: no spread to judge the noise by")
    lines = [f"machine: {env['system']} {env['kernel']} {env['arch']}, {env['cpu_model']}, "
             f"{cores_text(env)}",
             f"build:   {env['compiler']}, {build_text(env)}, in {env['build_dir']}",
             f"runs:    {runs}"]
    if warning(env):
        lines.append(warning(env))
    return lines


def print_header(env, out=sys.stdout):
    for line in header_lines(env):
        print(line, file=out)


def one_line(env):
    """The block squeezed into one line, for the SVG's footer."""
    text = (f"{env['system']} {env['kernel']}, {env['cpu_model']}, {cores_text(env)}; "
            f"{env['compiler']}, {build_text(env)}; "
            + (f"median of {env['repeat']} runs" if env["repeat"] > 1 else "1 run"))
    return text + ("; NOT OPTIMISED: not comparable" if not env["optimised"] else "")


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="print what the ladder's numbers depend on")
    p.add_argument("--build", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "build"))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--json", action="store_true", help="the dict compare's JSON stores")
    args = p.parse_args()
    env = environment(args.build, args.repeat)
    if args.json:
        print(json.dumps(env, indent=2))
    else:
        print_header(env)

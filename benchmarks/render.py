"""Benchmark runner: kserve-cmp against ``kustomize build`` and the libyaml floor, in one run.

For 1, 100 and 1,000 ModelDeployments (and 5,000 with ``--large``) it generates a repository
(``benchmarks/generate.py``) in a private temp dir and measures, each in a fresh child process
whose wall time and peak RSS come from ``os.wait4`` (never measured in-process):

* **ours**: ``kserve-cmp render plain/`` (a plain directory, no kustomization);
* **kustomize**: ``kustomize build expanded/`` (the same output, pre-expanded, one overlay per
  model: what a repository without kserve-cmp would hold);
* **floor**: a fresh Python that loads our output with libyaml's C loader and dumps it again
  with the C dumper (the least any Python YAML-to-YAML tool can cost);

and prints them side by side with the ratios the targets are stated in, the growth
time(1,000)/time(100), and for one model with a kustomization: ours against ``kustomize
build`` of that same directory. Each figure is the median of ``--repeat`` runs.

Usage: ``python benchmarks/render.py [--repeat 3] [--large] [--sizes 1,100,1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache

GENERATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generate.py")

SLOW_SECONDS = 20.0
TARGETS = {"kustomize-1": 1.3, "floor-1000": 2.0, "kustomize-1000": 0.5, "rss-mb": 200, "growth": 12.0}

FLOOR = ("import sys, yaml\n"
         "with open(sys.argv[1], 'rb') as f:\n"
         "    docs = list(yaml.load_all(f, Loader=yaml.CSafeLoader))\n"
         "sys.stdout.write(yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=True,\n"
         "                               default_flow_style=False, width=1 << 30))\n")


@dataclass(frozen=True)
class Sample:
    """One child process: wall seconds, CPU seconds (user + system), peak resident set in MiB, exit code."""

    seconds: float
    cpu: float
    rss_mb: float
    code: int


@dataclass(frozen=True)
class Figure:
    """The median of several samples of one command."""

    seconds: float
    rss_mb: float
    cpu: float = 0.0


def run_child(argv: list[str], cwd: str, stdout_path: str) -> Sample:
    """Run ``argv`` with stdout to a file; time and peak RSS of the child from ``os.wait4``."""
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                                env=child_env())
        stderr = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{stderr.decode(errors='replace')}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def child_env() -> dict[str, str]:
    """This environment with bytecode caching on: a pip-installed package has its ``.pyc`` files."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str], cwd: str, stdout_path: str, repeat: int) -> Figure:
    """Median wall time and median peak RSS over ``repeat`` runs after one warm-up run.

    A command slower than ``SLOW_SECONDS`` (kustomize at 5,000 models takes minutes) is run
    once: its warm-up run is the figure.
    """
    first = run_child(argv, cwd, stdout_path)  # warms the page cache and Python's bytecode cache
    if first.seconds > SLOW_SECONDS:
        return Figure(first.seconds, first.rss_mb, first.cpu)
    samples = [run_child(argv, cwd, stdout_path) for _ in range(repeat)]
    return Figure(statistics.median(s.seconds for s in samples), statistics.median(s.rss_mb for s in samples),
                  statistics.median(s.cpu for s in samples))


def ours_argv(app: str) -> list[str]:
    """The installed console script when there is one next to the interpreter, else ``-m cmp``."""
    script = os.path.join(os.path.dirname(sys.executable), "kserve-cmp")
    if os.access(script, os.X_OK):
        return [script, "render", app]
    return [sys.executable, "-m", "cmp", "render", app]


@cache
def _kustomize_command() -> tuple[str, ...]:
    """kserve-cmp's own choice of kustomize binary, asked of a child so this process stays small."""
    code = ("import json, os; from cmp.source.kustomize import kustomize_argv; "
            "print(json.dumps(kustomize_argv(os.environ.get('KSERVE_CMP_KUSTOMIZE', ''))))")
    return tuple(json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout))


def kustomize_argv(app: str) -> list[str]:
    return [*_kustomize_command(), app]


def generate(root: str, models: int, layouts: tuple[str, ...]) -> None:
    """``benchmarks/generate.py`` in a child process.

    A child's peak RSS as ``wait4`` reports it includes its parent's peak at the time it was
    spawned (the memory map it started from), so this process never holds a generated repository.
    """
    argv = [sys.executable, GENERATE, root, "--models", str(models)]
    subprocess.run(argv + [arg for layout in layouts for arg in ("--layout", layout)], check=True,
                   stdout=subprocess.DEVNULL)


def own_peak_mb() -> float:
    """This process's peak RSS: no child's figure can be below it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Row:
    """The figures for one repository size."""

    models: int
    objects: int
    ours: Figure
    kustomize: Figure
    floor: Figure


def bench_size(models: int, workdir: str, repeat: int) -> Row:
    """Generate a repository of ``models`` models and measure the three commands on it."""
    root = os.path.join(workdir, f"repo-{models}")
    generate(root, models, ("plain", "expanded"))
    ours_out = os.path.join(workdir, f"ours-{models}.yaml")
    ours = measure(ours_argv("plain"), root, ours_out, repeat)
    kustomize = measure(kustomize_argv("expanded"), root, os.path.join(workdir, f"kustomize-{models}.yaml"), repeat)
    floor = measure([sys.executable, "-c", FLOOR, ours_out], root, os.path.join(workdir, f"floor-{models}.yaml"),
                    repeat)
    with open(ours_out, encoding="utf-8") as handle:
        objects = sum(1 for line in handle if line.startswith("kind: "))
    return Row(models, objects, ours, kustomize, floor)


def bench_single_kustomization(workdir: str, repeat: int) -> tuple[Figure, Figure]:
    """One model with a kustomization: ours against ``kustomize build`` of the same directory."""
    root = os.path.join(workdir, "repo-kustomized-1")
    generate(root, 1, ("kustomize",))
    out = os.path.join(workdir, "single.yaml")
    return (measure(ours_argv("kustomize"), root, out, repeat),
            measure(kustomize_argv("kustomize"), root, out, repeat))


def machine() -> str:
    """CPU model, core count, memory and OS of this machine, for the record."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            mem = int(handle.readline().split()[1]) / 1024 / 1024
    except OSError:
        mem = 0.0
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def _ratio(ours: float, other: float) -> str:
    return f"{ours / other:.2f}x" if other else "n/a"


def verdict(value: float, limit: float) -> str:
    return "ok" if value <= limit else "MISSED"


def report(rows: list[Row], single: tuple[Figure, Figure]) -> str:
    """The table and the targets, as text."""
    lines = [f"machine: {machine()}",
             f"kustomize: {' '.join(kustomize_argv('DIR'))}; runner peak RSS {own_peak_mb():.0f} MB "
             f"(the floor of every RSS figure)", "",
             f"{'models':>6} {'objects':>7} | {'ours s':>7} {'RSS MB':>6} | {'kustomize s':>11} {'floor s':>7} | "
             f"{'ours/kustomize':>14} {'ours/floor':>10}"]
    for r in rows:
        lines.append(f"{r.models:>6} {r.objects:>7} | {r.ours.seconds:>7.3f} {r.ours.rss_mb:>6.1f} | "
                     f"{r.kustomize.seconds:>11.3f} {r.floor.seconds:>7.3f} | "
                     f"{r.ours.seconds / r.kustomize.seconds:>14.2f} {r.ours.seconds / r.floor.seconds:>10.2f}")
    lines.append("")
    ours1, kust1 = single
    ratio1 = ours1.seconds / kust1.seconds
    lines.append(f"1 model with a kustomization: ours {ours1.seconds:.3f}s ({ours1.rss_mb:.1f} MB), "
                 f"kustomize build {kust1.seconds:.3f}s: {ratio1:.2f}x "
                 f"(target <= {TARGETS['kustomize-1']}x: {verdict(ratio1, TARGETS['kustomize-1'])}; "
                 f"CPU time {_ratio(ours1.cpu, kust1.cpu)})")
    by_size = {r.models: r for r in rows}
    if 1000 in by_size:
        r = by_size[1000]
        vs_floor, vs_kust = r.ours.seconds / r.floor.seconds, r.ours.seconds / r.kustomize.seconds
        lines.append(f"1,000 models: {vs_floor:.2f}x the libyaml floor (target <= {TARGETS['floor-1000']}x: "
                     f"{verdict(vs_floor, TARGETS['floor-1000'])}), {vs_kust:.2f}x kustomize build "
                     f"(target <= {TARGETS['kustomize-1000']}x: {verdict(vs_kust, TARGETS['kustomize-1000'])}), "
                     f"peak RSS {r.ours.rss_mb:.0f} MB (target <= {TARGETS['rss-mb']} MB: "
                     f"{verdict(r.ours.rss_mb, TARGETS['rss-mb'])}); CPU time: {_ratio(r.ours.cpu, r.floor.cpu)} "
                     f"the floor, {_ratio(r.ours.cpu, r.kustomize.cpu)} kustomize build")
    if 1000 in by_size and 100 in by_size:
        growth = by_size[1000].ours.seconds / by_size[100].ours.seconds
        lines.append(f"growth time(1,000)/time(100): {growth:.2f} (target <= {TARGETS['growth']}: "
                     f"{verdict(growth, TARGETS['growth'])})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--large", action="store_true", help="also measure 5,000 models")
    parser.add_argument("--sizes", default="1,100,1000", help="comma-separated model counts")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] + ([5000] if args.large else [])
    with tempfile.TemporaryDirectory(prefix="kserve-cmp-bench-") as workdir:
        rows = [bench_size(n, workdir, args.repeat) for n in sizes]
        single = bench_single_kustomization(workdir, args.repeat)
    sys.stdout.write(report(rows, single))
    return 0


if __name__ == "__main__":
    sys.exit(main())

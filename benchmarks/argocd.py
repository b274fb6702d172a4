"""Per-Application cost in Argo CD: plugin.yaml's generate command against ``kustomize build``.

Argo CD runs the plugin once per Application, as a fresh process, on every refresh that misses
its cache, so what counts at scale is the cost of one small app. This script runs the command
``plugin.yaml`` names (``spec.generate``, whatever it is: the in-process render or a client of a
warm server) the way argocd-cmp-server does: in the app directory, with the sidecar's env plus
the ``ARGOCD_APP_*`` variables of a request, stdin closed, in its own process group, and with
SIGTERM to that group when the request ends (``cmpserver/plugin/plugin.go: runCommand``, Argo CD
v3.5.1), so a server the command leaves in its group does not survive the request. It prints,
as ratios measured in one run:

* **plain**: one model in a plain directory, against ``kustomize build`` of the same objects
  pre-expanded (``benchmarks/generate.py``'s ``expanded`` layout for one model); also
  ``kserve-cmp render`` of that directory (in-process, no server) against the same build;
* **overlay**: one model as a base and an overlay (``../../base/<model>`` plus a patch),
  against ``kustomize build`` of the same overlay directory;
* **200 apps**: the generate command over 200 overlay app directories one after another,
  against 200 ``kustomize build`` runs of the same directories: wall time and CPU time.

Single runs alternate (A B A B ...) after a warm-up, and each ratio is the median of the
per-pair ratios, so a comparison holds when the machine's speed drifts. CPU time is the
children's (``RUSAGE_CHILDREN``): this process makes itself a child subreaper and stops every
process left behind at the end, so a server the command started in the background is counted
with the children it waited for. A server that lets the kernel reap its children (``SIGCHLD``
ignored) hides their CPU from every rusage: its CPU figure then covers the clients and the
server's own process only, and the report says so (wall time counts everything).

Usage: ``python benchmarks/argocd.py [--repeat 11] [--apps 200]``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import generate as layouts  # noqa: E402  (benchmarks/generate.py)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_YAML = os.path.join(REPO, "plugin.yaml")
#: Issue targets: our command / kustomize build (plain and overlay), 200 overlay apps (wall), render (plain).
TARGETS = {"plain": 0.5, "overlay": 1.25, "apps-wall": 1.3, "render-plain": 1.8}
PR_SET_CHILD_SUBREAPER = 36
REVISION = "0123456789abcdef0123456789abcdef01234567"
OVERLAY_PATCH = ("  - target: {kind: ModelDeployment}\n    patch: |-\n      - op: replace\n"
                 "        path: /spec/scaling/maxReplicas\n        value: 2\n")


def plugin_command(path: str = PLUGIN_YAML) -> list[str]:
    """``spec.generate.command`` + ``args`` of plugin.yaml (the first document, as Argo CD reads it)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        doc = next(iter(yaml.safe_load_all(handle)))
    generate = doc["spec"]["generate"]
    return list(generate.get("command") or []) + list(generate.get("args") or [])


def tool(name: str, bin_dir: str | None = None) -> str:
    """A console script in ``bin_dir`` (default: next to this interpreter, the virtualenv's ``bin``),
    else on PATH."""
    here = os.path.join(bin_dir or os.path.dirname(sys.executable), name)
    return here if os.access(here, os.X_OK) else (shutil.which(name) or name)


def installed_bin(workdir: str) -> tuple[str, str]:
    """``(bin dir, note)``: where ``kserve-cmp`` runs as a plain ``pip install`` (the image) has it.

    ``pip install -e`` puts an import hook in site-packages (setuptools' editable finder) that
    every Python process of the venv loads at start: some 10 ms of imports (pathlib,
    importlib.util...) per process, which the image never pays. With an editable install the
    command therefore runs from a throwaway venv whose site-packages lists, as plain paths, this
    venv's site-packages (the dependencies) and the repository (the package): the same code, no hook.
    """
    import glob
    import sysconfig
    import venv

    if not glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "__editable__*kserve_cmp*")):
        return os.path.dirname(sys.executable), "kserve-cmp as installed in this venv"
    root = os.path.join(workdir, "installed")
    venv.create(root, with_pip=False)
    site = sysconfig.get_paths(vars={"base": root, "platbase": root})["purelib"]
    with open(os.path.join(site, "kserve-cmp.pth"), "w", encoding="utf-8") as handle:
        handle.write(f"{sysconfig.get_paths()['purelib']}\n{REPO}\n")
    script = os.path.join(root, "bin", "kserve-cmp")
    with open(os.path.join(REPO, "bin", "kserve-cmp"), encoding="utf-8") as source:
        text = source.read().split("\n", 1)[1]
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(f"#!{os.path.join(root, 'bin', 'python')}\n{text}")
    os.chmod(script, 0o755)
    return os.path.dirname(script), "kserve-cmp from the repository without the editable-install hook"


def kustomize() -> list[str]:
    """``kustomize build`` when installed, else ``kubectl kustomize`` (what kserve-cmp itself runs)."""
    found = shutil.which("kustomize", path=os.pathsep.join([os.path.dirname(sys.executable),
                                                             os.environ.get("PATH", "")]))
    return [found, "build"] if found else [tool("kubectl"), "kustomize"]


def write_overlays(root: str, count: int) -> list[str]:
    """``count`` base/overlay apps: ``base/<model>/`` (model + kustomization), ``apps/<model>/``
    (a kustomization over ``../../base/<model>`` with a namespace and a JSON 6902 patch)."""
    apps = []
    for i in range(count):
        name = layouts.model_name(i)
        base = os.path.join(root, "base", name)
        app = os.path.join(root, "apps", name)
        os.makedirs(base)
        os.makedirs(app)
        with open(os.path.join(base, "model.yaml"), "w", encoding="utf-8") as handle:
            handle.write(layouts._dump(layouts.model_deployment(i)))
        with open(os.path.join(base, "kustomization.yaml"), "w", encoding="utf-8") as handle:
            handle.write(layouts._kustomization(["model.yaml"]))
        with open(os.path.join(app, "kustomization.yaml"), "w", encoding="utf-8") as handle:
            handle.write(layouts._kustomization([f"../../base/{name}"]) + f"namespace: team-{i % 10}\n"
                         + "patches:\n" + OVERLAY_PATCH)
        apps.append(f"apps/{name}")
    return apps


def make_repo(workdir: str, apps: int) -> str:
    """The repository as the sidecar receives it (``_cmp_server/<uuid>/``): plain, expanded, overlays."""
    root = os.path.join(workdir, "_cmp_server", str(uuid.uuid4()))
    os.makedirs(root)
    layouts.generate(root, 1, ("plain", "expanded"))
    write_overlays(os.path.join(root, "overlay"), apps)
    return root


def request_env(app_path: str, tmpdir: str) -> dict[str, str]:
    """The sidecar's env (this one, with a private TMPDIR) plus the variables of one request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KSERVE_CMP_", "ARGOCD_", "PARAM_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
    env.update(TMPDIR=tmpdir, ARGOCD_APP_NAME=os.path.basename(app_path), ARGOCD_APP_NAMESPACE="models",
               ARGOCD_APP_PROJECT_NAME="default", ARGOCD_APP_REVISION=REVISION,
               ARGOCD_APP_REVISION_SHORT=REVISION[:7], ARGOCD_APP_REVISION_SHORT_8=REVISION[:8],
               ARGOCD_APP_SOURCE_REPO_URL="https://git.example.com/models.git", ARGOCD_APP_SOURCE_PATH=app_path,
               ARGOCD_APP_SOURCE_TARGET_REVISION="HEAD", KUBE_VERSION="1.31.4",
               KUBE_API_VERSIONS="serving.kserve.io/v1beta1,serving.kserve.io/v1beta1/InferenceService,v1",
               ARGOCD_APP_PARAMETERS="null")
    return env


def run_request(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    """One run as argocd-cmp-server makes it; wall seconds. The group gets SIGTERM afterwards."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out, err = proc.communicate(timeout=120)
    seconds = time.perf_counter() - start
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if proc.returncode != 0 or not out:
        raise SystemExit(f"{' '.join(argv)} in {cwd} failed (exit {proc.returncode}):\n"
                         f"{err.decode(errors='replace')}")
    return seconds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def become_subreaper() -> bool:
    """Orphans of our children (a server started in the background) become ours, so their CPU
    time reaches RUSAGE_CHILDREN once we reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def stop_leftovers() -> int:
    """SIGTERM, then SIGKILL, every process still our child; reap them all. Returns how many."""
    me = os.getpid()
    left = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                left.append(int(entry))
    for pid in left:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    return len(left)


@dataclass(frozen=True)
class Pair:
    """Median seconds of A and B and the median of the per-pair ratios A/B."""

    a: float
    b: float
    ratio: float


def paired(a: list[str], a_cwd: str, b: list[str], b_cwd: str, env: dict[str, str], repeat: int) -> Pair:
    """A then B, ``repeat`` times after one warm-up of each."""
    run_request(a, a_cwd, env)
    run_request(b, b_cwd, env)
    times_a, times_b = [], []
    for _ in range(repeat):
        times_a.append(run_request(a, a_cwd, env))
        times_b.append(run_request(b, b_cwd, env))
    return Pair(statistics.median(times_a), statistics.median(times_b),
                statistics.median(x / y for x, y in zip(times_a, times_b)))


@dataclass(frozen=True)
class Sequence:
    """Wall and CPU seconds of running one command over every app, one after another."""

    wall: float
    cpu: float
    #: Processes still running after the last app (a background server), stopped and reaped.
    leftovers: int = 0


def in_a_row(argv_for, repo: str, apps: list[str], tmpdir: str) -> Sequence:
    stop_leftovers()
    cpu0, start = children_cpu(), time.perf_counter()
    for app in apps:
        run_request(argv_for(app), os.path.join(repo, "overlay", app), request_env(f"overlay/{app}", tmpdir))
    wall = time.perf_counter() - start
    left = stop_leftovers()  # a server started by the command: its CPU counts too
    return Sequence(wall, children_cpu() - cpu0, left)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; Python "
            f"{platform.python_version()}; load average {load:.1f} at the start")


def verdict(value: float, target: float) -> str:
    return f"target <= {target}x: {'ok' if value <= target else 'MISSED'}"


@dataclass(frozen=True)
class Results:
    command: list[str]
    plain: Pair
    render: Pair
    overlay: Pair
    ours_row: Sequence
    kustomize_row: Sequence
    apps: int
    #: How kserve-cmp was run (``installed_bin``'s note).
    layout: str = ""


def report(r: Results, kustomize_cmd: list[str], note: str = "") -> str:
    wall = r.ours_row.wall / r.kustomize_row.wall
    cpu = r.ours_row.cpu / r.kustomize_row.cpu if r.kustomize_row.cpu else float("nan")
    lines = [f"machine: {note or machine()}",
             f"plugin.yaml generate: {' '.join(r.command)}; kustomize: "
             f"{' '.join([os.path.basename(kustomize_cmd[0]), *kustomize_cmd[1:]])} DIR"
             + (f"; {r.layout}" if r.layout else ""), "",
             f"plain app, 1 model:     generate {r.plain.a * 1000:6.1f} ms, kustomize build (same objects) "
             f"{r.plain.b * 1000:6.1f} ms: {r.plain.ratio:.2f}x ({verdict(r.plain.ratio, TARGETS['plain'])})",
             f"plain app, in-process:  render   {r.render.a * 1000:6.1f} ms, kustomize build (same objects) "
             f"{r.render.b * 1000:6.1f} ms: {r.render.ratio:.2f}x ({verdict(r.render.ratio, TARGETS['render-plain'])})",
             f"base/overlay app:       generate {r.overlay.a * 1000:6.1f} ms, kustomize build (same dir) "
             f"{r.overlay.b * 1000:6.1f} ms: {r.overlay.ratio:.2f}x ({verdict(r.overlay.ratio, TARGETS['overlay'])})",
             f"{r.apps} overlay apps in a row: generate {r.ours_row.wall:.2f} s wall, {r.ours_row.cpu:.2f} s CPU; "
             f"kustomize build {r.kustomize_row.wall:.2f} s wall, {r.kustomize_row.cpu:.2f} s CPU: "
             f"{wall:.2f}x wall ({verdict(wall, TARGETS['apps-wall'])}), {cpu:.2f}x CPU"]
    if r.ours_row.leftovers:
        lines.append(f"note: {r.ours_row.leftovers} process(es) outlived the requests (a render server); the CPU "
                     "figure misses the CPU of any children it did not wait for")
    return "\n".join(lines) + "\n"


def run(repeat: int, apps: int, workdir: str) -> Results:
    repo = make_repo(workdir, apps)
    tmpdir = os.path.join(workdir, "sidecar-tmp")
    os.makedirs(tmpdir)
    command = plugin_command()
    bin_dir, layout = installed_bin(workdir)
    ours = [tool(command[0], bin_dir) if "/" not in command[0] else command[0], *command[1:]]
    build = kustomize()
    plain_env = request_env("plain", tmpdir)
    plain = paired(ours, os.path.join(repo, "plain"), [*build, "."], os.path.join(repo, "expanded"), plain_env,
                   repeat)
    render = paired([tool("kserve-cmp", bin_dir), "render", "."], os.path.join(repo, "plain"), [*build, "."],
                    os.path.join(repo, "expanded"), plain_env, repeat)
    first = os.path.join(repo, "overlay", "apps", layouts.model_name(0))
    overlay = paired(ours, first, [*build, "."], first, request_env(f"overlay/apps/{layouts.model_name(0)}", tmpdir),
                     repeat)
    app_list = [f"apps/{layouts.model_name(i)}" for i in range(apps)]
    ours_row = in_a_row(lambda app: ours, repo, app_list, tmpdir)
    kustomize_row = in_a_row(lambda app: [*build, "."], repo, app_list, tmpdir)
    return Results(command, plain, render, overlay, ours_row, kustomize_row, apps, layout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="timed pairs per single-app figure (median)")
    parser.add_argument("--apps", type=int, default=200, help="overlay apps run one after another")
    args = parser.parse_args(argv)
    note = machine()
    reaper = become_subreaper()
    with tempfile.TemporaryDirectory(prefix="kserve-cmp-argocd-bench-") as workdir:
        try:
            results = run(args.repeat, args.apps, workdir)
        finally:
            stop_leftovers()
    text = report(results, kustomize(), note)
    if not reaper:
        text += "note: not a child subreaper here; CPU of a background server is not counted\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

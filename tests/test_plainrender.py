"""``kserve-cmp render PATH...`` without options runs without click (cmp.plainrender), printing what
``cmp.cli``'s ``render`` prints: the same stdout, stderr and exit code on every golden case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmp import launch, plainrender
from helpers import REPO, run_cli
from test_golden import _cases, _command, _env

PLAIN = [case for kind in ("cases", "errors") for case in _cases(kind) if launch.plain_render(_command(case))]


def test_plain_cases_are_found() -> None:
    assert len(PLAIN) >= 50


@pytest.mark.parametrize("case", PLAIN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_bytes_as_the_click_command(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command, env = _command(case), _env(case)
    by_click = run_cli(command, cwd=case, env=env)
    monkeypatch.chdir(case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err, code = plainrender.outcome(command[1:], os.environ)
    assert (out, err, code) == (by_click.stdout, by_click.stderr, by_click.exit_code)


@pytest.mark.parametrize(("args", "plain"), [
    (["render"], True), (["render", "a", "b"], True), (["render", "-"], True),
    (["render", "--format", "json", "a"], False), (["render", "a", "--namespace=x"], False),
    (["render", "-h"], False), (["render", "--", "a"], False), (["validate", "a"], False), ([], False),
])
def test_only_paths_take_the_plain_path(args: list[str], plain: bool) -> None:
    assert launch.plain_render(args) is plain


def test_the_installed_command_takes_it_and_prints_the_golden_output() -> None:
    case = REPO / "tests" / "cases" / "args-model-name"
    code = ("import sys; from cmp import launch; sys.modules['click'] = None; "  # importing click would fail
            "launch.main(['render', 'input'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=case, capture_output=True, text=True, check=False,
                            env={k: v for k, v in os.environ.items() if not k.startswith("KSERVE_CMP_")})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (case / "expected.yaml").read_text()

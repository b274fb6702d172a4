"""The ``cmp`` alias with real wrapper and shim scripts named ``cmp`` on PATH: it never loops.

Each case runs the installed ``cmp`` console script (copied where a case needs it elsewhere)
through real ``/bin/sh`` scripts, killed after 5 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmp.alias import GUARD, MAX_HOPS

from .conftest import LIMIT_SECONDS

BIN = Path(sys.executable).parent
OUR_CMP = BIN / "cmp"
DIFFUTILS = shutil.which("cmp", path="/usr/bin:/bin")

pytestmark = pytest.mark.skipif(not OUR_CMP.exists() or DIFFUTILS is None,
                                reason="needs the installed cmp script and diffutils' cmp")


def _script(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "cmp"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def _ours_in(directory: Path) -> Path:
    """A copy of the installed console script (it names the venv's python, so it runs anywhere)."""
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / "cmp"
    shutil.copy2(OUR_CMP, copy)
    return copy


def _run(path: list[Path | str], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != GUARD}
    env["PATH"] = os.pathsep.join(str(p) for p in path)
    return subprocess.run(["cmp", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=LIMIT_SECONDS, stdin=subprocess.DEVNULL)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a").write_text("same\n")
    (work / "b").write_text("same\n")
    (work / "c").write_text("other\n")
    return work


def _diffutils_answers(run) -> None:
    assert run(["-s", "a", "b"]).returncode == 0
    differ = run(["a", "c"])
    assert differ.returncode == 1 and "differ" in differ.stdout, differ.stderr


def test_a_pyenv_like_shim_before_the_script(tmp_path: Path, files: Path) -> None:
    # The shim puts the real bin dir first and runs `cmp` again, as `pyenv exec` does; that bin
    # dir is not on the user's PATH, so the alias first hands back to the shim, then skips it.
    versions = tmp_path / "versions" / "bin"
    _ours_in(versions)
    shims = tmp_path / "shims"
    _script(shims, f'PATH="{versions}:$PATH" exec cmp "$@"')
    _diffutils_answers(lambda args: _run([shims, "/usr/bin", "/bin"], args, files))


def test_a_wrapper_that_runs_the_script_by_its_path(tmp_path: Path, files: Path) -> None:
    wrappers = tmp_path / "wrappers"
    _script(wrappers, f'exec "{OUR_CMP}" "$@"')
    _diffutils_answers(lambda args: _run([wrappers, BIN, "/usr/bin", "/bin"], args, files))


def test_a_shim_that_reexecs_cmp_from_the_scripts_directory(tmp_path: Path, files: Path) -> None:
    # The search starts after the directory the script was started from: the shim before it
    # is never tried.
    shims = tmp_path / "shims"
    _script(shims, f'PATH="{BIN}:$PATH" exec cmp "$@"')
    _diffutils_answers(lambda args: _run([shims, BIN, "/usr/bin", "/bin"], args, files))


def test_a_loop_with_no_way_out_stops_with_a_message(tmp_path: Path, files: Path) -> None:
    hidden = tmp_path / "hidden"
    ours = _ours_in(hidden)
    wrappers = [tmp_path / f"w{i}" for i in range(MAX_HOPS + 2)]
    for directory in wrappers:
        _script(directory, f'exec "{ours}" "$@"')
    result = _run(wrappers, ["-s", "a", "b"], files)
    assert (result.returncode, result.stdout) == (2, "")
    assert "stopped a loop" in result.stderr and str(wrappers[0]) in result.stderr
    assert len(result.stderr.splitlines()) == 2


def test_a_single_wrapper_and_no_diffutils_stops_with_a_message(tmp_path: Path, files: Path) -> None:
    ours = _ours_in(tmp_path / "hidden")
    wrapper = tmp_path / "wrapper"
    _script(wrapper, f'exec "{ours}" "$@"')
    result = _run([wrapper], ["a", "b"], files)
    assert (result.returncode, result.stdout) == (2, "")
    assert "stopped a loop" in result.stderr and "no other 'cmp' (diffutils) follows" in result.stderr


@pytest.mark.parametrize(("typo", "meant"), [("rendr", "render"), ("valdate", "validate"), ("dif", "diff"),
                                              ("explian", "explain"), ("genrate", "generate")])
def test_a_near_miss_of_a_command_gets_a_suggestion(files: Path, typo: str, meant: str) -> None:
    result = _run([BIN, "/usr/bin", "/bin"], [typo, "apps/x"], files)
    assert (result.returncode, result.stdout) == (2, "")
    assert f"did you mean `{meant}`?" in result.stderr


def test_an_existing_file_named_like_a_typo_goes_to_diffutils(files: Path) -> None:
    (files / "rendr").write_text("same\n")
    assert _run([BIN, "/usr/bin", "/bin"], ["-s", "rendr", "a"], files).returncode == 0
    result = _run([BIN, "/usr/bin", "/bin"], ["rendr", "a"], files)
    assert result.returncode == 0 and "did you mean" not in result.stderr


@pytest.mark.parametrize("word", ["aa", "zzzz", "nope"])
def test_other_missing_files_get_diffutils_error(files: Path, word: str) -> None:
    result = _run([BIN, "/usr/bin", "/bin"], [word, "b"], files)
    assert result.returncode == 2 and "did you mean" not in result.stderr and result.stderr


def test_the_guard_does_not_reach_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmp import alias

    monkeypatch.setenv(GUARD, "/x:/y:/z:/w")
    monkeypatch.setattr(sys, "argv", ["cmp", "--version"])
    with pytest.raises(SystemExit) as stop:
        alias.main()
    assert stop.value.code == 0 and GUARD not in os.environ

"""The ``cmp`` entry point: our subcommands stay ours, everything else reaches diffutils' cmp."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmp import alias
from cmp.cli import main

BIN = Path(sys.executable).parent
OUR_CMP = BIN / "cmp"


def test_our_commands_are_exactly_the_cli_commands() -> None:
    assert alias.OUR_COMMANDS == set(main.commands)


@pytest.mark.parametrize("argv,ours", [
    (["cmp"], True),
    (["cmp", "render"], True),
    (["cmp", "--help"], True),
    (["cmp", "--version"], True),
    (["cmp", "-s", "a", "b"], False),
    (["cmp", "a", "b"], False),
    (["cmp", "-l", "render", "x"], False),
])
def test_dispatch_decision(argv: list[str], ours: bool) -> None:
    assert alias.is_ours(argv) is ours


def test_next_cmp_skips_this_script_and_other_copies(tmp_path: Path) -> None:
    first, second, third = (tmp_path / n for n in ("a", "b", "c"))
    for d in (first, second, third):
        d.mkdir()
    me = first / "cmp"
    me.write_text("#!/usr/bin/env python\nfrom cmp.alias import main\n")
    copy = second / "cmp"
    copy.write_text("#!/usr/bin/env python\nimport sys\nfrom cmp.alias import main\n")
    real = third / "cmp"
    real.write_text("#!/bin/sh\nexit 0\n")
    for f in (me, copy, real):
        f.chmod(0o755)
    path = os.pathsep.join(str(d) for d in (first, second, third))
    assert alias.next_cmp(path, str(me)) == str(real)
    assert alias.next_cmp(os.pathsep.join([str(first), str(second)]), str(me)) is None


installed = pytest.mark.skipif(not OUR_CMP.exists() or shutil.which("cmp", path="/usr/bin:/bin") is None,
                               reason="needs the installed cmp script and diffutils' cmp")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), "/usr/bin", "/bin"]))
    return subprocess.run([str(OUR_CMP), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@installed
def test_installed_cmp_behaves_like_diffutils(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("same\n")
    (tmp_path / "b").write_text("same\n")
    (tmp_path / "c").write_text("other\n")
    assert _run(["-s", "a", "b"], tmp_path).returncode == 0
    differ = _run(["-s", "a", "c"], tmp_path)
    assert (differ.returncode, differ.stdout, differ.stderr) == (1, "", "")
    loud = _run(["a", "c"], tmp_path)
    assert loud.returncode == 1 and "differ" in loud.stdout
    missing = _run(["a", "nope"], tmp_path)
    assert missing.returncode == 2


@installed
def test_installed_cmp_runs_our_subcommands(tmp_path: Path) -> None:
    result = _run(["render", "--help"], tmp_path)
    assert result.returncode == 0 and "Render the apps at PATHS" in result.stdout
    top = _run(["--help"], tmp_path)
    assert "diffutils" in top.stdout


def test_the_search_starts_after_the_scripts_directory(tmp_path: Path) -> None:
    dirs = [tmp_path / n for n in ("shim", "bin", "usr")]
    for d in dirs:
        d.mkdir()
        (d / "cmp").write_text("#!/bin/sh\nexit 0\n")
        (d / "cmp").chmod(0o755)
    path = os.pathsep.join(str(d) for d in dirs)
    assert alias.search_path(path, str(dirs[1] / "cmp")) == [str(dirs[2])]
    assert alias.search_path(path, str(tmp_path / "elsewhere" / "cmp")) == [str(d) for d in dirs]
    # a script not on PATH searches it all, skipping the directories that already led back to it
    assert alias.next_cmp(path, str(tmp_path / "elsewhere" / "cmp")) == str(dirs[0] / "cmp")
    assert alias.next_cmp(path, str(tmp_path / "elsewhere" / "cmp"), (str(dirs[0]),)) == str(dirs[1] / "cmp")


@pytest.mark.parametrize("argv,meant", [
    (["cmp", "rendr"], "render"),
    (["cmp", "valiate", "x"], "validate"),
    (["cmp", "-s", "rendr"], None),       # an option first: diffutils' usage
    (["cmp", "rendr.yaml"], None),        # not a word: a file name
    (["cmp", "zebra"], None),
    (["cmp"], None),
])
def test_suggestion(argv: list[str], meant: str | None) -> None:
    assert alias.suggestion(argv) == meant

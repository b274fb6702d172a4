"""Every golden render case (``tests/cases/<name>/``) through the imitated argocd-cmp-server, in
both of Argo CD's modes: the sidecar prints the golden bytes, and Argo CD reads from them the
objects we meant (decoded by kubectl through the harness, compared value and type).

A case's ``render`` options become the Application's plugin parameters (a file option names a
file copied next to the app directory, named relative to it), its ``env`` file the sidecar's
env; the Application has no destination namespace, so the defaults equal the golden run's.
Cases of other commands (``explain``) and renders with a render-only option (``--format json``)
do not go through Argo CD, whose generate always prints YAML.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from argocd.cmpserver import Application, Cluster
from argocd.examples import MODES, generate_paths, plugin, relative, repo_copy, server, sidecar_env
from argocd.test_examples import assert_argo_cd_reads_what_we_meant
from cmp.settings import BY_NAME
from helpers import REPO
from test_golden import _cases, _command, _env


def _through_argo_cd(case: Path) -> bool:
    """A render whose options are all settings (Argo CD parameters); ``--format json`` is render-only."""
    command = _command(case)
    return command[0] == "render" and all(a[2:] in BY_NAME for a in command[2:] if a.startswith("--"))


CASES = [c for c in _cases("cases") if _through_argo_cd(c)]
PATH_OPTIONS = {"--cluster-profile"}


def test_render_cases_are_found() -> None:
    assert len(CASES) >= 10


def _application(case: Path, repo: Path) -> Application:
    """The repository layout and Application that reproduce ``case``'s command in Argo CD."""
    command = _command(case)
    source = (case / command[1]).resolve()
    if source.is_relative_to(REPO / "overlays"):
        app_dir = repo / relative(source)
    else:
        app_dir = repo / "cases" / case.name
        shutil.copytree(source, app_dir)
    parameters, extra = [], []
    args = command[2:]
    while args:
        option = args.pop(0)
        assert option.startswith("--"), f"{case.name}: unexpected argument {option!r}"
        name = option[2:]
        if option in PATH_OPTIONS:
            copied = app_dir.parent / "files" / case.name / args.pop(0)
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(case / Path(copied.name), copied)
            extra.append(copied)
            value = os.path.relpath(copied, app_dir)
        elif args and not args[0].startswith("--"):
            value = args.pop(0)
        else:
            value = "true"
        parameters.append({"name": name, "string": value})
    rel = app_dir.relative_to(repo).as_posix()
    return Application(name=case.name, path=rel, plugin=plugin().reachable_as, parameters=tuple(parameters),
                       generate_paths=generate_paths(app_dir, extra, repo))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_case_through_the_sidecar(case: Path, mode: str, tmp_path: Path) -> None:
    repo = repo_copy(tmp_path)
    app = _application(case, repo)
    env = sidecar_env(tmp_path) | _env(case)
    outcome = server(tmp_path, sidecar_env=env, use_generate_paths=MODES[mode]).generate(repo, app,
                                                                                          cluster=Cluster())
    assert outcome.ok, outcome.error
    assert (outcome.root != str(repo)) is MODES[mode]
    assert outcome.stdout == (case / "expected.yaml").read_text()
    assert_argo_cd_reads_what_we_meant(outcome)

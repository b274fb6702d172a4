"""Every shell command in README.md and docs/*.md runs verbatim, from the repository root.

The convention, by the info string of a fenced block:

- ``sh``: every command is run, in order, in one ``bash -o pipefail`` as a reader pastes the block
  (shell variables carry over; a command continued with a trailing backslash is one command;
  comment-only lines are skipped);
- ``console``: every line after a ``$ `` prompt is run the same way; the other lines are output;
- ``sh needs-cluster`` (``console needs-cluster``): needs a cluster, Argo CD, docker or helm; skipped;
- ``sh runs-suite``: runs the test suite (or part of it) or a script that does: never run here (it
  would recurse); each command must be the README's test command, which ``.ci/run`` runs verbatim,
  a ``bash SCRIPT`` whose script exists, or a pytest run of paths that exist;
- ``sh slow``: takes minutes (benchmarks): run only when ``KSERVE_CMP_DOCS_SLOW=1``; otherwise
  only the scripts they name must exist.

A command exits 0 unless its line ends with ``# exit N`` (``cmp diff`` exits 1 when something
changed). Commands run in a copy of the working tree (a git repository of one commit on branch
``main``, so ``cmp diff --base main`` has a base; ``../shared`` next to it when it exists), with
a minimal environment: PATH starts with the venv's ``bin`` (as ``.venv/bin`` in the copy, so the
docs' ``.venv/bin/cmp`` and a bare ``cmp`` both run this checkout's), a private HOME and TMPDIR,
and the caller's ``PIP_*`` and proxy settings for the one block that installs. Each block has
:data:`BLOCK_SECONDS` in all; the README's setup command (a fresh venv from the lock, then a
render) runs in a copy of its own and has :data:`SETUP_SECONDS`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK_SECONDS = 120
SETUP_SECONDS = 600
SHELL_LANGUAGES = {"sh", "console"}
#: Info strings a reader would take for shell that the convention does not know: refused.
NOT_CONVENTION = {"bash", "shell", "zsh", "shell-session", "shellsession"}
MARKERS = {"", "needs-cluster", "runs-suite", "slow"}
_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
SETUP_MARK = "python3 -m venv .venv"


@dataclass(frozen=True)
class Command:
    text: str       # verbatim, backslash-newlines included
    line: int       # 1-based line in the Markdown file
    status: int     # the exit status the doc states (0 unless ``# exit N``)


@dataclass(frozen=True)
class Block:
    file: str
    line: int       # the line of the opening fence
    language: str   # "sh" or "console"
    marker: str     # "" or one of MARKERS
    commands: tuple[Command, ...]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def _status(text: str) -> int:
    found = _EXIT.search(text.splitlines()[-1])
    return int(found.group(1)) if found else 0


def commands_of(content: str, first_line: int, console: bool = False) -> list[Command]:
    """The commands of a block, each a logical line (a trailing ``\\`` continues it). ``sh``: every
    line but blank and comment-only ones; ``console``: what follows each ``$ `` prompt (continuation
    lines may start with ``> ``), the other lines being output."""
    commands: list[Command] = []
    pending: list[str] = []
    start = first_line
    for offset, line in enumerate(content.splitlines()):
        if pending:
            pending.append(line[2:] if console and line.startswith("> ") else line)
        elif console and line.startswith("$ "):
            pending.append(line[2:])
        elif not console and line.strip() and not line.lstrip().startswith("#"):
            pending.append(line)
        else:
            continue
        if len(pending) == 1:
            start = first_line + offset
        if not pending[-1].endswith("\\"):
            text = "\n".join(pending)
            commands.append(Command(text, start, _status(text)))
            pending = []
    if pending:
        raise ValueError(f"line {start}: a command ends with a backslash and nothing follows")
    return commands


def blocks_of(text: str, file: str) -> list[Block]:
    """Every fenced block of the convention's languages in a Markdown text; ValueError for a block
    in a shell language the convention does not know, or an unknown marker."""
    found = []
    for token in MarkdownIt().parse(text):
        if token.type != "fence" or not token.info.strip():
            continue
        language, *rest = token.info.split()
        where = f"{file}:{token.map[0] + 1}"
        if language in NOT_CONVENTION:
            raise ValueError(f"{where}: info string {language!r}: use sh or console (with a marker if needed)")
        if language not in SHELL_LANGUAGES:
            continue
        marker = " ".join(rest)
        if marker not in MARKERS:
            raise ValueError(f"{where}: unknown marker {marker!r}; known: {', '.join(sorted(MARKERS - {''}))}")
        commands = commands_of(token.content, token.map[0] + 2, console=language == "console")
        if not commands:
            raise ValueError(f"{where}: a {language} block without a command")
        found.append(Block(file, token.map[0] + 1, language, marker, tuple(commands)))
    return found


def all_blocks() -> list[Block]:
    return [b for doc in DOCS for b in blocks_of(doc.read_text(encoding="utf-8"), str(doc.relative_to(REPO)))]


BLOCKS = all_blocks()


#: Where the interpreter the venv was made from lives: ``python3`` there is the one a reader has.
BASE_PYTHON_BIN = str(Path(getattr(sys, "_base_executable", sys.executable)).parent)


def environment(root: Path, home: Path) -> dict[str, str]:
    """A minimal environment: the venv first on PATH, then the directory of the Python it was made
    from (for the README's ``python3 -m venv``), a private HOME and TMPDIR, a UTF-8 locale;
    from the caller only what lets pip reach its index (``PIP_*``, proxies) and its cache."""
    env = {"PATH": os.pathsep.join([str(root / ".venv" / "bin"), BASE_PYTHON_BIN, "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))}
    env.update({k: v for k, v in os.environ.items()
                if k.startswith("PIP_") or k.lower() in ("http_proxy", "https_proxy", "no_proxy")})
    return env


def copy_repository(dest: Path, with_venv: bool = True) -> Path:
    """The working tree's files (tracked and untracked, not ignored) in ``dest/<repo name>``, as a
    git repository of one commit on ``main``; ``../shared`` beside it; ``.venv`` the test's venv."""
    root = dest / REPO.name
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() or source.is_symlink():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name, follow_symlinks=False)
    if (REPO.parent / "shared").is_dir():
        (dest / "shared").symlink_to(REPO.parent / "shared")
    git = ["git", "-c", "user.name=docs", "-c", "user.email=docs@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "docs"]):
        subprocess.run(git + args, cwd=root, check=True, capture_output=True, timeout=120)
    if with_venv:   # after the commit: a link is no directory to .gitignore's ``.venv/``
        (root / ".venv").symlink_to(VENV)
    return root


_MARK = "@@docs-command@@"


def script_of(block: Block) -> str:
    """The block's commands verbatim, in one shell as a reader pastes them (variables carry over),
    each followed by a line that checks its exit status and reports how far the block got."""
    lines = []
    for index, command in enumerate(block.commands):
        lines += [command.text,
                  f'__status=$?; if [ "$__status" != {command.status} ]; then echo "{_MARK} {index} $__status" >&2; '
                  f'exit 99; fi; echo "{_MARK} {index} ok" >&2']
    return "\n".join(lines) + "\n"


@dataclass
class BlockRun:
    problems: list[str]     # empty: every command exited as the doc states
    output: str             # stdout and stderr, the markers left out


def run_block(block: Block, root: Path, env: dict[str, str], seconds: float) -> BlockRun:
    """Run ``block`` in ``root`` within ``seconds``; stops at the first command whose exit status is
    not the one the doc states."""
    try:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", script_of(block)], cwd=root, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=seconds)
        stdout, stderr, timed_out = done.stdout, done.stderr, False
    except subprocess.TimeoutExpired as exc:
        stdout, stderr, timed_out = _text(exc.stdout), _text(exc.stderr), True
    marks = [line.split()[1:] for line in stderr.splitlines() if line.startswith(_MARK)]
    output = stdout + "".join(line + "\n" for line in stderr.splitlines() if not line.startswith(_MARK))
    reached = len([m for m in marks if m[1] == "ok"])
    if reached == len(block.commands):
        return BlockRun([], output)
    command = block.commands[reached]
    if timed_out:
        why = f"timed out ({seconds:.0f} s for the block)"
    elif marks and marks[-1][1] != "ok":
        why = f"exited {marks[-1][1]}, the doc says {command.status}"
    else:
        why = "ended the shell"
    return BlockRun([f"{block.file}:{command.line}: `{command.text}` {why}\n{output[-3000:]}"], output)


def _text(data: str | bytes | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("docs-checkout"))


def _is_setup(block: Block) -> bool:
    return any(SETUP_MARK in c.text for c in block.commands)


RUN = [b for b in BLOCKS if b.marker == "" and not _is_setup(b)]


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.id)
def test_command_runs_verbatim(block: Block, checkout: Path, tmp_path: Path) -> None:
    problems = run_block(block, checkout, environment(checkout, tmp_path), BLOCK_SECONDS).problems
    assert not problems, "\n".join(problems)


def test_readme_setup_runs_verbatim_in_a_fresh_checkout(tmp_path: Path) -> None:
    """The README's quick start: a venv from the lock (pip reads its cache), then a render."""
    (setup,) = [b for b in BLOCKS if _is_setup(b)]
    assert setup.file == "README.md" and setup.marker == ""
    root = copy_repository(tmp_path / "fresh", with_venv=False)
    home = tmp_path / "home"
    home.mkdir()
    done = run_block(setup, root, environment(root, home), SETUP_SECONDS)
    assert not done.problems, "\n".join(done.problems)
    assert "kind: InferenceService" in done.output


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "needs-cluster"], ids=lambda b: b.id)
def test_cluster_commands_are_skipped(block: Block) -> None:
    """Needs a cluster, Argo CD, docker or helm (the docs say so with ``needs-cluster``)."""
    pytest.skip(f"{block.id}: needs a cluster, Argo CD, docker or helm")


#: The README's test command; ``.ci/run`` runs it verbatim (a line of its own).
SUITE = ".venv/bin/python -m pytest"


def suite_command_problem(text: str) -> str | None:
    """Why a ``runs-suite`` command is not what it claims to be (None when it is)."""
    words = shlex.split(text, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words = words[1:]
    if words[:1] == ["bash"] and len(words) >= 2:
        return None if (REPO / words[1]).is_file() else f"{words[1]}: no such script"
    if words[:3] != SUITE.split():
        return f"not {SUITE!r} nor `bash SCRIPT`"
    if len(words) == 3:
        ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        return None if SUITE in ci else f".ci/run does not run {SUITE!r}"
    missing = [w for w in words[3:] if not w.startswith("-") and not (REPO / w).exists()
               and words[words.index(w) - 1] not in ("-p", "-k", "-m")]
    return f"no such test path: {', '.join(missing)}" if missing else None


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "runs-suite"], ids=lambda b: b.id)
def test_suite_commands_are_what_they_claim(block: Block) -> None:
    """Not run (they run this test); each is the README's test command as ``.ci/run`` runs it, a
    script that exists, or a pytest run of paths that exist."""
    problems = [f"{block.file}:{c.line}: {p}" for c in block.commands if (p := suite_command_problem(c.text))]
    assert not problems


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "slow"], ids=lambda b: b.id)
def test_slow_commands(block: Block, checkout: Path, tmp_path: Path) -> None:
    """Benchmarks: their scripts exist; run verbatim only with KSERVE_CMP_DOCS_SLOW=1 (minutes)."""
    for command in block.commands:
        scripts = [w for w in shlex.split(command.text, comments=True) if w.endswith((".py", ".sh"))]
        assert scripts and all((REPO / s).is_file() for s in scripts), f"{block.file}:{command.line}"
    if os.environ.get("KSERVE_CMP_DOCS_SLOW") != "1":
        pytest.skip("slow: set KSERVE_CMP_DOCS_SLOW=1 to run")
    problems = run_block(block, checkout, environment(checkout, tmp_path), 3600).problems
    assert not problems, "\n".join(problems)


def test_the_docs_hold_commands_of_every_kind() -> None:
    """The extraction finds the docs' blocks (a broken extractor must not pass by finding none)."""
    assert {b.marker for b in BLOCKS} == MARKERS
    assert any(b.language == "console" for b in BLOCKS) and len(RUN) >= 2
    assert sum(1 for b in BLOCKS if _is_setup(b)) == 1


# The extractor and the runner, on a small sample: a broken command must fail the test.

SAMPLE = """\
Text.

```sh
true
# a comment line
echo one \\
  two
false   # exit 1
```

```console
$ echo hi
hi
$ (exit 3) # exit 3
```

```sh needs-cluster
kubectl get pods
```

```yaml
kind: NotShell
```
"""


def test_extractor_reads_commands_lines_and_statuses() -> None:
    blocks = blocks_of(SAMPLE, "sample.md")
    assert [(b.line, b.language, b.marker) for b in blocks] == [(3, "sh", ""), (11, "console", ""),
                                                                 (17, "sh", "needs-cluster")]
    assert [(c.text, c.line, c.status) for c in blocks[0].commands] == [
        ("true", 4, 0), ("echo one \\\n  two", 6, 0), ("false   # exit 1", 8, 1)]
    assert [(c.text, c.line, c.status) for c in blocks[1].commands] == [("echo hi", 12, 0), ("(exit 3) # exit 3", 14, 3)]


@pytest.mark.parametrize("text, message", [
    ("```bash\nls\n```\n", "use sh or console"),
    ("```sh needs-cluter\nls\n```\n", "unknown marker 'needs-cluter'"),
    ("```sh\n# only a comment\n```\n", "without a command"),
    ("```sh\nls \\\n```\n", "ends with a backslash"),
])
def test_extractor_refuses_what_the_convention_does_not_know(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        blocks_of(text, "sample.md")


def test_a_broken_command_fails_and_a_stated_status_passes(tmp_path: Path) -> None:
    env = environment(REPO, tmp_path)
    (ok,) = blocks_of("```sh\nd=overlays\n.venv/bin/cmp render \"$d/sklearn-iris\"\ncmp rendr x  # exit 2\n```\n", "ok.md")
    assert run_block(ok, REPO, env, BLOCK_SECONDS).problems == []
    (broken,) = blocks_of("```sh\n.venv/bin/cmp render overlays/no-such-app\ntouch never-made\n```\n", "broken.md")
    (problem,) = run_block(broken, tmp_path, env, BLOCK_SECONDS).problems
    assert problem.startswith("broken.md:2: `.venv/bin/cmp render overlays/no-such-app` exited 127, the doc says 0")
    assert not (tmp_path / "never-made").exists()   # stops at the first failure
    (wrong,) = blocks_of("```console\n$ .venv/bin/cmp render overlays/sklearn-iris # exit 1\n```\n", "w.md")
    assert run_block(wrong, REPO, env, BLOCK_SECONDS).problems[0].startswith("w.md:2: ")
    (gone,) = blocks_of("```sh\nexit 0\ntrue\n```\n", "gone.md")
    assert "ended the shell" in run_block(gone, REPO, env, BLOCK_SECONDS).problems[0]
    (slow,) = blocks_of("```sh\ntrue\nsleep 5\n```\n", "slow.md")
    assert run_block(slow, REPO, env, 1).problems[0].startswith("slow.md:3: `sleep 5` timed out")


def test_suite_commands_are_checked() -> None:
    assert suite_command_problem(".venv/bin/python -m pytest") is None
    assert suite_command_problem("bash .ci/run   # as CI runs it") is None
    assert suite_command_problem("X=1 .venv/bin/python -m pytest tests/fuzz -p no:cacheprovider") is None
    assert suite_command_problem("bash scripts/no-such.sh") == "scripts/no-such.sh: no such script"
    assert suite_command_problem(".venv/bin/python -m pytest tests/nowhere") == "no such test path: tests/nowhere"
    assert suite_command_problem("make test") is not None

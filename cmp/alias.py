"""The ``cmp`` entry point: our subcommands, else diffutils' ``cmp``.

Installing kserve-cmp puts a ``cmp`` script on PATH that can shadow the POSIX ``cmp`` which
shell scripts call as ``cmp -s a b``. When the first argument is one of our subcommands (or
help/version, or nothing), this runs kserve-cmp; otherwise it replaces itself with the next
``cmp`` on PATH that is not this script, with the same argv, so the exit status is that
program's own. Kept import-light: the hand-off path loads neither click nor YAML.
"""

from __future__ import annotations

import os
import sys

#: Must equal the commands of ``cmp.cli.main`` (a test checks).
OUR_COMMANDS = frozenset({"diff", "explain", "generate", "render", "validate"})
OUR_FLAGS = frozenset({"--help", "-h", "--version"})
MARKER = "cmp.alias"


def is_ours(argv: list[str]) -> bool:
    return len(argv) < 2 or argv[1] in OUR_COMMANDS or argv[1] in OUR_FLAGS


def next_cmp(path_env: str, me: str) -> str | None:
    """The first executable ``cmp`` on PATH that is neither this script nor another copy of it."""
    mine = os.path.realpath(me) if me else ""
    for directory in path_env.split(os.pathsep):
        candidate = os.path.join(directory or ".", "cmp")
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        if os.path.realpath(candidate) == mine or _is_our_script(candidate):
            continue
        return candidate
    return None


def _is_our_script(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError:
        return False
    return MARKER.encode() in head


def main() -> None:
    argv = sys.argv
    if is_ours(argv):
        from .cli import main as cli_main

        cli_main(args=argv[1:], prog_name="cmp")
        return
    target = next_cmp(os.environ.get("PATH", os.defpath), argv[0])
    if target is None:
        sys.stderr.write("cmp: not a kserve-cmp command and no other 'cmp' (diffutils) found on PATH\n"
                         "kserve-cmp commands: " + ", ".join(sorted(OUR_COMMANDS)) + "\n")
        sys.exit(2)
    os.execv(target, [target, *argv[1:]])

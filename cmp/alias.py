"""The ``cmp`` entry point: our subcommands, else diffutils' ``cmp``.

Installing kserve-cmp puts a ``cmp`` script on PATH that can shadow the POSIX ``cmp`` which
shell scripts call as ``cmp -s a b``. When the first argument is one of our subcommands (or
help/version, or nothing), this runs kserve-cmp; otherwise it replaces itself with the next
``cmp`` on PATH that is not this script, with the same argv, so the exit status is that
program's own. Kept import-light: the hand-off path loads neither click nor YAML.

The next ``cmp`` is looked for only after the directory this script was started from (when PATH
holds it): a wrapper or shim named ``cmp`` before it on PATH (pyenv's shims run
``pyenv exec cmp``, which comes back here) is never chosen again. Every hand-off also records
the directory it went to in :data:`GUARD`; a ``cmp`` that leads back here is skipped the next
time, and after :data:`MAX_HOPS` hand-offs, or when no other ``cmp`` is left, the loop stops
with a message (exit 2). A first argument that is neither a file nor one of our commands but
close to one (``cmp rendr``) gets a suggestion (exit 2) instead of diffutils' error.
"""

from __future__ import annotations

import os
import re
import sys

#: Must equal the commands of ``cmp.cli.main`` (a test checks).
OUR_COMMANDS = frozenset({"diff", "explain", "generate", "init", "render", "runtimes", "schema", "serve", "validate"})
OUR_FLAGS = frozenset({"--help", "-h", "--version"})
MARKER = "cmp.alias"
#: The directories the alias already handed ``cmp`` to, joined by ``os.pathsep``.
GUARD = "KSERVE_CMP_ALIAS_HOPS"
#: Hand-offs that may come back here before the alias gives up.
MAX_HOPS = 4
_WORD = re.compile(r"[a-z]{3,12}")


def is_ours(argv: list[str]) -> bool:
    return len(argv) < 2 or argv[1] in OUR_COMMANDS or argv[1] in OUR_FLAGS


def search_path(path_env: str, me: str) -> list[str]:
    """The PATH entries after the directory ``me`` was started from, or all of them when PATH
    does not hold that directory."""
    entries = path_env.split(os.pathsep)
    if me:
        here = os.path.realpath(os.path.dirname(me) or ".")
        for index, directory in enumerate(entries):
            if os.path.realpath(directory or ".") == here:
                return entries[index + 1:]
    return entries


def next_cmp(path_env: str, me: str, tried: tuple[str, ...] = ()) -> str | None:
    """The first executable ``cmp`` on PATH after ``me``'s directory that is neither this script
    nor another copy of it, and not in a directory of ``tried`` (those led back here)."""
    mine = os.path.realpath(me) if me else ""
    skip = {os.path.realpath(t) for t in tried}
    for directory in search_path(path_env, me):
        if os.path.realpath(directory or ".") in skip:
            continue
        candidate = os.path.join(directory or ".", "cmp")
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        if os.path.realpath(candidate) == mine or _is_our_script(candidate):
            continue
        return candidate
    return None


def suggestion(argv: list[str]) -> str | None:
    """The command meant by a first argument that is no file but close to one of ours (``rendr``)."""
    if len(argv) < 2 or not _WORD.fullmatch(argv[1]) or os.path.lexists(argv[1]):
        return None
    import difflib

    close = difflib.get_close_matches(argv[1], sorted(OUR_COMMANDS), n=1, cutoff=0.75)
    return close[0] if close else None


def _is_our_script(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError:
        return False
    return MARKER.encode() in head


def _stop(message: str) -> None:
    sys.stderr.write(f"cmp: {message}\nkserve-cmp commands: {', '.join(sorted(OUR_COMMANDS))}\n")
    sys.exit(2)


def main() -> None:
    argv = sys.argv
    tried = tuple(t for t in os.environ.pop(GUARD, "").split(os.pathsep) if t)
    if is_ours(argv):
        from .launch import main as launch_main

        launch_main(argv[1:], prog_name="cmp")
        return
    meant = suggestion(argv)
    if meant is not None:
        _stop(f"{argv[1]!r} is neither a file nor a kserve-cmp command; did you mean `{meant}`?")
    if len(tried) >= MAX_HOPS:
        _stop(f"stopped a loop: {len(tried)} programs named cmp on PATH ({', '.join(tried)}) each ran this "
              f"kserve-cmp script again ({GUARD} counts the hand-offs); put diffutils' cmp first on PATH")
    target = next_cmp(os.environ.get("PATH", os.defpath), argv[0], tried)
    if target is None and tried:
        _stop(f"stopped a loop: the cmp in {', '.join(tried)} ran this kserve-cmp script again and no other "
              f"'cmp' (diffutils) follows on PATH")
    if target is None:
        _stop("not a kserve-cmp command and no other 'cmp' (diffutils) found on PATH")
    os.environ[GUARD] = os.pathsep.join([*tried, os.path.dirname(os.path.abspath(target))])
    os.execv(target, [target, *argv[1:]])

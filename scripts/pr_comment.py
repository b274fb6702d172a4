#!/usr/bin/env python3
"""Post (or update) the ``kserve-cmp diff`` comment of a pull request: the script of ``action.yml``.

Steps: fetch the target branch, run ``kserve-cmp diff --base origin/<branch> --format markdown
--parts-dir DIR`` on the checked-out pull request, then post each part as one comment: edit the
comment that carries the same hidden marker (``<!-- kserve-cmp-diff[:KEY] -->`` for part 1,
``<!-- kserve-cmp-diff[:KEY] part N -->`` for part N), create the missing ones and delete the
parts an earlier, longer diff left behind, with the GitHub CLI (``gh api``; it reads
``GH_TOKEN``). Standard library only.

Environment (the Action sets it from its inputs):
  GITHUB_REPOSITORY, PR_NUMBER   where to comment (owner/name, number)
  BASE_REF                       the target branch
  DIFF_PATHS                     directories to look for apps under (space separated; empty: all)
  DIFF_ARGS                      more ``kserve-cmp diff`` options (shell words)
  COMMENT_KEY                    marker key, for several comments on one pull request
  FETCH_BASE                     "false" when the base is already fetched
  COMMENT_WHEN_UNCHANGED         "true": comment even when nothing changes and no comment exists
  FAIL_ON_ERROR                  "true": fail the step when an app no longer renders
  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY   written when set

Exit status: 0 done (changes or not), 1 an app no longer renders (with FAIL_ON_ERROR), 2 the
diff or the comment could not be made.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

MARKER = "kserve-cmp-diff"
TIMEOUT = 600


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def marker(key: str) -> str:
    """First line of our comment (must match ``cmp.diff.markdown.marker``)."""
    return f"<!-- {MARKER}{':' + key if key else ''} -->"


def kserve_cmp() -> str:
    """The ``kserve-cmp`` installed next to this interpreter, else the one on PATH."""
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    found = shutil.which("kserve-cmp", path=search)
    if found is None:
        raise SystemExit("kserve-cmp is not installed")
    return found


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` (no shell), passing stderr through; stdout captured as text."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, timeout=TIMEOUT)
    if check and proc.returncode != 0:
        raise SystemExit(f"`{shlex.join(argv)}` failed with exit status {proc.returncode}")
    return proc


def diff_command(base: str, parts_dir: str) -> list[str]:
    argv = [kserve_cmp(), "diff", "--base", f"origin/{base}", "--format", "markdown", "--parts-dir", parts_dir]
    if env("COMMENT_KEY"):
        argv += ["--comment-key", env("COMMENT_KEY")]
    return argv + shlex.split(env("DIFF_ARGS")) + env("DIFF_PATHS").split()


def part_number(first_line: str, key: str) -> int | None:
    """Which part of our comment a body's first line marks (1 for the plain marker), or None."""
    if first_line == marker(key):
        return 1
    prefix = f"<!-- {MARKER}{':' + key if key else ''} part "
    if first_line.startswith(prefix) and first_line.endswith(" -->"):
        number = first_line[len(prefix):-len(" -->")]
        if number.isdigit() and not number.startswith("0"):
            return int(number)
    return None


def existing_comments(repo: str, number: str, key: str) -> dict[int, str]:
    """Ids of our earlier comments on the pull request, by part number (the first of each part)."""
    prefix = f"<!-- {MARKER}{':' + key if key else ''} "
    query = f'.[] | select(.body | startswith("{prefix}")) | "\\(.id) \\(.body | split("\\n")[0])"'
    out = run(["gh", "api", "--paginate", f"repos/{repo}/issues/{number}/comments", "--jq", query]).stdout
    found: dict[int, str] = {}
    for line in out.splitlines():
        ident, _, first = line.partition(" ")
        part = part_number(first, key)
        if ident.isdigit() and part is not None:
            found.setdefault(part, ident)
    return found


def upsert(repo: str, number: str, key: str, part_files: list[str], create: bool) -> list[str]:
    """Edit our comments, create the missing parts when ``create``, delete parts no longer needed;
    returns what was done."""
    found = existing_comments(repo, number, key)
    done: list[str] = []
    if not found and not create:
        return ["no changes, no comment"]
    for part, body_file in enumerate(part_files, 1):
        if part in found:
            run(["gh", "api", "--method", "PATCH", f"repos/{repo}/issues/comments/{found[part]}",
                 "-F", f"body=@{body_file}"])
            done.append(f"updated comment {found[part]} (part {part})")
        else:
            run(["gh", "api", "--method", "POST", f"repos/{repo}/issues/{number}/comments", "-F", f"body=@{body_file}"])
            done.append(f"created part {part}")
    for part in sorted(p for p in found if p > len(part_files)):
        run(["gh", "api", "--method", "DELETE", f"repos/{repo}/issues/comments/{found[part]}"])
        done.append(f"deleted comment {found[part]} (part {part}, no longer needed)")
    return done


def write_outputs(values: dict[str, str], body: str) -> None:
    if env("GITHUB_OUTPUT"):
        with open(env("GITHUB_OUTPUT"), "a", encoding="utf-8") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in values.items())
    if env("GITHUB_STEP_SUMMARY"):
        with open(env("GITHUB_STEP_SUMMARY"), "a", encoding="utf-8") as handle:
            handle.write(body)


def main() -> int:
    repo, number, base = env("GITHUB_REPOSITORY"), env("PR_NUMBER"), env("BASE_REF")
    if not (repo and number and base):
        print("GITHUB_REPOSITORY, PR_NUMBER and BASE_REF must be set (run on pull_request events)", file=sys.stderr)
        return 2
    if env("FETCH_BASE", "true") != "false":
        run(["git", "fetch", "--no-tags", "--depth=1", "origin", f"+refs/heads/{base}:refs/remotes/origin/{base}"])
    with tempfile.TemporaryDirectory() as tmp:
        parts_dir = os.path.join(tmp, "parts")
        diff = run(diff_command(base, parts_dir), check=False)
        part_files = [os.path.join(parts_dir, f"part-{n}.md") for n in range(1, 1000)
                      if os.path.isfile(os.path.join(parts_dir, f"part-{n}.md"))]
        if diff.returncode not in (0, 1, 2) or not part_files \
                or not diff.stdout.startswith(marker(env("COMMENT_KEY"))):
            print(f"kserve-cmp diff failed (exit status {diff.returncode}); no comment posted", file=sys.stderr)
            return 2
        create = diff.returncode != 0 or env("COMMENT_WHEN_UNCHANGED") == "true"
        for line in upsert(repo, number, env("COMMENT_KEY"), part_files, create):
            print(line)
    write_outputs({"exit-code": str(diff.returncode), "changed": str(diff.returncode != 0).lower()}, diff.stdout)
    if diff.returncode == 2 and env("FAIL_ON_ERROR", "true") == "true":
        print("an app no longer renders (see the comment)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

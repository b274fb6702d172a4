"""What the warm render server and its client share: where the socket is, and the protocol's bytes.

Kept import-free beyond ``os``: the client imports it on every ``generate`` run.
"""

from __future__ import annotations

import os
import stat

PROTOCOL = b"kserve-cmp-serve-1"
DIR_PREFIX = "kserve-cmp-serve-"
SOCKET_NAME = "sock"
LOCK_NAME = "lock"
MAX_REQUEST = 1 << 20   # argv + environment; Argo CD's env for one app is a few KB
MAX_FDS = 4             # stdin, stdout, stderr, working directory
REQUEST_TIMEOUT = 10.0  # seconds for a connected client to send its request
COMMIT, EXIT, TERM = b"W", b"X", b"T"


def socket_dir(environ: dict[str, str] | None = None) -> str:
    """``$TMPDIR/kserve-cmp-serve-<uid>`` (``/tmp`` when TMPDIR is unset or empty)."""
    environ = os.environ if environ is None else environ
    return os.path.join(environ.get("TMPDIR") or "/tmp", f"{DIR_PREFIX}{os.getuid()}")


def private_dir_problem(path: str) -> str | None:
    """Why ``path`` must not hold the socket (not a directory of ours, open to others), or None."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory"
    if info.st_uid != os.getuid():
        return f"{path} belongs to uid {info.st_uid}, not {os.getuid()}"
    if info.st_mode & 0o077:
        return f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None

"""``kserve-cmp generate --server``: hand the run to the warm render server, else render here.

The client sends its argv, environment, stdin/stdout/stderr and working directory to the
server (``cmp.argocd.server`` describes the protocol) and exits with the code the server's
child reports; the child writes the manifests and messages straight to this process's stdout
and stderr, so they are the bytes an in-process run prints. SIGTERM (Argo CD's deadline) is
forwarded. When no server answers (none started yet, a stale socket, a directory that is not
private) or the server fails before it commits to an answer, the client renders in its own
process, as plain ``kserve-cmp generate`` does, and starts a server for the next run: detached,
in a session of its own, so the process-group kill Argo CD sends after each run does not reach it.

Imports are kept to the minimum (``_socket``, not ``socket``, which costs ~3 ms of imports on each run).
"""

from __future__ import annotations

import os
import sys

import _socket

from .wire import COMMIT, EXIT, MAX_REQUEST, PROTOCOL, SOCKET_NAME, TERM, private_dir_problem, socket_dir

#: The server runs with this environment, not the first client's (which holds one Application's
#: Argo CD variables); each request brings its own environment anyway.
SERVER_ENV = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


def request_bytes(argv: list[str]) -> bytes | None:
    """The framed request for ``argv`` and this process's environment; None when too large."""
    fields = [PROTOCOL, str(len(argv)).encode(), *(os.fsencode(a) for a in argv),
              *(k + b"=" + v for k, v in os.environb.items())]
    body = b"\0".join(fields)
    if len(body) > MAX_REQUEST:
        return None
    return len(body).to_bytes(4, "big") + body


def connect(directory: str) -> _socket.socket | None:
    """A connection to the server in ``directory`` (checked private and ours), or None."""
    if private_dir_problem(directory) is not None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(os.path.join(directory, SOCKET_NAME))
    except OSError:
        sock.close()
        return None
    return sock


class Session:
    """One request in flight: what the SIGTERM handler needs to forward the signal."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.terminated = False

    def forward_sigterm(self, signum: int, frame: object) -> None:
        self.terminated = True
        try:
            self.sock.send(TERM)
        except OSError:
            pass


def ask_server(sock: _socket.socket, argv: list[str]) -> int | None:
    """The exit code of the server's run; None when the server never committed (render here)."""
    import _signal  # not ``signal``: its enums cost ~5 ms of imports

    request = request_bytes(argv)
    if request is None:
        return None
    cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fds = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2, cwd))  # C ints
        sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    except OSError:
        return None
    finally:
        os.close(cwd)
    session = Session(sock)
    _signal.signal(_signal.SIGTERM, session.forward_sigterm)
    answer = b""  # COMMIT, then EXIT and the code: three bytes
    while len(answer) < 3:
        try:
            data = sock.recv(3 - len(answer), _socket.MSG_WAITALL)  # one wake-up, at the end
        except OSError:
            data = b""
        if not data:
            break
        answer += data
    if answer[:2] == COMMIT + EXIT and len(answer) == 3:
        return answer[2]
    committed = answer[:1] == COMMIT
    if session.terminated:
        return 143  # the child ended its builds and said so on stderr
    if committed:
        os.write(2, b"kserve-cmp: the render server stopped while writing; the output is incomplete\n")
        return 3
    _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
    return None


def start_server() -> None:
    """``kserve-cmp serve`` in the background, detached; a no-op when one already runs."""
    environ = {k: os.environ[k] for k in SERVER_ENV if k in os.environ}
    null = os.devnull
    actions = [(os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0)]
    try:
        os.posix_spawn(sys.executable, [sys.executable, "-m", "cmp", "serve"], environ,
                       file_actions=actions, setsid=True)
    except OSError:
        pass  # no server this time: the next run tries again


def main(argv: list[str]) -> None:
    """Run ``argv`` (``["generate"]``) through the server, else in this process; ``os._exit``."""
    directory = socket_dir()
    sock = connect(directory)
    if sock is not None:
        code = ask_server(sock, argv)
        if code is not None:
            os._exit(code)
        sock.close()
    if not os.environ.get("KSERVE_CMP_NO_SERVER_START"):
        start_server()
    from . import run

    run.main()

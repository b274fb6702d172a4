"""``kserve-cmp serve``: a warm render server for the Argo CD sidecar.

Argo CD starts ``kserve-cmp generate`` once per Application and refresh; most of such a
process's time is the interpreter and its imports, not the render. This server holds the
imports, the runtime catalog and the CRD schemas, and forks one child per request: the child
is a copy of the pristine server, so nothing one Application's render does reaches another.
Each child is forked before its request arrives and waits in ``accept`` itself (the server
forks the next one when it takes a connection), so neither a fork nor a wake-up of the server
lies on a request's path; a waiting child dies with the server, a serving one finishes.

Protocol (``cmp.argocd.client`` is the client), over a Unix stream socket:

* the client sends one message: a 4-byte big-endian length, then the request (NUL-separated:
  protocol tag, argument count, arguments, then the client's environment as ``NAME=value``);
  with it, as ``SCM_RIGHTS``, its stdin, stdout, stderr and its working directory (an
  ``O_DIRECTORY`` descriptor, so a path is never re-resolved);
* the child takes those as its own fds 0-2, ``fchdir``\\s to the directory, replaces its
  environment with the request's and renders exactly as ``kserve-cmp generate`` would;
* the child sends ``W`` before it writes anything (from then on the run is committed), writes
  straight to the client's stdout and stderr, then sends ``X`` and the exit code;
* the client sends ``T`` when it gets SIGTERM (Argo CD's deadline): the child then ends its
  kustomize builds and exits 143, as an in-process render does. A client that goes away (Argo
  CD SIGKILLs it) ends the child the same way, silently.

Security: the socket lives in a directory of its own under ``$TMPDIR`` (else ``/tmp``), created
0700 and refused unless it is a real directory owned by this user with no group or other
access; each child checks its peer's uid (``SO_PEERCRED``). Requests are bounded
(``MAX_REQUEST`` bytes, ``REQUEST_TIMEOUT`` seconds to arrive). One server per directory: a
``flock`` on ``lock`` held for the server's life; a socket without a live server (a crashed or
killed one) is removed by the next server before it binds.
"""

from __future__ import annotations

import array
import os
import signal
import socket
import struct
import sys

from .wire import (COMMIT, EXIT, LOCK_NAME, MAX_FDS, MAX_REQUEST, PROTOCOL, REQUEST_TIMEOUT, SOCKET_NAME, TERM,
                   private_dir_problem, socket_dir)


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def serve(directory: str | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; 0 at once when another one holds the directory."""
    import fcntl

    directory = directory or socket_dir()
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        sys.stderr.write(f"kserve-cmp serve: cannot create {directory}: {exc.strerror}\n")
        return 2
    problem = private_dir_problem(directory)
    if problem:
        sys.stderr.write(f"kserve-cmp serve: refusing {problem}\n")
        return 2
    lock = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return 0  # a server is running (or starting) here
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())
    preload()
    path = os.path.join(directory, SOCKET_NAME)
    try:
        os.unlink(path)  # a stale socket: its server is gone (it held the lock otherwise)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old_umask)
    listener.listen(128)
    spare: list[int] = []  # the child waiting for the next connection, ended with the server
    _stop_on_signals(listener, path, spare)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    prctl = _prctl()
    server = os.getpid()
    while True:
        taken_r, taken_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(taken_r)
            os.close(taken_w)
            _turn_one_away(listener)
            continue
        if pid == 0:
            os.close(taken_r)
            os.close(lock)
            _spare(listener, taken_w, prctl, server)  # never returns
        spare[:] = [pid]
        os.close(taken_w)
        try:
            os.read(taken_r, 1)  # a byte: it took a connection; end of file: it died first
        finally:
            os.close(taken_r)
        spare.clear()  # serving now: it outlives the server


def _spare(listener: socket.socket, taken_w: int, prctl: object, server: int) -> None:
    """A child forked before its request arrives: it waits in ``accept`` itself, so neither a fork
    nor a wake-up of the server lies between a client's connect and its render. It tells the
    server (which then forks the next one) and serves the connection; it dies with the server
    while it waits, never once it serves."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # ``server`` is the pid read before the fork: the server may have died between the fork and
        # this request (reading getppid() here would then give its reaper, and this child would wait
        # in accept forever, the listener still open)
        if os.getppid() != server:
            os._exit(0)
    while True:
        try:
            conn, _ = listener.accept()
            break
        except OSError:
            continue
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, 0)
    os.write(taken_w, b"x")
    os.close(taken_w)
    listener.close()
    if peer_uid(conn) != os.getuid():
        os._exit(0)
    _child(conn)


_PR_SET_PDEATHSIG = 1


def _prctl() -> object:
    """libc's ``prctl`` (Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None


def _turn_one_away(listener: socket.socket) -> None:
    """No child could be forked: close the next connection (its client renders in its own process)."""
    try:
        conn, _ = listener.accept()
        conn.close()
    except OSError:
        pass


def _stop_on_signals(listener: socket.socket, path: str, spare: list[int]) -> None:
    def stop(signum: int, frame: object) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass
        listener.close()
        for pid in spare:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def preload() -> None:
    """Import everything a render may use; load every release's catalog and CRD schemas, once."""
    import atexit  # noqa: F401  (weakref.finalize, on the first TemporaryDirectory)
    import difflib  # noqa: F401  (did-you-mean suggestions)
    import hashlib  # noqa: F401  (hashed names)
    import shutil  # noqa: F401  (kustomize builds)
    import subprocess  # noqa: F401
    import tempfile  # noqa: F401
    import threading  # noqa: F401  (each child's watcher)

    import jsonpatch  # noqa: F401  (user patches)

    from .. import catalog, goregexp, lazydataclass, llmisvc
    from ..source import kustomize  # noqa: F401
    from ..validate import preload_schemas
    from . import generate, run  # noqa: F401

    catalog.all_releases()  # every shipped release's runtimes and facts
    goregexp.compile_go("")  # RE2, imported on the first pattern otherwise
    for name in llmisvc.__all__:  # its modules load on first use otherwise
        getattr(llmisvc, name)
    preload_schemas()
    lazydataclass.process_all()  # every dataclass's methods, generated once here


def _child(conn: socket.socket) -> None:
    """Serve one request in this forked child, then ``os._exit``."""
    code = 3
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        argv, environ = _receive(conn)
        code = _render(conn, argv, environ)
    except BaseException:  # noqa: BLE001  (a bad request or a bug: the client sees no commit)
        code = 3
    finally:
        os._exit(code)


def _receive(conn: socket.socket) -> tuple[list[bytes], dict[bytes, bytes]]:
    """Read and check one request; install its fds; returns (argv, environment)."""
    conn.settimeout(REQUEST_TIMEOUT)
    fd_size = socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize)
    data, ancillary, flags, _ = conn.recvmsg(65536, fd_size)
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    try:
        if len(fds) != MAX_FDS or flags & socket.MSG_CTRUNC or len(data) < 4:
            raise ValueError("malformed request")
        size = struct.unpack(">I", data[:4])[0]
        if size > MAX_REQUEST:
            raise ValueError("request too large")
        body = bytearray(data[4:])
        while len(body) < size:
            chunk = conn.recv(min(65536, size - len(body)))
            if not chunk:
                raise ValueError("truncated request")
            body += chunk
        if len(body) != size:
            raise ValueError("request longer than announced")
        fields = bytes(body).split(b"\0")
        if fields[0] != PROTOCOL or not fields[1].isdigit():
            raise ValueError("unknown protocol")
        count = int(fields[1])
        argv, env_items = fields[2:2 + count], fields[2 + count:]
        environ = dict(item.split(b"=", 1) for item in env_items if b"=" in item)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        os.fchdir(fds[3])
    finally:
        for fd in fds:
            if fd > 2:
                os.close(fd)
    conn.settimeout(None)
    return argv, environ


def _render(conn: socket.socket, argv: list[bytes], environ: dict[bytes, bytes]) -> int:
    """The generate run of one request, in this child; returns the exit code."""
    import tempfile
    import threading

    from . import run

    os.environ.clear()
    os.environ.update({k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
                       for k, v in environ.items()})
    tempfile.tempdir = None  # the request's TMPDIR, not the server's
    threading.Thread(target=_watch, args=(conn,), daemon=True).start()
    run.end_tools_on_sigterm()
    if argv != [b"generate"]:
        out, err, code = "", "kserve-cmp serve: only `generate` is served\n", 2
    else:
        out, err, code = run.outcome(os.environ)
    conn.sendall(COMMIT)
    code = run.emit(out, err, code)
    conn.sendall(EXIT + bytes([code & 0xFF]))
    return code


def _watch(conn: socket.socket) -> None:
    """End this render when the client forwards SIGTERM or goes away (Argo CD SIGKILLed it)."""
    from . import run

    try:
        data = conn.recv(1)
    except OSError:
        data = b""
    run.terminate(message=data == TERM)


def main() -> None:
    """``kserve-cmp serve``."""
    sys.exit(serve())

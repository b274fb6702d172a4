"""The warm render server: the same bytes as an in-process ``generate``, and every way a run can end.

Each test runs its own ``kserve-cmp serve`` with a private TMPDIR (the socket lives there) and
ends it, and any server a client started, before it returns.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import REPO, SKLEARN_MODEL, alive, wait_for
from test_golden import _command, _env

from cmp.argocd import run, wire
from cmp.settings import BY_NAME

SCRIPT = str(Path(sys.executable).parent / "kserve-cmp")
TESTS = REPO / "tests"


def _server_pid(tmpdir: Path) -> int | None:
    lock = tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}" / wire.LOCK_NAME
    text = lock.read_text().strip() if lock.exists() else ""
    return int(text) if text.isdigit() else None


def _answers(tmpdir: Path) -> bool:
    path = tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}" / wire.SOCKET_NAME
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _stop_servers(tmpdir: Path) -> None:
    pid = _server_pid(tmpdir)
    if pid is not None and alive(pid):
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid) or _zombie(pid), "the server to stop", 10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return False


def _in_session(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``: a server and the children it forked
    (a request's kustomize runs in a session of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


class Server:
    """``kserve-cmp serve`` under ``tmpdir``, for one test."""

    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = tmpdir
        self.env = dict(os.environ, TMPDIR=str(tmpdir), KSERVE_CMP_NO_SERVER_START="1")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([SCRIPT, "serve"], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        wait_for(lambda: _answers(self.tmpdir) or self.proc.poll() is not None, "the server to listen")
        assert self.proc.poll() is None, self.proc.stderr.read().decode()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        _stop_servers(self.tmpdir)


@pytest.fixture
def server(tmp_path: Path):
    tmpdir = tmp_path / "sidecar-tmp"
    tmpdir.mkdir()
    running = Server(tmpdir)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def generate(cwd: Path, env: dict[str, str], *via_server: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, "generate", *via_server], cwd=cwd, env=env, capture_output=True,
                          timeout=timeout, check=False)


def _app(root: Path, name: str = "app", model: str = SKLEARN_MODEL) -> Path:
    app = root / name
    app.mkdir(parents=True)
    (app / "model.yaml").write_text(model)
    return app


# --- byte identity -------------------------------------------------------------------------------


def _golden_runs() -> list[tuple[str, Path, dict[str, str]]]:
    """Every golden ``render`` case as a generate run: (id, app directory, settings as sidecar env)."""
    runs = []
    for kind in ("cases", "errors"):
        for case in sorted(p for p in (TESTS / kind).iterdir() if p.is_dir()):
            args = _command(case)
            if args[0] != "render":
                continue
            path, flags = ("input", args[1:]) if len(args) == 1 or args[1].startswith("--") else (args[1], args[2:])
            if any(f.startswith("--") and f[2:] not in BY_NAME for f in flags):
                continue  # a render-only option (--format json): generate always prints YAML
            env = _env(case)
            while flags:
                setting = BY_NAME[flags.pop(0)[2:]]
                if setting.kind == "bool":
                    env[setting.env] = "true"
                else:
                    value = flags.pop(0)
                    env[setting.env] = str((case / value).resolve()) if setting.kind == "path" else value
            runs.append((f"{kind}/{case.name}", (case / path).resolve(), env))
    return runs


def test_server_output_and_errors_equal_in_process_generate_for_every_golden_case(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _golden_runs()
    assert len(runs) > 40
    expected = {}
    for name, app, env in runs:  # in this process: what ``kserve-cmp generate`` (cmp.argocd.run) writes
        monkeypatch.chdir(app)
        out, err, code = run.outcome(dict(server.env, **env))
        expected[name] = (code, out.encode(), err.encode("utf-8", "backslashreplace"))
    monkeypatch.undo()
    with ThreadPoolExecutor(4) as pool:
        served = dict(zip(expected, pool.map(lambda r: generate(r[1], dict(server.env, **r[2]), "--server"), runs)))
    mismatches = [(name, expected[name][0], done.returncode, expected[name][2][-300:], done.stderr[-300:])
                  for name, done in served.items()
                  if (done.returncode, done.stdout, done.stderr) != expected[name]]
    assert mismatches == []
    assert sum(code == 0 for code, _, _ in expected.values()) > 20  # both successes and failures
    assert sum(code != 0 for code, _, _ in expected.values()) > 20
    assert server.proc.poll() is None


def test_each_request_has_its_own_environment_and_directory_16_clients_at_once(server: Server,
                                                                                tmp_path: Path) -> None:
    apps = [_app(tmp_path / "apps", f"app-{i}") for i in range(16)]
    envs = [dict(server.env, ARGOCD_APP_NAMESPACE=f"team-{i}", ARGOCD_APP_SOURCE_PATH=f"apps/app-{i}")
            for i in range(16)]
    expected = [generate(app, env) for app, env in zip(apps, envs)]
    with ThreadPoolExecutor(16) as pool:
        served = list(pool.map(lambda pair: generate(pair[0], pair[1], "--server"), zip(apps, envs)))
    for i, (local, remote) in enumerate(zip(expected, served)):
        assert remote.returncode == 0, remote.stderr
        assert f"namespace: team-{i}\n".encode() in remote.stdout
        assert (remote.stdout, remote.stderr) == (local.stdout, local.stderr)


def test_a_failing_render_keeps_its_exit_code_and_message(server: Server, tmp_path: Path) -> None:
    app = _app(tmp_path, model=SKLEARN_MODEL.replace("kserve-sklearnserver", "no-such-runtime"))
    local = generate(app, server.env)
    served = generate(app, server.env, "--server")
    assert local.returncode == 1 and served.returncode == 1
    assert served.stdout == b""
    assert served.stderr == local.stderr and b"no-such-runtime" in served.stderr


# --- deadline and crashes ---------------------------------------------------------------------------


def _slow_kustomize(tmp_path: Path, *, once: bool = False) -> tuple[Path, Path]:
    """A fake kustomize that records its pid and sleeps (with ``once``: only on its first run)."""
    pidfile, marker = tmp_path / "kustomize.pid", tmp_path / "ran-once"
    fake = tmp_path / "kustomize"
    body = f"echo $$ > {pidfile}\nexec sleep 30\n"
    if once:
        body = (f"if [ -e {marker} ]; then echo 'apiVersion: v1'; echo 'kind: ConfigMap'; "
                f"echo 'metadata: {{name: cm}}'; exit 0; fi\ntouch {marker}\n" + body)
    fake.write_text("#!/bin/sh\n" + body)
    fake.chmod(0o755)
    app = tmp_path / "kapp"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: []\n")
    return fake, pidfile


def _started(pidfile: Path) -> int:
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the fake kustomize to start")
    return int(pidfile.read_text())


def test_sigterm_to_the_client_ends_the_served_render_and_its_kustomize(server: Server, tmp_path: Path) -> None:
    fake, pidfile = _slow_kustomize(tmp_path)
    env = dict(server.env, KSERVE_CMP_KUSTOMIZE=str(fake))
    client = subprocess.Popen([SCRIPT, "generate", "--server"], cwd=tmp_path / "kapp", env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        kustomize_pid = _started(pidfile)
        os.killpg(client.pid, signal.SIGTERM)  # what argocd-cmp-server does at the deadline
        out, err = client.communicate(timeout=10)
        assert client.returncode == 143
        assert out == b""
        assert err == b"terminated (SIGTERM): render stopped, nothing printed\n"
        wait_for(lambda: not alive(kustomize_pid) or _zombie(kustomize_pid), "kustomize to end", 5)
        assert [p.name for p in server.tmpdir.iterdir()] == [f"{wire.DIR_PREFIX}{os.getuid()}"]  # no wrapper dir
        assert server.proc.poll() is None
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
            client.communicate()


def test_sigkill_of_the_client_ends_the_served_render_too(server: Server, tmp_path: Path) -> None:
    fake, pidfile = _slow_kustomize(tmp_path)
    env = dict(server.env, KSERVE_CMP_KUSTOMIZE=str(fake))
    client = subprocess.Popen([SCRIPT, "generate", "--server"], cwd=tmp_path / "kapp", env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kustomize_pid = _started(pidfile)
    os.killpg(client.pid, signal.SIGKILL)  # Argo CD after its grace period: no handler runs
    client.wait(timeout=10)
    wait_for(lambda: not alive(kustomize_pid) or _zombie(kustomize_pid), "kustomize to end", 5)


def test_a_server_child_that_dies_mid_request_makes_the_client_render_itself(server: Server,
                                                                            tmp_path: Path) -> None:
    fake, pidfile = _slow_kustomize(tmp_path, once=True)
    env = dict(server.env, KSERVE_CMP_KUSTOMIZE=str(fake))
    client = subprocess.Popen([SCRIPT, "generate", "--server"], cwd=tmp_path / "kapp", env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kustomize_pid = _started(pidfile)
    child = int(Path(f"/proc/{kustomize_pid}/stat").read_text().split(") ")[1].split()[1])
    assert child not in (client.pid, server.proc.pid)
    os.kill(child, signal.SIGKILL)  # the render crashes before it committed to an answer
    out, err = client.communicate(timeout=30)
    assert client.returncode == 0, err
    assert b"kind: ConfigMap" in out
    local = generate(tmp_path / "kapp", env)
    assert (out, err) == (local.stdout, local.stderr)
    assert server.proc.poll() is None  # the server serves on
    wait_for(lambda: not alive(kustomize_pid) or _zombie(kustomize_pid), "the crashed render's kustomize to end", 5)


def test_a_crashed_server_leaves_a_stale_socket_that_the_next_server_replaces(tmp_path: Path) -> None:
    tmpdir = tmp_path / "t"
    tmpdir.mkdir()
    first = Server(tmpdir)
    first.start()
    app = _app(tmp_path)
    try:
        pid = first.proc.pid
        wait_for(lambda: len(_in_session(pid)) > 1, "a child forked ahead of the next connection")
        os.kill(pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        wait_for(lambda: not _in_session(pid), "the server's waiting child to die with it")
        sock = tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}" / wire.SOCKET_NAME
        assert stat.S_ISSOCK(sock.lstat().st_mode) and not _answers(tmpdir)  # stale
        env = dict(os.environ, TMPDIR=str(tmpdir))  # clients may start a server now
        local = generate(app, dict(env, KSERVE_CMP_NO_SERVER_START="1"))
        fallback = generate(app, env, "--server")
        assert (fallback.returncode, fallback.stdout, fallback.stderr) == (0, local.stdout, local.stderr)
        wait_for(lambda: _answers(tmpdir), "the server the client started")
        started = _server_pid(tmpdir)
        assert started is not None and started != first.proc.pid
        served = generate(app, env, "--server")
        assert (served.returncode, served.stdout, served.stderr) == (0, local.stdout, local.stderr)
    finally:
        first.stop()


def test_a_spare_child_whose_server_died_before_its_deathsig_was_set_exits_at_once(tmp_path: Path) -> None:
    """The race behind a child left waiting in accept forever: the server is killed after the fork
    and before the child asks to die with it. The child then compares its parent with the pid the
    server had before the fork (not with getppid() read after the fork, which would already be the
    reaper) and exits. Reproduced here by handing the child a server pid that is not its parent."""
    from cmp.argocd import server as served

    prctl = served._prctl()
    if prctl is None:
        pytest.skip("prctl is Linux only")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(tmp_path / "s"))
        listener.listen(1)
        taken_r, taken_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                served._spare(listener, taken_w, prctl, os.getppid() + 1_000_000)
            finally:
                os._exit(7)
        os.close(taken_w)
        status: list[int] = []

        def exited() -> bool:
            done, code = os.waitpid(pid, os.WNOHANG)
            status.extend([code] if done == pid else [])
            return bool(status)

        try:
            wait_for(exited, "the orphaned spare child to exit", 10)
        finally:
            if not status:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(taken_r)
        assert os.waitstatus_to_exitcode(status[0]) == 0  # its own exit, before accept (7: it raised)


def test_serve_is_idempotent(server: Server) -> None:
    again = subprocess.run([SCRIPT, "serve"], env=server.env, capture_output=True, timeout=30, check=False)
    assert (again.returncode, again.stdout, again.stderr) == (0, b"", b"")
    assert server.proc.poll() is None and _server_pid(server.tmpdir) == server.proc.pid


def test_the_socket_is_private(server: Server) -> None:
    directory = server.tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}"
    assert stat.S_IMODE(directory.lstat().st_mode) == 0o700
    assert stat.S_IMODE((directory / wire.SOCKET_NAME).lstat().st_mode) & 0o077 == 0


def test_a_directory_open_to_others_is_refused_by_server_and_client(tmp_path: Path) -> None:
    tmpdir = tmp_path / "t"
    directory = tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}"
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    env = dict(os.environ, TMPDIR=str(tmpdir), KSERVE_CMP_NO_SERVER_START="1")
    refused = subprocess.run([SCRIPT, "serve"], env=env, capture_output=True, timeout=30, check=False)
    assert refused.returncode == 2 and b"open to other users" in refused.stderr
    assert list(directory.iterdir()) == []
    app = _app(tmp_path)
    assert generate(app, env, "--server").stdout == generate(app, env).stdout != b""


def test_malformed_and_oversized_requests_end_only_their_own_child(server: Server, tmp_path: Path) -> None:
    path = str(server.tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}" / wire.SOCKET_NAME)
    for payload in (b"\0\0\0\x05hello", (wire.MAX_REQUEST + 1).to_bytes(4, "big") + b"x" * 100, b"junk"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(path)
            raw.settimeout(20)
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
            assert raw.recv(16) == b""  # no commit: the child gave up
    app = _app(tmp_path)
    assert generate(app, server.env, "--server").returncode == 0
    assert server.proc.poll() is None


def test_an_oversized_environment_is_rendered_in_process(server: Server, tmp_path: Path) -> None:
    app = _app(tmp_path)
    chunk = 100_000  # one variable may hold at most 128 KiB (the kernel's MAX_ARG_STRLEN)
    env = dict(server.env, **{f"PADDING_{i}": "x" * chunk for i in range(wire.MAX_REQUEST // chunk + 1)})
    local = generate(app, env)
    served = generate(app, env, "--server")
    assert (served.returncode, served.stdout, served.stderr) == (0, local.stdout, local.stderr)


_IMPORTS_AFTER_PRELOAD = """
import os, sys
from cmp import lazydataclass
from cmp.argocd import run, server
server.preload()
before = set(sys.modules)
deferred = [c for c in lazydataclass._DEFERRED if hasattr(c.__dict__.get("__init__"), "deferred_options")]
for app in sys.argv[1:]:
    run.outcome(dict(os.environ), app)
print(" ".join(sorted(set(sys.modules) - before) + [c.__name__ for c in deferred]))
"""


def test_a_served_render_imports_nothing_the_server_did_not_preload() -> None:
    """Each child is a fork of the preloaded server: a module a render imports (RE2 for a patch
    target, hashlib for a hashed name, difflib for a suggestion, cmp.llmisvc for an LLM service)
    would be imported again in every child. Golden apps that reach those paths, rendered after
    ``preload``, import nothing new, and no dataclass is left for a child to generate
    (``cmp.lazydataclass``)."""
    apps = [REPO / "tests" / kind / name / "input" for kind, name in (
        ("cases", "kustomize-generated-names-overlay"), ("cases", "storage-modelscope-own-image"),
        ("errors", "unknown-field"))] + [REPO / "overlays" / "llm-d-qwen" / "dev"]
    assert all(app.is_dir() for app in apps), apps
    result = subprocess.run([sys.executable, "-c", _IMPORTS_AFTER_PRELOAD, *map(str, apps)], capture_output=True,
                            text=True, check=True, env={k: v for k, v in os.environ.items()
                                                        if not k.startswith(("KSERVE_CMP_", "ARGOCD_"))})
    assert result.stdout.split() == []

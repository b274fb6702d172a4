"""A stand-in for Argo CD's argocd-cmp-server, precise where a plugin can tell the difference.

What it reproduces (Argo CD 3.1 and later unless a parameter says otherwise):

* the plugin config: only the first YAML document of ``plugin.yaml``, ``kind`` must be
  ``ConfigManagementPlugin``, a name and a ``generate`` command are required; an Application
  reaches the plugin by ``<name>-<version>`` (or ``<name>`` without a version);
* the files: the repository root is packed the way the repo-server tars it (regular files,
  directories and symlinks, lexical walk, exclusion patterns matched with Go's ``filepath.Match``
  against the relative path, a matching directory skipped whole, "no files to send" when no
  regular file is left) and unpacked into a fresh ``_cmp_server/<uuid>`` work dir with modes
  0644/0755 and symlinks that must stay inside it; the command runs in ``<workdir>/<app path>``,
  which must stay inside the work dir; the work dir is removed afterwards;
* the process: argv exec'd without a shell, the program looked up on the sidecar's PATH, stdin
  closed, its own process group, the environment = the sidecar's env followed by the request's
  entries (``ARGOCD_APP_*``, ``KUBE_VERSION``, ``KUBE_API_VERSIONS``, ``ARGOCD_ENV_*`` with
  ``$VAR`` substitution, ``ARGOCD_APP_PARAMETERS`` and ``PARAM_*``);
* the deadline: the request deadline less 100 ms; then the leader is killed (exec.CommandContext),
  the group gets SIGTERM, and SIGKILL after the grace period;
* the result: a failure reads ```argv` failed exit status N: <stderr>`` (stdout dropped); on
  success one trailing newline is cut and stdout is split as a YAML or JSON stream, empty and
  null documents skipped, list objects flattened, every object needing apiVersion and kind.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

CONTROLLER_NAMESPACE = "argocd"
CMP_TIMEOUT_BUFFER = 0.1
KILL_GRACE = 5.0


class CmpFailure(Exception):
    """Manifest generation failed; the message is the error text Argo CD reports.

    ``stdout``/``stderr`` keep what a failed command printed (Argo CD drops its stdout), so tests
    can prove that a failing plugin printed no manifests at all.
    """

    def __init__(self, message: str, stdout: str = "", stderr: str = ""):
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


# --- plugin.yaml --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginConfig:
    name: str
    version: str
    generate: tuple[str, ...]
    init: tuple[str, ...] = ()

    @property
    def reachable_as(self) -> str:
        """The ``spec.source.plugin.name`` that reaches this plugin (its socket's name)."""
        return f"{self.name}-{self.version}" if self.version else self.name

    @classmethod
    def load(cls, path: Path) -> "PluginConfig":
        """Read ``plugin.yaml`` as argocd-cmp-server does (first document; unknown keys ignored)."""
        doc = next(iter(yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader)), None) or {}
        spec = doc.get("spec") or {}
        if doc.get("kind") != "ConfigManagementPlugin":
            raise CmpFailure(f"invalid plugin configuration file. kind should be ConfigManagementPlugin, "
                             f"found {doc.get('kind')}")
        if not (doc.get("metadata") or {}).get("name"):
            raise CmpFailure("invalid plugin configuration file. metadata.name should be non-empty.")
        generate = _argv(spec.get("generate"))
        if not generate:
            raise CmpFailure("invalid plugin configuration file. spec.generate command should be non-empty")
        version = spec.get("version", "")
        if not isinstance(version, str):
            raise CmpFailure("cannot unmarshal number into Go struct field PluginConfigSpec.spec.version of type string")
        return cls(doc["metadata"]["name"], version, generate, _argv(spec.get("init")))


def _argv(command: dict | None) -> tuple[str, ...]:
    command = command or {}
    return tuple(command.get("command") or ()) + tuple(command.get("args") or ())


# --- the Application and the request environment ------------------------------------------------


@dataclass(frozen=True)
class Application:
    """The parts of an Argo CD Application that reach a plugin."""

    name: str
    path: str
    plugin: str
    namespace: str = CONTROLLER_NAMESPACE
    project: str = "default"
    repo_url: str = "https://git.example.com/ml/model-deployments.git"
    target_revision: str = "HEAD"
    dest_namespace: str = ""
    env: tuple[tuple[str, str], ...] = ()
    parameters: tuple[dict, ...] = ()

    @classmethod
    def from_manifest(cls, obj: dict) -> "Application":
        meta, spec = obj["metadata"], obj["spec"]
        source = spec["source"]
        plugin = source.get("plugin") or {}
        return cls(name=meta["name"], namespace=meta.get("namespace", CONTROLLER_NAMESPACE),
                   project=spec.get("project", "default"), repo_url=source["repoURL"],
                   target_revision=source.get("targetRevision", "HEAD"), path=source.get("path", "."),
                   plugin=plugin.get("name", ""), dest_namespace=(spec.get("destination") or {}).get("namespace", ""),
                   env=tuple((e["name"], e.get("value", "")) for e in plugin.get("env") or ()),
                   parameters=tuple(plugin.get("parameters") or ()))

    @property
    def instance_name(self) -> str:
        """``ARGOCD_APP_NAME``: the name, prefixed by its namespace outside the controller's namespace."""
        if self.namespace and self.namespace != CONTROLLER_NAMESPACE:
            return f"{self.namespace}_{self.name}"
        return self.name


@dataclass(frozen=True)
class Cluster:
    """What Argo CD knows of the destination cluster."""

    version: str = "1.31.4"
    api_versions: tuple[str, ...] = (
        "apps/v1", "apps/v1/Deployment", "autoscaling/v2", "autoscaling/v2/HorizontalPodAutoscaler",
        "serving.kserve.io/v1alpha1", "serving.kserve.io/v1alpha1/ClusterServingRuntime",
        "serving.kserve.io/v1alpha1/ServingRuntime", "serving.kserve.io/v1beta1",
        "serving.kserve.io/v1beta1/InferenceService", "v1", "v1/ConfigMap", "v1/Pod", "v1/Secret",
    )


def envsubst(value: str, variables: dict[str, str]) -> str:
    """Go's ``os.Expand`` with Argo CD's mapping: ``$VAR``/``${VAR}``, unknown -> "", ``$$`` -> ``$``."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] != "$" or i + 1 == len(value):
            out.append(value[i])
            i += 1
            continue
        name, width = _shell_name(value[i + 1:])
        if name == "" and width == 0:
            out.append("$")
        elif name == "$":
            out.append("$")
        elif name:
            out.append(variables.get(name, ""))
        i += 1 + width
    return "".join(out)


_SPECIAL = set("*#$@!?-0123456789")


def _shell_name(rest: str) -> tuple[str, int]:
    if rest[0] == "{":
        if len(rest) > 2 and rest[1] in _SPECIAL and rest[2] == "}":
            return rest[1], 3
        end = rest.find("}", 1)
        if end == -1:
            return "", 1
        return ("", 2) if end == 1 else (rest[1:end], end + 1)
    if rest[0] in _SPECIAL:
        return rest[0], 1
    match = re.match(r"[A-Za-z0-9_]*", rest)
    return match.group(0), len(match.group(0))


def parameters_json(parameters: Iterable[dict]) -> str:
    """``ARGOCD_APP_PARAMETERS``: Go's ``json.Marshal`` of the list ("null" when there is none)."""
    entries = []
    for p in parameters:
        entry: dict[str, Any] = {"name": p.get("name", "")}
        for key in ("string", "map", "array"):
            if key in p:
                entry[key] = p[key] if p[key] is not None else ({} if key == "map" else [])
        entries.append(entry)
    if not entries:
        return "null"
    text = json.dumps(entries, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _escape(name: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def parameter_env(parameters: Iterable[dict]) -> list[tuple[str, str]]:
    """``PARAM_*`` entries: string, then map entries, then array items, per parameter."""
    out = []
    for p in parameters:
        stem = "PARAM_" + _escape(p.get("name", ""))
        if "string" in p:
            out.append((stem, p["string"]))
        for key in sorted(p.get("map") or {}):
            out.append((f"{stem}_{_escape(key)}", p["map"][key]))
        for index, item in enumerate(p.get("array") or ()):
            out.append((f"{stem}_{index}", item))
    return out


def request_env(app: Application, revision: str, cluster: Cluster, *, keep_empty: bool = True) -> list[tuple[str, str]]:
    """The entries the repo-server sends with a generate request, in order.

    ``keep_empty=False`` imitates Argo CD up to 2.14, which dropped entries with empty values.
    """
    build = [
        ("ARGOCD_APP_NAME", app.instance_name),
        ("ARGOCD_APP_NAMESPACE", app.dest_namespace),
        ("ARGOCD_APP_PROJECT_NAME", app.project),
        ("ARGOCD_APP_REVISION", revision),
        ("ARGOCD_APP_REVISION_SHORT", revision[:7]),
        ("ARGOCD_APP_REVISION_SHORT_8", revision[:8]),
        ("ARGOCD_APP_SOURCE_REPO_URL", app.repo_url),
        ("ARGOCD_APP_SOURCE_PATH", app.path),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", app.target_revision),
        ("KUBE_VERSION", cluster.version),
        ("KUBE_API_VERSIONS", ",".join(sorted(cluster.api_versions))),
    ]
    variables = dict(build)
    entries = build + [("ARGOCD_ENV_" + name, envsubst(value, variables)) for name, value in app.env]
    entries.append(("ARGOCD_APP_PARAMETERS", parameters_json(app.parameters)))
    entries += parameter_env(app.parameters)
    return [(k, v) for k, v in entries if k and (keep_empty or v)]


# --- the repository copy --------------------------------------------------------------------------


def go_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match``: ``*`` and ``?`` never cross ``/``; ``[...]`` classes; ``\\`` escapes."""
    regex, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                return False
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("^") else body
            regex.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            regex.append(re.escape(pattern[i]))
        else:
            regex.append(re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), name) is not None


def pack(root: Path, exclusions: Iterable[str] = ()) -> bytes:
    """The gzipped tarball of ``root`` the repo-server streams to the sidecar."""
    patterns = list(exclusions)
    buffer = io.BytesIO()
    files = 0
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(directory, root)
            for name in list(dirnames):
                rel = os.path.normpath(os.path.join(rel_dir, name))
                full = os.path.join(directory, name)
                excluded = any(go_match(p, rel) for p in patterns)
                if not excluded:
                    tar.add(full, arcname=rel, recursive=False)
                if excluded or os.path.islink(full):
                    dirnames.remove(name)  # the walk enters neither excluded dirs nor links
            for name in sorted(filenames):
                rel = os.path.normpath(os.path.join(rel_dir, name))
                full = os.path.join(directory, name)
                if any(go_match(p, rel) for p in patterns):
                    continue
                if os.path.islink(full) or os.path.isfile(full):
                    tar.add(full, arcname=rel, recursive=False)
                    files += 0 if os.path.islink(full) else 1
    if files == 0:
        raise CmpFailure("no files to send")
    return buffer.getvalue()


def unpack(data: bytes, dest: Path, *, preserve_mode: bool = False) -> None:
    """Extract as the sidecar does: 0644 files, 0755 dirs, symlinks resolving inside ``dest``."""
    root = os.path.realpath(dest)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            target = os.path.realpath(os.path.join(root, member.name))
            if os.path.commonpath([root, target]) != root:
                raise CmpFailure(f"illegal filepath in archive: {member.name}")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                os.chmod(target, member.mode if preserve_mode else 0o755)
            elif member.issym():
                link = os.path.normpath(os.path.join(os.path.dirname(target), member.linkname))
                if os.path.commonpath([root, os.path.realpath(link)]) != root:
                    raise CmpFailure(f"illegal filepath in symlink: {member.linkname}")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(member.linkname, target)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(tar.extractfile(member).read())
                os.chmod(target, member.mode if preserve_mode else 0o644)


# --- running a command ------------------------------------------------------------------------------


def args_to_log(argv: Iterable[str]) -> str:
    """Argo CD's rendering of an argv in messages: quoted when it has whitespace, ``""`` when empty."""
    out = []
    for arg in argv:
        if arg == "":
            out.append('""')
        elif any(c.isspace() for c in arg):
            out.append(json.dumps(arg, ensure_ascii=False))
        else:
            out.append(arg)
    return " ".join(out)


def _look_path(program: str, path_env: str) -> str:
    if "/" in program:
        if not os.path.exists(program):
            raise CmpFailure(f"fork/exec {program}: no such file or directory")
        return program
    found = shutil.which(program, path=path_env)
    if found is None:
        raise CmpFailure(f'exec: "{program}": executable file not found in $PATH')
    return found


def _cause(returncode: int) -> str:
    if returncode < 0:
        return "signal: " + signal.strsignal(-returncode).lower()
    return f"exit status {returncode}"


@dataclass
class Completed:
    stdout: bytes
    stderr: bytes
    duration: float


def run_command(argv: tuple[str, ...], cwd: Path, env: dict[str, str], timeout: float | None,
                grace: float = KILL_GRACE) -> Completed:
    """One plugin command as ``runCommand`` runs it; CmpFailure with Argo CD's text on failure."""
    program = _look_path(argv[0], env.get("PATH", ""))
    if not cwd.is_dir():
        raise CmpFailure(f"chdir {cwd}: no such file or directory")
    start = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), executable=program, cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        raise CmpFailure(f"fork/exec {program}: {exc.strerror.lower()}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = _kill_at_deadline(proc, grace)
    duration = time.monotonic() - start
    if proc.returncode != 0:
        message = f"`{args_to_log(argv)}` failed {_cause(proc.returncode)}"
        stderr = err.decode("utf-8", "replace")
        raise CmpFailure(f"{message}: {stderr.strip()}" if stderr.strip() else message,
                         out.decode("utf-8", "replace"), stderr)
    return Completed(out, err, duration)


def _kill_at_deadline(proc: subprocess.Popen, grace: float) -> tuple[bytes, bytes]:
    """Context done: SIGKILL the leader and SIGTERM its group; SIGKILL the group after ``grace``."""
    proc.kill()
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    _signal_group(proc.pid, signal.SIGKILL)
    return out, err


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- reading the output ------------------------------------------------------------------------------


def _is_separator(line: str) -> bool:
    return line.startswith("---") and not line[3:].strip()


def split_manifests(text: str) -> list[dict]:
    """Objects of a YAML or JSON stream, as the sidecar splits and the repo-server converts them."""
    stripped = text.lstrip()
    docs: list[Any] = []
    if stripped.startswith("{"):
        decoder, pos = json.JSONDecoder(), 0
        while pos < len(stripped):
            try:
                obj, pos = decoder.raw_decode(stripped, pos)
            except json.JSONDecodeError as exc:
                raise CmpFailure(f"failed to unmarshal manifest: {exc}") from None
            docs.append(obj)
            while pos < len(stripped) and stripped[pos].isspace():
                pos += 1
    else:
        chunk: list[str] = []
        for line in text.splitlines(keepends=True) + ["---\n"]:
            if _is_separator(line):
                try:
                    docs.append(yaml.load("".join(chunk), Loader=yaml.CSafeLoader))
                except yaml.YAMLError as exc:
                    raise CmpFailure(f"failed to unmarshal manifest: {exc}") from None
                chunk = []
            else:
                chunk.append(line)
    return flatten([d for d in docs if d is not None])


def flatten(docs: list[Any]) -> list[dict]:
    """Every document an object with apiVersion and kind; list objects replaced by their items."""
    objects: list[dict] = []
    for doc in docs:
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise CmpFailure("failed to convert CMP manifests to unstructured objects: "
                             f"Object 'Kind' or 'apiVersion' is missing in {json.dumps(doc)[:200]!r}")
        if "items" in doc and (doc["items"] is None or isinstance(doc["items"], list)):
            objects.extend(flatten(doc["items"] or []))
        else:
            objects.append(doc)
    return objects


# --- the server ----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One generate request: the objects Argo CD would sync, or the error it would show."""

    objects: list[dict] = field(default_factory=list)
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error

    def ui_message(self, app: Application) -> str:
        """The application condition text (ComparisonError) for a failed generation."""
        return ("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = "
                f'Unknown desc = CMP processing failed for application "{app.name}": error generating manifests '
                f"in cmp: rpc error: code = Unknown desc = error generating manifests: {self.error}")


@dataclass
class CmpServer:
    """One sidecar: a plugin config, the container's env, a temp root and the request deadline."""

    plugin: PluginConfig
    sidecar_env: dict[str, str]
    temp_root: Path
    timeout: float | None = 60.0
    grace: float = KILL_GRACE
    exclusions: tuple[str, ...] = ()
    keep_empty: bool = True

    def generate(self, repo: Path, app: Application, revision: str = "0" * 40,
                 cluster: Cluster | None = None) -> Outcome:
        """Run the plugin for ``app`` on a copy of ``repo``; never raises for plugin failures."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout - CMP_TIMEOUT_BUFFER
        work = self.temp_root / "_cmp_server" / str(uuid.uuid4())
        try:
            if app.plugin != self.plugin.reachable_as:
                raise CmpFailure(f'could not find cmp-server plugin with name "{app.plugin}" supporting the '
                                 "given repository")
            work.mkdir(parents=True, mode=0o700)
            unpack(pack(repo, self.exclusions), work)
            app_dir = Path(os.path.normpath(work / app.path))
            if os.path.commonpath([work, app_dir]) != str(work):
                raise CmpFailure("illegal appPath: out of workDir bound")
            env = dict(self.sidecar_env)
            env.update(request_env(app, revision, cluster or Cluster(), keep_empty=self.keep_empty))
            if self.plugin.init:
                run_command(self.plugin.init, app_dir, env, _remaining(deadline), self.grace)
            done = run_command(self.plugin.generate, app_dir, env, _remaining(deadline), self.grace)
            stdout = done.stdout.decode("utf-8")
            text = stdout[:-1] if stdout.endswith("\n") else stdout
            return Outcome(split_manifests(text), "", stdout, done.stderr.decode("utf-8", "replace"), done.duration)
        except CmpFailure as exc:
            return Outcome(error=str(exc), stdout=exc.stdout, stderr=exc.stderr)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.001)

"""A stand-in for Argo CD's argocd-cmp-server and the repo-server around it, precise where a plugin can tell.

Each rule names the Argo CD source it follows (argoproj/argo-cd v3.5.1, apimachinery v0.36.1 as
Argo CD pins it). What it reproduces:

* the plugin config: only the first YAML document of ``plugin.yaml``, ``kind`` must be
  ``ConfigManagementPlugin``, a name and a ``generate`` command are required; an Application
  reaches the plugin by ``<name>-<version>`` (or ``<name>`` without a version)
  (``cmpserver/plugin/config.go``);
* the files (``util/io/files/tar.go``, ``util/tgzstream/stream.go``, ``util/cmp/stream.go``): the
  repo-server tars the repository root, or with ``reposerver.plugin.use.manifest.generate.paths``
  the common root of the Application's ``manifest-generate-paths`` (``reposerver/repository/utils.go:
  getApplicationRootPath``); regular files, directories and symlinks, lexical walk, exclusions
  matched with Go's ``filepath.Match`` against the relative path, "no files to send" when no
  regular file is left; the sidecar unpacks it into ``_cmp_server/<uuid>`` (``_cmp_server`` 0700,
  the request dir 0755: ``cmpserver/plugin/plugin.go: Init``, ``util/io/files/util.go:
  CreateTempDir``) with files 0644, dirs 0755, and every symlink rewritten to the relative path of
  its resolved target, which must stay inside; the command runs in ``<workdir>/<app path>``, which
  must stay inside the work dir; the work dir is removed afterwards;
* the process (``cmpserver/plugin/plugin.go: runCommand``): argv exec'd without a shell, the
  program looked up on the sidecar's PATH, stdin closed, its own process group, the environment =
  the sidecar's env followed by the request's entries (``ARGOCD_APP_*``, ``KUBE_VERSION``,
  ``KUBE_API_VERSIONS``, ``ARGOCD_ENV_*`` with ``$VAR`` substitution, ``ARGOCD_APP_PARAMETERS`` and
  ``PARAM_*``: ``reposerver/repository/repository.go: newEnv, getPluginEnvs``);
* the end of a request: at the deadline (request deadline less 100 ms) the leader is killed
  (``exec.CommandContext``); whenever the request ends, on success too, the group of every
  command it ran gets SIGTERM and, 5 s later, SIGKILL;
* the result: a failure reads ```argv` failed exit status N: <stderr>`` (stdout dropped); on
  success one trailing newline is cut and stdout is cut into documents as apimachinery's
  ``YAMLOrJSONDecoder`` does (``k8s.io/apimachinery/pkg/util/yaml/decoder.go``; separator lines,
  JSON streams, the fall back from JSON to YAML), each YAML document decoded by Kubernetes' own
  decoder (kubectl, see :func:`kube_documents`), empty and null documents skipped
  (``gitops-engine/pkg/utils/kube/kube.go: SplitYAMLToString``); a response over 100 MiB is
  refused by gRPC (``cmpserver/server.go``, ``cmpserver/apiclient/clientset.go``); the repo-server
  then needs every document to be an object with a ``kind`` (not an ``apiVersion``:
  ``unstructured.UnstructuredJSONScheme.Decode``) and replaces a list object by its items, one
  level deep, dropping an ``items: null`` list (``reposerver/repository/repository.go:
  GenerateManifests, isNullList``).
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
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable

import yaml

from kube_decode import json_objects, kubectl

CONTROLLER_NAMESPACE = "argocd"
CMP_TIMEOUT_BUFFER = 0.1
KILL_GRACE = 5.0
#: ``ARGOCD_GRPC_MAX_SIZE_MB`` default: the largest gRPC message either side sends or receives.
MAX_MESSAGE_SIZE = 100 * 1024 * 1024
GENERATE_PATHS_ANNOTATION = "argocd.argoproj.io/manifest-generate-paths"


class CmpFailure(Exception):
    """Manifest generation failed; the message is the error text Argo CD reports.

    ``stdout``/``stderr`` keep what a failed command printed (Argo CD drops its stdout), so tests
    can prove that a failing plugin printed no manifests at all. ``stage`` says who refused:
    ``sidecar`` (the command or its output), ``grpc`` (the response size), ``repo-server`` (the
    conversion to objects) or ``send`` (packing the files).
    """

    def __init__(self, message: str, stdout: str = "", stderr: str = "", stage: str = "sidecar"):
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr
        self.stage = stage


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
    #: ``argocd.argoproj.io/manifest-generate-paths``: ``;``-separated, relative to ``path`` or,
    #: with a leading ``/``, to the repository root.
    generate_paths: str = ""

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
                   parameters=tuple(plugin.get("parameters") or ()),
                   generate_paths=(meta.get("annotations") or {}).get(GENERATE_PATHS_ANNOTATION, ""))

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


def _secure_join(root: str, unsafe: str) -> str:
    """``securejoin.SecureJoin`` for paths without symlinks: ``..`` never climbs above ``root``."""
    parts: list[str] = []
    for part in unsafe.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return os.path.join(root, *parts)


def application_root(repo: Path, app_path: str, generate_paths: str) -> str:
    """The directory the repo-server sends with ``reposerver.plugin.use.manifest.generate.paths``.

    ``reposerver/repository/utils.go: getApplicationRootPath, getPaths`` (v3.5.1): every annotation
    path (relative to the app path, or to the repository root with a leading ``/``) joined inside
    the repository, then the common leading components of the app dir and all of them, path by
    path (once two paths have diverged, a later shorter one no longer shortens the root, as in
    Argo CD's loop). Without any path the whole repository is sent.
    """
    repo_path = os.path.normpath(str(repo))
    app_abs = os.path.normpath(os.path.join(repo_path, app_path))
    paths = []
    for entry in generate_paths.split(";"):
        if not entry:
            continue
        if entry.startswith("/"):
            unsafe = os.path.normpath(entry)
        else:
            unsafe = os.path.normpath(os.path.join(os.path.relpath(app_abs, repo_path), entry))
        paths.append(_secure_join(repo_path, unsafe))
    if not paths:
        return repo_path
    common = app_abs.split("/")
    disjoint = False
    for path in paths:
        parts = path.split("/")
        shortest = min(len(common), len(parts))
        for i in range(shortest):
            if common[i] != parts[i]:
                common = common[:i]
                disjoint = True
                break
        if not disjoint and shortest < len(common):
            common = common[:shortest]
    return "/" + "/".join(p for p in common if p)


def pack(root: Path, exclusions: Iterable[str] = ()) -> bytes:
    """The gzipped tarball of ``root`` the repo-server streams (``util/io/files/tar.go: tgzFile``).

    ``filepath.Walk`` order: each directory's entries sorted by name, a directory's content right
    after it (which decides which symlink targets already exist when the sidecar unpacks a link);
    symlinks are stored, never followed; an excluded directory is skipped whole.
    """
    patterns = list(exclusions)
    buffer = io.BytesIO()
    files = 0

    def visit(tar: tarfile.TarFile, rel: str) -> None:
        nonlocal files
        full = os.path.join(root, rel)
        for name in sorted(os.listdir(full)):
            child = os.path.normpath(os.path.join(rel, name))
            path = os.path.join(root, child)
            if any(go_match(p, child) for p in patterns):
                continue
            if os.path.islink(path):
                tar.add(path, arcname=child, recursive=False)
            elif os.path.isdir(path):
                tar.add(path, arcname=child, recursive=False)
                visit(tar, child)
            elif os.path.isfile(path):
                tar.add(path, arcname=child, recursive=False)
                files += 1

    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        visit(tar, ".")
    if files == 0:
        # util/cmp/stream.go: GetCompressedRepoAndMetadata
        raise CmpFailure(f"no files to send({root})", stage="send")
    return buffer.getvalue()


def _inbound(candidate: str, base: str) -> bool:
    """``util/io/files/util.go: Inbound``: syntactically below ``base`` (``base`` itself is not)."""
    return os.path.normpath(candidate).startswith(os.path.normpath(base) + os.sep)


def unpack(data: bytes, dest: Path, *, preserve_mode: bool = False) -> None:
    """Extract as the sidecar does (``util/io/files/tar.go: untar``, v3.5.1).

    Files 0644 and dirs 0755 (umask applies, as for Go's ``MkdirAll``/``OpenFile``) unless
    ``preserveFileMode``; a symlink's target is resolved (``filepath.EvalSymlinks``; a target not
    there yet is taken as written), must stay inside ``dest``, and the link is re-created as the
    relative path from its directory to that resolved target.
    """
    root = os.path.normpath(str(dest))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name in (".", "./"):
                continue
            target = os.path.normpath(os.path.join(root, member.name))
            if not _inbound(target, root):
                raise CmpFailure(f"illegal filepath in archive: {target}", stage="stream")
            if member.isdir():
                os.makedirs(target, mode=member.mode if preserve_mode else 0o755, exist_ok=True)
            elif member.issym():
                link = os.path.normpath(os.path.join(os.path.dirname(target), member.linkname))
                try:
                    real = os.path.realpath(link, strict=True)
                except FileNotFoundError:
                    real = link
                except OSError as exc:
                    raise CmpFailure(f"error checking symlink realpath: {exc}", stage="stream") from None
                if not _inbound(real, root):
                    raise CmpFailure(f"illegal filepath in symlink: {link}", stage="stream")
                os.symlink(os.path.relpath(real, os.path.dirname(target)), target)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC, member.mode if preserve_mode else 0o644)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(tar.extractfile(member).read())


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
                grace: float = KILL_GRACE, groups: list[int] | None = None) -> Completed:
    """One plugin command as ``runCommand`` runs it; CmpFailure with Argo CD's text on failure.

    The command's process group id is appended to ``groups``: the caller signals every group when
    the request ends (:func:`end_request`).
    """
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
    if groups is not None:
        groups.append(proc.pid)
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
    """Context done: SIGKILL the leader and SIGTERM its group; SIGKILL the group after ``grace``.

    Go's ``cmd.Wait`` also waits until every holder of the stdout and stderr pipes has closed
    them, so a grandchild that ignores SIGTERM holds the request until the SIGKILL.
    """
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


def end_request(groups: Iterable[int], grace: float) -> threading.Timer | None:
    """The request's context is cancelled: SIGTERM every command's group now, SIGKILL after ``grace``.

    ``cmpserver/plugin/plugin.go: runCommand`` starts a goroutine per command that waits for the
    request context; ``generateManifestGeneric`` cancels it when it returns (after the work dir is
    removed), on success as on failure. Whatever the plugin left running in its group is therefore
    terminated, and killed 5 s later. Returns the timer that sends the SIGKILL (a daemon thread).
    """
    groups = list(groups)
    if not groups:
        return None
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    timer = threading.Timer(grace, lambda: [_signal_group(pgid, signal.SIGKILL) for pgid in groups])
    timer.daemon = True
    timer.start()
    return timer


# --- reading the output ------------------------------------------------------------------------------

_GO_JSON_SPACE = " \t\r\n"
#: ``GuessJSONStream(r, 4096)``: how far the decoder looks for a leading ``{``.
_JSON_PEEK = 4096


@dataclass(frozen=True)
class Document:
    """One document of the stream: raw JSON text, or a YAML chunk still to be decoded."""

    kind: str  # "json" or "yaml"
    text: str


def _yaml_documents(text: str) -> tuple[list[Document], str | None]:
    """``YAMLReader.Read``: documents cut at lines starting with ``---``.

    A separator line may carry only spaces and a comment after the dashes (``--- # x`` is a
    separator); anything else (``---x``, ``--- a``) is an error that ends the stream there. Lines
    end with ``\\n`` (``bufio.ReadLine`` drops ``\\r\\n``); a document of nothing but separators is
    never returned. Returns the documents read and the error that stopped the reader, if any.
    """
    if not text:
        return [], None
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # the empty read at EOF adds nothing
    docs: list[Document] = []
    buffer: list[str] = []
    for index, line in enumerate(lines):
        terminated = index < len(lines) - 1 or text.endswith("\n")
        if terminated and line.endswith("\r"):
            line = line[:-1]
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                if buffer:
                    docs.append(Document("yaml", "".join(buffer)))
                return docs, f"invalid Yaml document separator: {rest}"
            if buffer:
                docs.append(Document("yaml", "".join(buffer)))
                buffer = []
            continue
        buffer.append(line + "\n")
    if buffer:
        docs.append(Document("yaml", "".join(buffer)))
    return docs, None


def split_documents(text: str) -> tuple[list[Document], str | None]:
    """``YAMLOrJSONDecoder.Decode`` in a loop (apimachinery v0.36.1 ``pkg/util/yaml/decoder.go``).

    A stream whose first non-space character (within 4096 bytes) is ``{`` is read as JSON values
    one after another; when a value fails to parse and at most one has been read, the rest is
    read as YAML from there on (after the whitespace up to the first newline), otherwise the JSON
    error ends it. Returns the documents and the error that ended the stream, if any (documents
    before an error are kept so that an earlier decoding error wins, as it would in Go).
    """
    if not text.encode("utf-8")[:_JSON_PEEK].decode("utf-8", "ignore").lstrip().startswith("{"):
        return _yaml_documents(text)
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    docs: list[Document] = []
    consumed = 0  # the end of the last value read
    while True:
        pos = consumed
        while pos < len(text) and text[pos] in _GO_JSON_SPACE:
            pos += 1
        if pos >= len(text):
            return docs, None
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            json_error = f"json: {exc}"
            if len(docs) > 1:
                return docs, json_error
            # consumeWhitespace: spaces up to and including the first newline, then YAML for good
            rest = text[consumed:]
            cut = 0
            while cut < len(rest) and rest[cut].isspace():
                cut += 1
                if rest[cut - 1] == "\n":
                    break
            if cut == len(rest):
                return docs, None
            more, error = _yaml_documents(rest[cut:])
            if error is not None and not docs and not more:
                error = json_error  # both failed on the first document: Go reports the JSON error
            return docs + more, error
        docs.append(Document("json", text[pos:end]))
        consumed = end


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


#: The object that carries one YAML document through kubectl: ``doc`` is the document, indented.
_WRAPPER = "apiVersion: kserve-cmp.test/v1\nkind: Decoded\nmetadata:\n  name: d{index}\ndoc:\n"
_MARKER = re.compile(r"^(\.\.\.|%)", re.MULTILINE)


def kube_documents(chunks: list[str]) -> list[Any]:
    """The value of each YAML document as Kubernetes' decoder reads it, in one kubectl call.

    Argo CD converts each document with ``sigs.k8s.io/yaml`` (go-yaml v2 rules: ``on``/``y`` are
    booleans, ``010`` is octal); kubectl reads files with the same library, so each document is
    indented under the ``doc`` key of a small wrapper object and the whole batch goes through
    ``kubectl label --local -o json``. A document kubectl refuses is found by decoding the batch
    one by one; its error becomes Argo CD's ``failed to unmarshal manifest``. A document marker
    (``...``) or directive (``%``) at the start of a line would change meaning once indented: the
    harness refuses it rather than guess.
    """
    if not chunks:
        return []
    for chunk in chunks:
        if _MARKER.search(chunk):
            raise AssertionError(f"the harness cannot decode a YAML document with a '...' or '%' line: {chunk[:200]!r}")
    stream = "---\n".join(_WRAPPER.format(index=i) + "".join("  " + line for line in chunk.splitlines(keepends=True))
                          for i, chunk in enumerate(chunks))
    proc = subprocess.run([kubectl(), "label", "--local", "-f", "-", "kserve-cmp.test/decoded=x", "-o", "json"],
                          input=stream, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        if len(chunks) > 1:
            for chunk in chunks:
                kube_documents([chunk])
        raise CmpFailure(f"failed to unmarshal manifest: {proc.stderr.strip()}")
    decoded = {int(item["metadata"]["name"][1:]): item.get("doc") for item in json_objects(proc.stdout)}
    assert sorted(decoded) == list(range(len(chunks))), "kubectl returned a different number of documents"
    return [decoded[i] for i in range(len(chunks))]


def go_json(value: Any) -> str:
    """Go's ``json.Marshal``: compact, map keys sorted, ``<``, ``>``, ``&``, U+2028/2029 escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _varint_size(n: int) -> int:
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def response_size(manifests: list[str]) -> int:
    """Bytes of the protobuf ``ManifestResponse`` (``repeated string manifests = 1``)."""
    return sum(1 + _varint_size(len(m.encode("utf-8"))) + len(m.encode("utf-8")) for m in manifests)


def sidecar_manifests(text: str, max_size: int = MAX_MESSAGE_SIZE) -> list[Any]:
    """What the sidecar sends: each non-empty, non-null document (``kube.SplitYAMLToString``).

    Raises CmpFailure for a document the decoder refuses (``failed to unmarshal manifest``) and
    for a response gRPC will not send (over ``max_size`` bytes).
    """
    docs, error = split_documents(text)
    values: list[Any] = []
    yaml_docs = [d.text for d in docs if d.kind == "yaml"]
    decoded = iter(kube_documents(yaml_docs))
    raws: list[str] = []
    for doc in docs:
        if doc.kind == "json":
            raw = doc.text.strip()
            if raw == "null":
                continue
            values.append(json.loads(raw))
            raws.append(raw)
        else:
            value = next(decoded)
            if value is None:
                continue
            values.append(value)
            raws.append(go_json(value))
    if error is not None:
        raise CmpFailure(f"failed to unmarshal manifest: {error}")
    size = response_size(raws)
    if size > max_size:
        raise CmpFailure(f"grpc: trying to send message larger than max ({size} vs. {max_size})", stage="grpc")
    return values


def to_objects(values: list[Any]) -> list[dict]:
    """What the repo-server makes of the sidecar's documents (``kube.SplitYAML``, ``GenerateManifests``).

    Each must be a JSON object with a non-empty string ``kind`` (``apiVersion`` is not checked:
    apimachinery's ``UnstructuredJSONScheme.Decode`` leaves it as a TODO); an object whose
    ``items`` is a list is replaced by its items, which must be objects, without looking inside
    them again; an object whose ``items`` is null and that has no ``spec`` or ``status`` is
    dropped.
    """
    objects: list[dict] = []
    for value in values:
        if not isinstance(value, dict):
            raise CmpFailure("failed to convert CMP manifests to unstructured objects: failed to unmarshal manifest: "
                             f"json: cannot unmarshal {_json_type(value)} into Go value of type "
                             "map[string]interface {}", stage="repo-server")
        if not isinstance(value.get("kind"), str) or not value["kind"]:
            raise CmpFailure("failed to convert CMP manifests to unstructured objects: failed to unmarshal manifest: "
                             f"Object 'Kind' is missing in '{go_json(value)[:200]}'", stage="repo-server")
        items = value.get("items", ...)
        if isinstance(items, list):
            for item in items:
                if not isinstance(item, dict):
                    raise CmpFailure(f"items member is not an object: {_json_type(item)}", stage="repo-server")
                objects.append(item)
        elif items is None and "spec" not in value and "status" not in value:
            continue
        else:
            objects.append(value)
    return objects


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", type(None): "null"}.get(type(value), "object")


def split_manifests(text: str, max_size: int = MAX_MESSAGE_SIZE) -> list[dict]:
    """The objects Argo CD takes from a plugin's stdout (one trailing newline already cut)."""
    return to_objects(sidecar_manifests(text, max_size))


# --- the server ----------------------------------------------------------------------------------------

_PREFIX = {
    "sidecar": "error generating manifests in cmp: rpc error: code = Unknown desc = error generating manifests: ",
    "stream": "error generating manifests in cmp: rpc error: code = Unknown desc = ",
    "grpc": "error generating manifests in cmp: rpc error: code = ResourceExhausted desc = ",
    "send": "error generating manifests in cmp: error sending file to cmp-server: ",
    "repo-server": "",
}


@dataclass
class Outcome:
    """One generate request: the objects Argo CD would sync, or the error it would show."""

    objects: list[dict] = field(default_factory=list)
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    stage: str = "sidecar"
    #: The root the repo-server sent and the app path inside it (``appRelPath``).
    root: str = ""
    app_rel_path: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def ui_message(self, app: Application) -> str:
        """The application condition text (ComparisonError) for a failed generation."""
        return ("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = "
                f'Unknown desc = CMP processing failed for application "{app.name}": {_PREFIX[self.stage]}'
                f"{self.error}")


@dataclass
class CmpServer:
    """One sidecar and its repo-server: a plugin config, the container's env, a temp root, the deadline.

    ``use_generate_paths`` is the repo-server's ``reposerver.plugin.use.manifest.generate.paths``:
    the sidecar then receives only the common root of the Application's manifest-generate-paths.
    """

    plugin: PluginConfig
    sidecar_env: dict[str, str]
    temp_root: Path
    timeout: float | None = 60.0
    grace: float = KILL_GRACE
    exclusions: tuple[str, ...] = ()
    keep_empty: bool = True
    use_generate_paths: bool = False
    max_response: int = MAX_MESSAGE_SIZE

    #: Every server made, so that a test can stop what each left running (:meth:`stop`).
    instances: ClassVar[list[CmpServer]] = []

    def __post_init__(self) -> None:
        # Service.Init: the sidecar's work dir is wiped and created 0700 when the server starts.
        self.temp_root = Path(os.path.realpath(self.temp_root))
        # The sidecar's own /tmp (a private emptyDir): common.GetCMPWorkDir puts _cmp_server under
        # os.TempDir(), and whatever the plugin keeps in its temp dir stays in this container.
        self.sidecar_env = {"TMPDIR": str(self.temp_root)} | dict(self.sidecar_env)
        CmpServer.instances.append(self)
        self.work_root = self.temp_root / "_cmp_server"
        shutil.rmtree(self.work_root, ignore_errors=True)
        self.work_root.mkdir(parents=True, mode=0o700)
        self.last_kill: threading.Timer | None = None

    def generate(self, repo: Path, app: Application, revision: str = "0" * 40,
                 cluster: Cluster | None = None) -> Outcome:
        """Run the plugin for ``app`` on a copy of ``repo``; never raises for plugin failures."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout - CMP_TIMEOUT_BUFFER
        work = self.work_root / str(uuid.uuid4())
        groups: list[int] = []
        root = str(repo)
        rel = app.path
        try:
            if app.plugin != self.plugin.reachable_as:
                raise CmpFailure(f'could not find cmp-server plugin with name "{app.plugin}" supporting the '
                                 "given repository", stage="repo-server")
            if self.use_generate_paths:
                root = application_root(repo, app.path, app.generate_paths)
                rel = os.path.relpath(os.path.normpath(os.path.join(str(repo), app.path)), root)
            data = pack(Path(root), self.exclusions)
            work.mkdir(mode=0o755)  # util/io/files/util.go: CreateTempDir
            unpack(data, work)
            app_dir = Path(os.path.normpath(work / rel))
            if not str(app_dir).startswith(str(work)):
                raise CmpFailure("illegal appPath: out of workDir bound", stage="stream")
            env = dict(self.sidecar_env)
            env.update(request_env(app, revision, cluster or Cluster(), keep_empty=self.keep_empty))
            if self.plugin.init:
                run_command(self.plugin.init, app_dir, env, _remaining(deadline), self.grace, groups)
            done = run_command(self.plugin.generate, app_dir, env, _remaining(deadline), self.grace, groups)
            try:
                stdout = done.stdout.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CmpFailure(f"failed to unmarshal manifest: invalid UTF-8 ({exc.reason})") from None
            text = stdout[:-1] if stdout.endswith("\n") else stdout
            objects = split_manifests(text, self.max_response)
            return Outcome(objects, "", stdout, done.stderr.decode("utf-8", "replace"), done.duration,
                           root=root, app_rel_path=rel)
        except CmpFailure as exc:
            return Outcome(error=str(exc), stdout=exc.stdout, stderr=exc.stderr, stage=exc.stage, root=root,
                           app_rel_path=rel)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            self.last_kill = end_request(groups, self.grace)


def stop_sidecar(temp_root: Path, grace: float = 2.0) -> list[int]:
    """The sidecar container stops: SIGTERM, then SIGKILL, every process still running with this
    sidecar's ``TMPDIR`` (a server a plugin started detached from its request); returns their pids."""
    marker = f"TMPDIR={os.path.realpath(temp_root)}".encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if marker in handle.read() + b"\0":
                        found.append(int(entry))
            except OSError:
                continue
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + grace
        while time.monotonic() < end and any(os.path.exists(f"/proc/{pid}") and _running(pid) for pid in found):
            time.sleep(0.02)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.001)

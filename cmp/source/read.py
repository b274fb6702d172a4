"""Reading an app directory: ``kustomize build`` when it has a kustomization, else its YAML files.

Every document comes back as a :class:`Doc` naming its file (as the user named the directory,
so messages read ``overlays/dev/model.yaml:12``). Files are read in sorted order; symlinks that
leave the directory, oversized files and non-UTF-8 text are errors, never skipped silently.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from ..problems import NOTE, CmpError, Problem, UsageError
from ..settings import Settings
from . import generated, workdir
from .kustomization import kustomization_file
from .yamlio import Doc, load_stream

SUFFIXES = (".yaml", ".yml", ".json")


def read_app(path: str, settings: Settings) -> list[Doc]:
    """All documents of the app at ``path`` (a directory, or a single manifest file)."""
    if os.path.isfile(path):
        root = os.path.dirname(path) or "."
        return _objects(read_file(path, path, root, settings.max_file_size))
    if not os.path.isdir(path):
        raise UsageError(f"{path}: no such directory")
    if kustomization_file(path):
        from . import kustomize  # a plain directory never runs it

        files = _check_confined(path, settings)
        docs = kustomize.build(path, display_root=_display_root(path), binary=settings.kustomize,
                               timeout=settings.kustomize_timeout, readable=files,
                               allow_remote=settings.allow_remote_bases, max_size=settings.max_file_size)
        stale = generated.unrewritten(docs)
        if stale:
            raise CmpError(stale)
        return _objects(docs)
    docs: list[Doc] = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.endswith(SUFFIXES) and not name.startswith(".") and _is_file(full):
            docs.extend(read_file(full, os.path.join(_display_root(path), name), path, settings.max_file_size))
    return _objects(docs)


def _check_confined(path: str, settings: Settings) -> frozenset[str]:
    """Refuse, before kustomize runs, what would let the build reach outside the repository or blow up.

    Returns the real paths of the files checked: the only ones the origin tracker may open later.
    """
    from . import confine  # kustomize apps only: a plain directory is read file by file

    app = os.path.realpath(path)
    files: set[str] = set()
    root = confine.find_repo_root(app)
    problems = confine.check_tree(app, root, _display_root(path), settings.max_file_size,
                                  settings.allow_remote_bases, files=files)
    if problems:
        hint = workdir.hint(app, root, os.environ) if root == workdir.sent_root(app) else None
        if hint and any("outside the repository" in p.message for p in problems):
            problems.append(Problem(hint, level=NOTE, rule="argocd"))
        raise CmpError(problems)
    return frozenset(files)


def _display_root(path: str) -> str:
    norm = os.path.normpath(path)
    return "" if norm == "." else norm


def _is_file(path: str) -> bool:
    """Anything but a directory: FIFOs, sockets and devices then fail as "not a regular file"."""
    return os.path.islink(path) or not os.path.isdir(path)


def read_file(path: str, shown: str, root: str, max_size: int) -> list[Doc]:
    """The documents of one file, refusing links out of ``root`` and files over ``max_size``."""
    real = os.path.realpath(path)
    real_root = os.path.realpath(root)
    if os.path.islink(path) and os.path.commonpath([real, real_root]) != real_root:
        raise CmpError(Problem("symbolic link points outside the app directory", file=shown, rule="read"))
    if not os.path.isfile(real):
        raise CmpError(Problem("not a regular file", file=shown, rule="read"))
    size = os.path.getsize(real)
    if size > max_size:
        raise CmpError(Problem(f"file is {size} bytes, over the limit of {max_size} (setting max-file-size)",
                               file=shown, rule="read"))
    with open(real, "rb") as handle:
        data = handle.read(max_size + 1)
    return _load(data, shown)


def _load(data: bytes, shown: str) -> list[Doc]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CmpError(Problem(f"not UTF-8 text (byte {exc.start})", file=shown, rule="read")) from None
    return load_stream(text, shown)


STDIN = "<stdin>"
_KUSTOMIZE_GROUP = "kustomize.config.k8s.io"


def read_stream(stream: BinaryIO, max_size: int) -> list[Doc]:
    """The documents of a YAML stream read from ``stream`` (stdin), as a directory holding one file
    named ``<stdin>`` is read: the same size limit, UTF-8 and YAML checks and budget.

    A Kustomization (or Component) in the stream is refused: its resources, patches and generators
    are paths relative to its own directory, which a stream does not have.
    """
    data = stream.read(max_size + 1)
    if len(data) > max_size:
        raise CmpError(Problem(f"input is over the limit of {max_size} bytes (setting max-file-size)",
                               file=STDIN, rule="read"))
    docs = _objects(_load(data, STDIN))
    refused = [d for d in docs if str(d.obj.get("apiVersion", "")).split("/")[0] == _KUSTOMIZE_GROUP]
    if refused:
        raise UsageError([d.problem((), f"a {d.obj.get('kind')} cannot be read from stdin (the paths it "
                                        "names are relative to its directory): render that directory instead",
                                    rule="read") for d in refused])
    return docs


def _objects(docs: list[Doc]) -> list[Doc]:
    """Flatten ``List`` documents; every document must be an object with apiVersion and kind."""
    out: list[Doc] = []
    problems: list[Problem] = []
    for doc in docs:
        obj = doc.obj
        if not isinstance(obj, dict):
            problems.append(doc.problem((), "expected a Kubernetes object (a mapping), got "
                                            f"{type(obj).__name__}", rule="read"))
            continue
        if isinstance(obj.get("items"), list) and str(obj.get("kind", "")).endswith("List"):
            for i, item in enumerate(obj["items"]):
                marks = {k[2:]: v for k, v in doc.marks.items() if k[:2] == ("items", i)}
                out.extend(_objects([Doc(item, doc.file, doc.line_of(("items", i)), marks)]))
            continue
        missing = [k for k in ("apiVersion", "kind") if not isinstance(obj.get(k), str) or not obj.get(k)]
        if missing:
            problems.append(doc.problem((), f"object has no {' or '.join(missing)}", rule="read"))
            continue
        malformed = _metadata_problems(doc)
        if malformed:
            problems.extend(malformed)
            continue
        out.append(doc)
    if problems:
        raise CmpError(problems)
    return out


_KINDS_OF = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number"}


def _metadata_problems(doc: Doc) -> list[Problem]:
    """Every later stage names objects by ``metadata.name``/``namespace``: they must be strings."""
    meta = doc.obj.get("metadata")
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return [doc.problem(("metadata",), f"expected a mapping, got {_kind_of(meta)}", rule="read")]
    return [doc.problem(("metadata", key), f"expected a string, got {_kind_of(meta[key])}", rule="read")
            for key in ("name", "namespace") if meta.get(key) is not None and not isinstance(meta[key], str)]


def _kind_of(value: object) -> str:
    return _KINDS_OF.get(type(value), type(value).__name__)

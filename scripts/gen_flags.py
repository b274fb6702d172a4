#!/usr/bin/env python3
"""Generate ``cmp/catalog/flags.json``: the command-line flags each official server declares.

Inputs (read, never imported or run):

* ``<releases>/<tag>/python/kserve/kserve/model_server.py``: KServe's shared parser;
* ``<releases>/<tag>/python/<server>/<server>/__main__.py``: each Python server's parser and the
  way it parses (``parse_args`` or ``parse_known_args``);
* ``<releases>/<tag>/python/huggingface_server.Dockerfile``: the vLLM version the release pins;
* one vLLM wheel per pinned version (a zip; its ``.py`` files are read from the archive):
  ``vllm/entrypoints/openai/cli_args.py`` (``make_arg_parser``, the frontend arguments),
  ``vllm/engine/arg_utils.py`` (the engine arguments, built from the config dataclasses in
  ``vllm/config/``) and ``vllm/entrypoints/openai/api_server.py`` (how the plain vLLM server parses).

Everything is extracted statically with :mod:`ast`: ``add_argument`` calls with literal option
strings, and for vLLM's generated arguments the dataclass fields they come from. vLLM derives
each generated argument's argparse kwargs from the field's type annotation; this script applies
the same decision order to the annotation's text (config dataclass -> JSON value,
``bool | str | None`` -> optional value, ``bool`` -> ``--x/--no-x``, ``Literal`` -> one value,
``tuple``/``list``/``set`` -> several values, anything else -> one value) and then the explicit
kwargs and later ``kwargs["field"]["action"] = ...`` edits of the source. No vLLM code runs.

A flag is ``[option strings, dest, kind]`` where kind is one of ``value`` (one value), ``optional``
(``nargs='?'``), ``multi`` (``nargs='+'``/``'*'``/a number), ``switch`` (``store_true``,
``store_false``, ``store_const``, ``count``: takes no value), ``bool`` (``BooleanOptionalAction``:
``--x`` and ``--no-x``), ``append`` (repeatable), ``help`` (argparse's ``-h``/``--help``: prints the
help and exits). The output is a pure function of the inputs.
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path
from typing import Any

from cmp.kserve.ports import KSERVE_PYTHON_SERVERS

#: The Python servers of KServe whose ``__main__.py`` is read: the list ``cmp.kserve.ports`` keeps.
KSERVE_SERVERS = tuple(sorted(KSERVE_PYTHON_SERVERS))

VLLM_FILES = {
    "cli_args": "vllm/entrypoints/openai/cli_args.py",
    "arg_utils": "vllm/engine/arg_utils.py",
    "api_server": "vllm/entrypoints/openai/api_server.py",
}

_SWITCH_ACTIONS = {"store_true", "store_false", "store_const", "count", "version"}
#: argparse's own -h/--help (a parser built without add_help=False): prints the help and exits.
HELP_FLAG = {"options": ["-h", "--help"], "dest": "help", "kind": "help"}
_APPEND_ACTIONS = {"append", "extend", "append_const"}
_MAX_ALIAS_DEPTH = 8


# ---------------------------------------------------------------- argparse kwargs -> kind


def _kind(kwargs: dict[str, Any]) -> str:
    """The matching kind of an argument from its (statically known) argparse kwargs."""
    action = kwargs.get("action")
    if action == "help":
        return "help"
    if action in _SWITCH_ACTIONS:
        return "switch"
    if action in _APPEND_ACTIONS:
        return "append"
    if action == "BooleanOptionalAction":
        return "bool"
    nargs = kwargs.get("nargs")
    if nargs == "?":
        return "optional"
    if nargs in ("+", "*") or isinstance(nargs, int):
        return "multi"
    return "value"


def _dest(options: list[str], kwargs: dict[str, Any]) -> str:
    """argparse's dest: explicit, else the first long option (else the first), dashes to ``_``."""
    if isinstance(kwargs.get("dest"), str):
        return kwargs["dest"]
    longs = [o for o in options if o.startswith("--")]
    return (longs or options)[0].lstrip("-").replace("-", "_")


def _literal(node: ast.AST) -> Any:
    """A kwarg value as data: constants, ``argparse.X``/``X`` names as their last part."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return "<expr>"


def _flag(options: list[str], kwargs: dict[str, Any], backend: str | None = None) -> dict[str, Any]:
    entry = {"options": options, "dest": _dest(options, kwargs), "kind": _kind(kwargs)}
    if backend:
        entry["backend"] = backend
    return entry


# ---------------------------------------------------------------- KServe's own parsers


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _add_argument(call: ast.Call) -> tuple[list[str], dict[str, Any]] | None:
    """(option strings, kwargs) of a literal ``add_argument`` call; None for a positional."""
    options = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if not options or not all(o.startswith("-") for o in options):
        return None
    kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
    return options, kwargs


class _ModuleScan(ast.NodeVisitor):
    """``add_argument`` calls of a server module, each tagged with the backend branch it is in."""

    def __init__(self) -> None:
        self.flags: list[dict[str, Any]] = []
        self.calls: set[str] = set()
        self.constructors: list[tuple[str, dict[str, Any]]] = []
        self._branch: list[str | None] = [None]

    def visit_If(self, node: ast.If) -> None:  # noqa: N802 (ast API)
        test = ast.unparse(node.test)
        tagged = "vllm_backend_enabled" in test
        self.visit(node.test)
        self._branch.append("vllm" if tagged else self._branch[-1])
        for stmt in node.body:
            self.visit(stmt)
        self._branch[-1] = "huggingface" if tagged else self._branch[-2]
        for stmt in node.orelse:
            self.visit(stmt)
        self._branch.pop()

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802 (ast API)
        name = _call_name(node)
        self.calls.add(name)
        if name == "add_argument":
            parsed = _add_argument(node)
            if parsed:
                self.flags.append(_flag(parsed[0], parsed[1], self._branch[-1]))
        if name in ("ArgumentParser", "FlexibleArgumentParser"):
            self.constructors.append((name, {k.arg: _literal(k.value) for k in node.keywords if k.arg}))
        self.generic_visit(node)


def _scan(text: str) -> _ModuleScan:
    scan = _ModuleScan()
    scan.visit(ast.parse(text))
    return scan


def vllm_pin(dockerfile: str) -> str | None:
    """The vLLM version a release's huggingfaceserver image installs (``VLLM_VERSION``)."""
    found = re.search(r"^ARG VLLM_VERSION=([0-9][0-9A-Za-z.+-]*)\s*$", dockerfile, re.MULTILINE)
    return found.group(1) if found else None


def kserve_server(release_dir: Path, server: str) -> dict[str, Any] | None:
    """The parser of one KServe Python server of a release (None when the release lacks it)."""
    main = release_dir / "python" / server / server / "__main__.py"
    if not main.is_file():
        return None
    base = _scan((release_dir / "python/kserve/kserve/model_server.py").read_text(encoding="utf-8"))
    own = _scan(main.read_text(encoding="utf-8"))
    flags: list[dict[str, Any]] = []
    seen: set[str] = set()
    if all(kw.get("add_help", True) is not False for _, kw in own.constructors):
        _add_unique(flags, seen, dict(HELP_FLAG))
    for entry in base.flags + own.flags:
        if entry.get("backend") == "vllm":
            continue
        _add_unique(flags, seen, entry)
    flexible = any(name == "FlexibleArgumentParser" for name, _ in own.constructors)
    known = "parse_known_args" in own.calls and "parse_args" not in own.calls
    abbrev = all(kw.get("allow_abbrev", True) is not False for _, kw in own.constructors)
    return {
        "parser": "FlexibleArgumentParser" if flexible else "ArgumentParser",
        "parse": "parse_known_args" if known else "parse_args",
        "abbrev": abbrev,
        # vLLM's FlexibleArgumentParser turns `_` into `-` in flag names in parse_args() only.
        "underscores": flexible and not known,
        "unknown": "ignored" if known else "error",
        "flags": flags,
        # huggingfaceserver adds vLLM's parser (make_arg_parser) to its own when the vLLM backend runs:
        # the loader appends the flags of the pinned vLLM whose option strings are not declared here.
        **({"includes_vllm": True} if "maybe_add_vllm_cli_parser" in own.calls else {}),
    }


def _add_unique(flags: list[dict[str, Any]], seen: set[str], entry: dict[str, Any]) -> None:
    """Add ``entry``; option strings already declared (by another backend branch) are merged."""
    fresh = [o for o in entry["options"] if o not in seen]
    if not fresh:
        for existing in flags:
            if set(entry["options"]) <= set(existing["options"]) and existing.get("backend") != entry.get("backend"):
                existing.pop("backend", None)   # declared on both backends
        return
    seen.update(fresh)
    flags.append({**entry, "options": fresh})


# ---------------------------------------------------------------- vLLM (static)


class _Index:
    """Classes (fields, bases) and module-level aliases of a set of vLLM source files."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.classes: dict[str, tuple[list[tuple[str, ast.AST]], list[str], ast.ClassDef]] = {}
        self.aliases: dict[str, ast.AST] = {}
        for text in sources.values():
            tree = ast.parse(text)
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    fields = [(s.target.id, s.annotation) for s in node.body
                              if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                              and not ast.unparse(s.annotation).startswith(("ClassVar", "InitVar"))]
                    bases = [ast.unparse(b).split(".")[-1] for b in node.bases]
                    self.classes.setdefault(node.name, (fields, bases, node))
                elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    self.aliases.setdefault(node.targets[0].id, node.value)
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None \
                        and "TypeAlias" in ast.unparse(node.annotation):
                    self.aliases.setdefault(node.target.id, node.value)
                elif isinstance(node, getattr(ast, "TypeAlias", ())):
                    self.aliases.setdefault(node.name.id, node.value)

    def fields(self, name: str, depth: int = 0) -> list[tuple[str, ast.AST]]:
        """Dataclass fields of ``name`` including inherited ones (bases first), by name."""
        if name not in self.classes or depth > _MAX_ALIAS_DEPTH:
            return []
        own, bases, _ = self.classes[name]
        merged: dict[str, ast.AST] = {}
        for base in bases:
            merged.update(self.fields(base, depth + 1))
        merged.update(own)
        return list(merged.items())

    def is_dataclass(self, name: str) -> bool:
        if name not in self.classes:
            return False
        decorators = [ast.unparse(d) for d in self.classes[name][2].decorator_list]
        return any(d.split("(")[0].split(".")[-1] in ("config", "dataclass") for d in decorators)

    def type_names(self, node: ast.AST, depth: int = 0) -> set[str]:
        """The union members of an annotation, as names (``bool``, ``None``, ``list``, ``Literal``...)."""
        if depth > _MAX_ALIAS_DEPTH:
            return {"<deep>"}
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return self.type_names(ast.parse(node.value, mode="eval").body, depth + 1)
            except SyntaxError:
                return {"<str>"}
        if isinstance(node, ast.Constant) and node.value is None:
            return {"None"}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self.type_names(node.left, depth) | self.type_names(node.right, depth)
        if isinstance(node, ast.Subscript):
            head = ast.unparse(node.value).split(".")[-1]
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head == "Optional":
                return self.type_names(inner[0], depth) | {"None"}
            if head == "Union":
                return set().union(*(self.type_names(i, depth) for i in inner))
            if head == "Annotated":
                return self.type_names(inner[0], depth)
            return {head.lower() if head in ("List", "Tuple", "Set", "Dict") else head}
        name = ast.unparse(node).split(".")[-1]
        if name in self.aliases and name not in self.classes:
            return self.type_names(self.aliases[name], depth + 1)
        return {name}

    def field_kwargs(self, cls: str) -> dict[str, dict[str, Any]]:
        """The argparse kwargs vLLM's ``get_kwargs`` derives for each field (the parts that matter)."""
        out: dict[str, dict[str, Any]] = {}
        for name, annotation in self.fields(cls):
            types = self.type_names(annotation)
            if any(self.is_dataclass(t) for t in types):
                kwargs: dict[str, Any] = {}
            elif types == {"bool", "str", "None"}:
                kwargs = {"nargs": "?"}
            elif "bool" in types:
                kwargs = {"action": "BooleanOptionalAction"}
            elif "Literal" in types:
                kwargs = {}
            elif types & {"tuple", "list", "set"}:
                kwargs = {"nargs": "+"}
            else:
                kwargs = {}
            out[name] = kwargs
        return out


def _read_wheel(wheel: Path) -> dict[str, str]:
    """The vLLM sources this script reads, from the wheel (a zip), by path."""
    wanted: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if name in VLLM_FILES.values() or (name.startswith("vllm/config/") and name.endswith(".py")):
                wanted[name] = archive.read(info).decode("utf-8")
    return wanted


class _VllmScan:
    """Walks vLLM's parser-building functions in source order, tracking ``get_kwargs`` tables."""

    def __init__(self, index: _Index) -> None:
        self.index = index
        self.flags: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def run(self, cli_args: str, arg_utils: str) -> list[dict[str, Any]]:
        cli_tree, engine_tree = ast.parse(cli_args), ast.parse(arg_utils)
        make = _function(cli_tree, "make_arg_parser")
        tables: dict[str, dict[str, dict[str, Any]]] = {}
        for stmt in make.body:
            self._statement(stmt, tables, cli_tree, engine_tree)
        return self.flags

    def _statement(self, stmt: ast.AST, tables: dict[str, dict[str, dict[str, Any]]], cli_tree: ast.Module,
                   engine_tree: ast.Module) -> None:
        for node in _ordered(stmt):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1:
                call, target = node.value, node.targets[0]
                if _call_name(call) == "get_kwargs" and isinstance(target, ast.Name) and call.args:
                    tables[target.id] = self.index.field_kwargs(ast.unparse(call.args[0]))
                elif _call_name(call) == "add_cli_args" and isinstance(call.func, ast.Attribute):
                    self._add_cli_args(ast.unparse(call.func.value), cli_tree, engine_tree)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                self._table_edit(node.targets[0], node.value, tables)
            elif isinstance(node, ast.Delete):
                for target in node.targets:
                    self._table_edit(target, None, tables)
            elif isinstance(node, ast.Call) and _call_name(node) == "add_argument":
                self._argument(node, tables)

    def _table_edit(self, target: ast.AST, value: ast.AST | None, tables: dict) -> None:
        """``T["field"]["key"] = v`` or ``del T["field"]["key"]``."""
        path = _subscripts(target)
        if path is None or len(path) != 3 or path[0] not in tables:
            return
        table, field, key = path
        entry = tables[table].setdefault(field, {})
        if value is None:
            entry.pop(key, None)
        elif key == "flags" and isinstance(value, (ast.List, ast.Tuple)):
            entry["flags"] = [e.value for e in value.elts if isinstance(e, ast.Constant)]
        else:
            entry[key] = _literal(value)

    def _argument(self, call: ast.Call, tables: dict) -> None:
        options = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        kwargs: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                kwargs.update(self._spread(keyword.value, tables))
            else:
                kwargs[keyword.arg] = _literal(keyword.value)
        if not options or not all(o.startswith("-") for o in options):
            return
        self._add(options, kwargs)

    def _spread(self, node: ast.AST, tables: dict) -> dict[str, Any]:
        """The kwargs of ``**T["field"]`` or ``**{**T["field"], "key": value}``."""
        path = _subscripts(node)
        if path and len(path) == 2 and path[0] in tables:
            return dict(tables[path[0]].get(path[1], {}))
        out: dict[str, Any] = {}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    out.update(self._spread(value, tables))
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    out[key.value] = _literal(value)
        return out

    def _add(self, options: list[str], kwargs: dict[str, Any]) -> None:
        options = [o for o in options if o not in self._seen]
        if options:
            self._seen.update(options)
            self.flags.append(_flag(options, kwargs))

    def _add_cli_args(self, cls: str, cli_tree: ast.Module, engine_tree: ast.Module) -> None:
        """``X.add_cli_args(parser)``: explicit calls (engine args) or the frontend's field loop."""
        for tree in (engine_tree, cli_tree):
            method = _method_in_mro(tree, self.index, cls, "add_cli_args")
            if method is None:
                continue
            if any(isinstance(n, ast.For) and "add_argument" in ast.unparse(n) for n in ast.walk(method)):
                self._frontend(cls, cli_tree)
            else:
                tables: dict[str, dict[str, dict[str, Any]]] = {}
                for stmt in method.body:
                    self._statement(stmt, tables, cli_tree, engine_tree)
            return

    def _frontend(self, cls: str, cli_tree: ast.Module) -> None:
        """A frontend class: one ``--field-name`` per dataclass field, after the class's customisation."""
        table = self.index.field_kwargs(cls)
        tables = {"frontend_kwargs": table}
        chain = _mro(self.index, cls)
        for name in reversed(chain):
            method = _class_method(cli_tree, name, "_customize_cli_kwargs")
            if method is not None:
                for stmt in method.body:
                    for node in _ordered(stmt):
                        if isinstance(node, ast.Assign) and len(node.targets) == 1:
                            self._table_edit(node.targets[0], node.value, tables)
                        elif isinstance(node, ast.Delete):
                            for target in node.targets:
                                self._table_edit(target, None, tables)
        for field, kwargs in table.items():
            extra = [f for f in kwargs.get("flags", []) if isinstance(f, str)]
            self._add([*extra, f"--{field.replace('_', '-')}"], kwargs)


def _ordered(stmt: ast.AST) -> list[ast.AST]:
    """Nodes of a statement in source order (``ast.walk`` is breadth-first)."""
    nodes = [n for n in ast.walk(stmt) if hasattr(n, "lineno")]
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _subscripts(node: ast.AST) -> list[str] | None:
    """``T["a"]["b"]`` -> ``["T", "a", "b"]``; None for anything else."""
    keys: list[str] = []
    while isinstance(node, ast.Subscript):
        if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return None
        keys.append(node.slice.value)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(keys)]


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise SystemExit(f"vLLM source has no function {name}")


def _class_method(tree: ast.Module, cls: str, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return item
    return None


def _mro(index: _Index, cls: str) -> list[str]:
    chain, todo = [], [cls]
    while todo and len(chain) < _MAX_ALIAS_DEPTH:
        name = todo.pop(0)
        chain.append(name)
        todo.extend(index.classes.get(name, ([], [], None))[1])
    return chain


def _method_in_mro(tree: ast.Module, index: _Index, cls: str, name: str) -> ast.FunctionDef | None:
    for owner in _mro(index, cls):
        method = _class_method(tree, owner, name)
        if method is not None:
            return method
    return None


def vllm_parser(wheel: Path) -> dict[str, Any]:
    """The flags of vLLM's OpenAI server parser (``make_arg_parser``) in one wheel."""
    sources = _read_wheel(wheel)
    missing = [p for p in VLLM_FILES.values() if p not in sources]
    if missing:
        raise SystemExit(f"{wheel.name}: missing {', '.join(missing)}")
    index = _Index(sources)
    flags = _VllmScan(index).run(sources[VLLM_FILES["cli_args"]], sources[VLLM_FILES["arg_utils"]])
    server = sources[VLLM_FILES["api_server"]]
    if "add_help=False" not in server:   # its FlexibleArgumentParser(description=...) keeps -h/--help
        flags = [dict(HELP_FLAG), *flags]
    known = ".parse_known_args(" in server and ".parse_args(" not in server
    return {
        "parser": "FlexibleArgumentParser",
        "parse": "parse_known_args" if known else "parse_args",
        "abbrev": "allow_abbrev=False" not in server,
        "underscores": not known,
        "unknown": "ignored" if known else "error",
        "flags": flags,
    }


# ---------------------------------------------------------------- the catalog


def wheel_for(wheel_dir: Path, version: str) -> Path:
    found = sorted(wheel_dir.glob(f"vllm-{version}-*.whl")) + sorted(wheel_dir.glob(f"{version}/vllm-{version}-*.whl"))
    if not found:
        raise SystemExit(f"no vLLM {version} wheel under {wheel_dir} (pip download --no-deps vllm=={version})")
    return found[0]


def build_flags(releases_dir: Path, wheel_dir: Path) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The flag catalog and its provenance rows (release, vLLM version, wheel file name)."""
    catalog: dict[str, Any] = {"kserve": {}, "vllm": {}}
    rows: list[tuple[str, str, str]] = []
    vllm_cache: dict[str, dict[str, Any]] = {}
    for release_dir in sorted(p for p in releases_dir.iterdir() if (p / "python").is_dir()):
        release = release_dir.name
        pin = vllm_pin((release_dir / "python/huggingface_server.Dockerfile").read_text(encoding="utf-8"))
        if pin is None:
            raise SystemExit(f"{release}: no VLLM_VERSION in huggingface_server.Dockerfile")
        if pin not in vllm_cache:
            wheel = wheel_for(wheel_dir, pin)
            vllm_cache[pin] = vllm_parser(wheel)
            rows.append((release, pin, wheel.name))
        else:
            rows.append((release, pin, "(same wheel as above)"))
        servers = {}
        for server in KSERVE_SERVERS:
            parsed = kserve_server(release_dir, server)
            if parsed is not None:
                servers[server] = parsed
        catalog["kserve"][release] = {"vllm": pin, "servers": servers}
    catalog["vllm"] = {v: vllm_cache[v] for v in sorted(vllm_cache, key=_version_key)}
    return catalog, rows


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def provenance(catalog: dict[str, Any], rows: list[tuple[str, str, str]], commits: dict[str, str]) -> str:
    """The provenance section of ``flags.json`` (a Markdown fragment)."""
    lines = [
        "## `flags.json`",
        "",
        "The command-line flags of each official Python server per KServe release, and of vLLM's",
        "OpenAI server per vLLM version a release pins, generated by `scripts/gen_flags.py` (called by",
        "`scripts/gen_data.py --vllm-wheels DIR`). Read statically with Python's `ast` module, never run:",
        "",
        "- KServe (https://github.com/kserve/kserve, Apache-2.0), per release tag:",
        "  `python/kserve/kserve/model_server.py` (the shared parser), `python/<server>/<server>/__main__.py`",
        "  (each server's own flags, and `parse_args` or `parse_known_args`), `python/huggingface_server.Dockerfile`",
        "  (`ARG VLLM_VERSION`).",
        "- vLLM (https://github.com/vllm-project/vllm, Apache-2.0), the `vllm` wheel of each pinned version",
        "  from the Python package index: `vllm/entrypoints/openai/cli_args.py` (`make_arg_parser`, frontend",
        "  fields), `vllm/engine/arg_utils.py` (engine arguments, `get_kwargs`), `vllm/config/*.py` (the",
        "  dataclass fields and annotations the engine arguments are derived from),",
        "  `vllm/entrypoints/openai/api_server.py` (how the plain vLLM server parses).",
        "",
        "| KServe release | commit | vLLM pinned | wheel read |",
        "|---|---|---|---|",
    ]
    for release, pin, wheel in rows:
        lines.append(f"| `{release}` | `{commits.get(release, '?')}` | `{pin}` | `{wheel}` |")
    lines += ["", "| KServe release | server | parse | unknown flags | `_`→`-` | abbreviations | flags |",
              "|---|---|---|---|---|---|---|"]
    for release, entry in catalog["kserve"].items():
        for server, parsed in entry["servers"].items():
            lines.append(f"| `{release}` | {server} | `{parsed['parse']}` | {parsed['unknown']} | "
                         f"{'yes' if parsed['underscores'] else 'no'} | {'yes' if parsed['abbrev'] else 'no'} | "
                         f"{len(parsed['flags'])} |")
    for version, parsed in catalog["vllm"].items():
        lines.append(f"| vLLM `{version}` | vllm api_server | `{parsed['parse']}` | {parsed['unknown']} | "
                     f"{'yes' if parsed['underscores'] else 'no'} | {'yes' if parsed['abbrev'] else 'no'} | "
                     f"{len(parsed['flags'])} |")
    lines += [
        "",
        "Limits of the static reading: vLLM plugins (`load_general_plugins`, the platform's",
        "`pre_register_and_update`) may add flags at run time that no source file declares; a",
        "generated argument's kind follows vLLM's decision order on the annotation's text.",
        "",
    ]
    return "\n".join(lines)


def release_commits(source_md: str) -> dict[str, str]:
    """``tag -> commit`` from the release table of the reference's SOURCE.md."""
    return dict(re.findall(r"^\| (v\d+\.\d+\.\d+) \| ([0-9a-f]{40}) \|", source_md, re.MULTILINE))


def render_flags(releases_dir: Path, wheel_dir: Path, source_md: str) -> dict[str, str]:
    """``flags.json`` and its provenance, as repository-relative path -> text."""
    import json  # noqa: PLC0415 (only the generator needs it)

    catalog, rows = build_flags(releases_dir, wheel_dir)
    header = "# Provenance of `flags.json`\n\n"
    return {
        "cmp/catalog/flags.json": json.dumps(catalog, separators=(",", ":"), sort_keys=True) + "\n",
        "cmp/catalog/PROVENANCE-flags.md": header + provenance(catalog, rows, release_commits(source_md)),
    }

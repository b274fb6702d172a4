"""Differential tests: kserve-cmp's flag matching against Python's own argparse.

1. KServe's parsers, built by running only the parser-building statements of the release's
   ``model_server.py`` and ``huggingfaceserver/__main__.py`` (``../shared``), declare exactly the
   option strings, dests and kinds ``cmp/catalog/flags.json`` holds for them.
2. For every catalogued server, a real ``argparse`` parser declared from the catalog agrees with
   :meth:`ServerParser.resolve` on every option, its prefixes, ``_``/``-`` swaps and typos: which
   flag a token sets, whether it is dropped (``parse_known_args``) and whether argparse exits.
"""

from __future__ import annotations

import argparse
import ast
import types
from pathlib import Path

import pytest

from cmp import catalog
from cmp.kserve import parsers
from helpers import SHARED

RELEASES = SHARED / "kserve" / "releases"
_ACTION_KINDS = {
    argparse._StoreTrueAction: "switch", argparse._StoreFalseAction: "switch", argparse._StoreConstAction: "switch",
    argparse._CountAction: "switch", argparse.BooleanOptionalAction: "bool", argparse._AppendAction: "append",
}


# --- 1. the real KServe parsers -------------------------------------------------------------------

def _parser_statements(path: Path) -> list[ast.stmt]:
    """Module-level statements that build the parser (constructor, add_argument, argument groups)."""
    keep = []
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(stmt, ast.Try):   # huggingfaceserver: FlexibleArgumentParser or plain argparse
            keep.extend(s for s in stmt.orelse or stmt.handlers[0].body if "ArgumentParser" in ast.unparse(s))
        text = ast.unparse(stmt)
        if isinstance(stmt, (ast.Assign, ast.Expr)) and ("ArgumentParser(" in text or ".add_argument(" in text
                                                         or "add_mutually_exclusive_group" in text):
            keep.append(stmt)
    return keep


class _Anything:
    """Stands for any other name the statements mention (defaults, type converters, constants)."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self

    def __iter__(self):
        return iter(())


class _Names(dict):
    def __missing__(self, key):
        return _Anything()


def _run_parser_code(path: Path, names: dict) -> argparse.ArgumentParser:
    code = compile(ast.Module(body=_parser_statements(path), type_ignores=[]), str(path), "exec")
    scope = _Names({"argparse": argparse, **names})
    exec(code, {"__builtins__": __builtins__}, scope)  # noqa: S102 (parser statements of a reference file only)
    return scope["parser"]


def _kind(action: argparse.Action) -> str:
    for cls, kind in _ACTION_KINDS.items():
        if isinstance(action, cls):
            return kind
    if action.nargs == "?":
        return "optional"
    if action.nargs in ("+", "*") or isinstance(action.nargs, int):
        return "multi"
    return "value"


def _declared(parser: argparse.ArgumentParser) -> set[tuple]:
    return {(tuple(a.option_strings), a.dest, _kind(a)) for a in parser._actions
            if a.option_strings and a.dest != "help"}


def _kserve_parser(release: str) -> argparse.ArgumentParser:
    return _run_parser_code(RELEASES / release / "python/kserve/kserve/model_server.py", {})


@pytest.mark.skipif(not RELEASES.is_dir(), reason="reference releases not present")
@pytest.mark.parametrize("release", parsers.releases())
@pytest.mark.parametrize("server", ["sklearnserver", "xgbserver", "huggingfaceserver"])
def test_catalog_holds_what_the_real_kserve_parsers_declare(release: str, server: str) -> None:
    base = _kserve_parser(release)
    names = {"kserve": types.SimpleNamespace(model_server=types.SimpleNamespace(parser=base))}
    real = _run_parser_code(RELEASES / release / "python" / server / server / "__main__.py", names)
    entry = parsers._data()["kserve"][release]["servers"][server]
    catalog = {(tuple(f["options"]), f["dest"], f["kind"]) for f in entry["flags"]
               if f.get("backend") is None and f["dest"] != "help"}
    assert any(f["dest"] == "help" for f in entry["flags"])   # the server's parser keeps add_help
    assert _declared(real) == catalog


# --- 2. matching, against argparse itself ---------------------------------------------------------

def _argparse_from(parser: parsers.ServerParser, options: set[str]) -> argparse.ArgumentParser:
    real = argparse.ArgumentParser(add_help=False, allow_abbrev=parser.abbrev, exit_on_error=False)
    seen: set[int] = set()
    for option in sorted(options):
        declared = parser.options[option]
        if id(declared) in seen:
            continue
        seen.add(id(declared))
        strings = [o for o in declared.options if o in options]
        kwargs = {"switch": {"action": "store_true"}, "help": {"action": "store_true"},
                  "bool": {"action": argparse.BooleanOptionalAction},
                  "append": {"action": "append"}, "multi": {"nargs": "+"}, "optional": {"nargs": "?"},
                  "value": {}}[declared.kind]
        real.add_argument(*strings, dest=declared.dest, **kwargs)
    real.error = _raise   # argparse calls error() for an ambiguous option, whatever exit_on_error says
    return real


class _Exit(Exception):
    pass


def _raise(message: str) -> None:
    raise _Exit(message)


def _argparse_outcome(real: argparse.ArgumentParser, token: str) -> str:
    """``exit``, ``dropped`` or the dest the token sets."""
    before = vars(real.parse_known_args([])[0])
    try:
        namespace, extra = real.parse_known_args([token, "1"] if "=" not in token else [token])
    except (_Exit, argparse.ArgumentError):
        return "exit"
    if token in extra:
        return "dropped"
    changed = [k for k, v in vars(namespace).items() if v != before.get(k)]
    return changed[0] if changed else "dropped"


def _ours(parser: parsers.ServerParser, token: str) -> str:
    found = parser.resolve(token.partition("=")[0])
    if found.how in ("ambiguous", "ambiguous-early"):
        return "exit"
    if found.declared is None:
        return "dropped" if parser.ignores_unknown else "exit"
    if "=" in token and found.declared.kind in parsers.NO_VALUE_KINDS:
        return "exit"
    return found.declared.dest


def _tokens(parser: parsers.ServerParser) -> list[str]:
    longs = sorted(o for o in parser.options if o.startswith("--"))
    out = set()
    for option in longs:
        out.update({option, option + "=1", option[:-1], option[: max(3, len(option) // 2)],
                    option.replace("_", "-"), option.replace("-", "_").replace("__", "--", 1), option + "x"})
    return sorted(out)


@pytest.mark.parametrize("release", parsers.releases())
def test_matching_agrees_with_argparse_for_huggingfaceserver(release: str) -> None:
    parser = parsers.kserve_parser("huggingfaceserver", release)
    real = _argparse_from(parser, set(parser.options) - {o for o in parser.options if o.startswith("--no-")})
    early = _argparse_from(parser, set(parser.early))
    differ = []
    for token in _tokens(parser):
        name = token.partition("=")[0]
        if parser.underscores or name.startswith("--no-"):
            continue
        first = _argparse_outcome(early, token)
        expected = "exit" if first == "exit" else _argparse_outcome(real, token)
        if expected != _ours(parser, token):
            differ.append((token, expected, _ours(parser, token)))
    assert differ == []


@pytest.mark.parametrize("server", ["sklearnserver", "lgbserver"])
def test_matching_agrees_with_argparse_for_kserve_servers(server: str) -> None:
    parser = parsers.kserve_parser(server, catalog.default_tag())
    real = _argparse_from(parser, set(parser.options))
    differ = [(t, _argparse_outcome(real, t), _ours(parser, t)) for t in _tokens(parser)
              if _argparse_outcome(real, t) != _ours(parser, t)]
    assert differ == []

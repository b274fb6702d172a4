"""The vLLM command line a composed pod runs, token by token with its source, and the flags the preset owns.

From v0.18 the presets start vLLM from a ``/bin/bash -c`` script whose last command is
``eval "[exec] vllm serve /mnt/models --served-model-name ... ${VLLM_ADDITIONAL_ARGS} $@"`` followed by
``"--"``: Kubernetes appends the container's ``args`` to ``command``, bash makes them ``$@``, and ``eval``
joins everything with spaces and parses the result again, so an argument holding spaces or quotes is
split and unquoted a second time. v0.17 runs ``vllm serve ...`` directly as ``command`` with ``args``
appended. :func:`vllm_argv` models both: the script's double-quoted eval string is expanded (``$@``,
``${VAR}``, ``${VAR:-default}`` from the container's env values), then split as eval splits it.

Sources: the origin of the ``command`` string (``preset:<name>@<release>`` or ``service``) for the script's
own words, the origin of each ``args`` item for what ``$@`` brings, the env entry's origin for
``${VLLM_ADDITIONAL_ARGS}``, and ``pod-runtime`` for a variable only the running pod knows (the
access-log, shutdown-timeout and KV-transfer flags the script picks from ``vllm --version``, the
LeaderWorkerSet addresses and ranks): such a token is shown as ``${NAME}``.
"""

from __future__ import annotations

import re
from typing import Any

from . import POD_PATHS

POD_RUNTIME = "pod-runtime"
RUNTIME_VARIABLES = ("LWS_LEADER_ADDRESS", "LWS_WORKER_INDEX", "LWS_GROUP_SIZE", "LWS_NAME")
_ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)
_VLLM = re.compile(r"^[ \t]*(?:eval\s+\"\s*)?(?:exec\s+)?vllm\s+serve\b", re.MULTILINE)


def main_container(composition: Any, pod: str) -> tuple[tuple, dict] | None:
    """(path of the ``main`` container in the composed spec, the container) of ``pod``, or None."""
    node: Any = composition.spec
    for key in POD_PATHS[pod]:
        node = node.get(key) if isinstance(node, dict) else None
    containers = node.get("containers") if isinstance(node, dict) else None
    for index, container in enumerate(containers or []):
        if isinstance(container, dict) and container.get("name") == "main":
            return POD_PATHS[pod] + ("containers", index), container
    return None


class _Chars:
    """A string with a source per character; ``literal`` characters are never interpreted again."""

    def __init__(self) -> None:
        self.chars: list[tuple[str, str, bool]] = []

    def add(self, text: str, source: str, literal: bool = False) -> None:
        self.chars.extend((c, source, literal) for c in text)


def _env(container: dict, origins: dict, path: tuple) -> dict[str, tuple[str, str]]:
    out = {}
    for index, entry in enumerate(container.get("env") or []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and "value" in entry:
            out[entry["name"]] = (str(entry["value"]), origins.get(path + ("env", index, "value"), "service"))
    return out


_PARAM = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|([@*]))")


_KUBE_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _kube_expand(text: str, env: dict[str, tuple[str, str]], script: bool) -> str:
    """Kubernetes' own expansion of ``$(NAME)`` in ``command`` and ``args`` (before any shell): a variable of the
    container's env is replaced by its value, ``$$`` is ``$``, anything else is left as written. In a script, a
    variable only the pod knows (the LeaderWorkerSet's) becomes ``${NAME}`` for the shell pass to show."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name in env:
            return env[name][0]
        if script and name in RUNTIME_VARIABLES:
            return "${" + name + "}"
        return match.group(0)
    return _KUBE_REF.sub(replace, text)


def _first_pass(script: str, i: int, reparse: bool, values: dict, runtime: set, source: str,
                args: list[tuple[str, str]]) -> _Chars:
    """Bash's parse of one command line of ``script`` from ``i`` to the first unquoted newline or ``;``: quotes
    removed, backslash-newlines joined, parameters expanded. With ``reparse`` (the words go to ``eval``) the
    result is text ``eval`` parses again; without, every character is final (literal) and only unquoted
    whitespace separates words."""
    out = _Chars()
    quote = ""
    while i < len(script):
        c = script[i]
        nxt = script[i + 1] if i + 1 < len(script) else ""
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                out.add(c, source, not reparse)
            i += 1
            continue
        if c == "\\":
            if nxt == "\n":
                i += 2
                continue
            if quote and nxt not in '$`"\\':
                out.add(c, source, not reparse)
                i += 1
                continue
            out.add(nxt, source, not reparse)
            i += 2
            continue
        if c == "$":
            match = _PARAM.match(script, i)
            if match:
                name = match.group(1) or match.group(3)
                if match.group(4):
                    for k, (arg, arg_source) in enumerate(args):
                        if k:
                            out.add(" ", arg_source)
                        out.add(arg, arg_source, not reparse and bool(quote))
                elif name in values:
                    out.add(values[name][0], values[name][1], not reparse and bool(quote))
                elif name in runtime:
                    out.add("${" + name + "}", POD_RUNTIME, literal=True)
                elif match.group(2) is not None:
                    out.add(match.group(2), source, not reparse and bool(quote))
                i = match.end()
                continue
        if c in "\"'" and (not quote or c == quote):
            quote = "" if quote else c
            i += 1
            continue
        if not quote and c in "\n;":
            break
        out.add(c, source, not reparse and bool(quote))
        i += 1
    return out


def _split(chars: list[tuple[str, str, bool]]) -> list[tuple[str, str]]:
    """Split as ``eval`` parses its joined arguments: whitespace separates words; quotes and backslashes group
    and are removed; characters marked literal are taken as they are. A word in which the shell would expand
    something again (``$NAME``, ``${...}``, ``$(...)`` outside single quotes) is kept as written, its source
    ``pod-runtime``: its value is only known in the pod."""
    words: list[tuple[str, str]] = []
    text, source, quote, started = "", "", "", False
    i = 0
    while i < len(chars):
        c, src, literal = chars[i]
        nxt = chars[i + 1][0] if i + 1 < len(chars) else ""
        if not literal and quote != "'" and c == "$" and (nxt in "({_" or nxt.isalpha()):
            source, started = POD_RUNTIME, True
        if literal:
            text, source, started = text + c, source or src, True
        elif quote == "'":
            if c == "'":
                quote = ""
            else:
                text += c
        elif quote == '"':
            if c == '"':
                quote = ""
            elif c == "\\" and i + 1 < len(chars) and chars[i + 1][0] in '$`"\\':
                text += chars[i + 1][0]
                i += 1
            else:
                text += c
        elif c in " \t\n":
            if started:
                words.append((text, source))
            text, source, started = "", "", False
        elif c in "'\"":
            quote, source, started = c, source or src, True
        elif c == "\\" and i + 1 < len(chars):
            text, source, started = text + chars[i + 1][0], source or src, True
            i += 1
        else:
            text, source, started = text + c, source or src, True
        i += 1
    if started:
        words.append((text, source))
    return words


def vllm_argv(composition: Any, pod: str = "template") -> list[tuple[str, str]]:
    """The effective vLLM command line of ``pod`` (``template``, ``worker``, ``prefill.template`` or
    ``prefill.worker``) as (token, source) pairs, starting at ``vllm``; [] when the pod or its ``main``
    container does not exist. A ``command`` that runs no ``vllm serve`` is returned as written (command, then
    args)."""
    found = main_container(composition, pod)
    if found is None:
        return []
    path, container = found
    origins = composition.origins
    env = _env(container, origins, path)
    command = [_kube_expand(str(c), env, True) for c in container.get("command") or []]
    args = [(_kube_expand(str(a), env, False), origins.get(path + ("args", i), "service"))
            for i, a in enumerate(container.get("args") or [])]
    written = [(c, origins.get(path + ("command", i), "service")) for i, c in enumerate(command)] + args
    if len(command) >= 3 and command[0].rsplit("/", 1)[-1] in ("bash", "sh") and command[1] == "-c":
        script = command[2]
        match = None
        for match in _VLLM.finditer(script):
            pass
        if match is None:
            return written
        source = origins.get(path + ("command", 2), "service")
        runtime = set(_ASSIGNED.findall(script)) | set(RUNTIME_VARIABLES)
        values = {k: v for k, v in env.items() if k not in runtime}
        positional = [(c, origins.get(path + ("command", i), "service")) for i, c in enumerate(command[3:], 3)]
        dollar_at = positional[1:] + args
        begin = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        reparse = script.startswith("eval", begin)
        if reparse:
            begin += len("eval")
        tokens = _split(_first_pass(script, begin, reparse, values, runtime, source, dollar_at).chars)
        for index, (token, _) in enumerate(tokens):
            if token == "vllm":
                return tokens[index:]
        return tokens
    for index, (token, _) in enumerate(written):
        if token.rsplit("/", 1)[-1] == "vllm":
            return written[index:]
    return written


FLAG_FIELDS = {
    "--served-model-name": "spec.model.name",
    "--model": "spec.model.uri (the preset serves the model from /mnt/models)",
    "--port": "none: vLLM's port is fixed by the preset (8000; 8001 behind the prefill/decode routing sidecar) "
              "and the workload Service, the InferencePool and the probes target it",
    "--tensor-parallel-size": "{par}.tensor",
    "--data-parallel-size": "{par}.data",
    "--data-parallel-size-local": "{par}.dataLocal",
    "--data-parallel-rpc-port": "{par}.dataRPCPort",
    "--data-parallel-address": "none: the pod resolves the LeaderWorkerSet leader's address",
    "--data-parallel-start-rank": "none: the pod computes it from its worker index and {par}.dataLocal",
    "--enable-expert-parallel": "{par}.expert",
    "--headless": "none: the data-parallel preset runs its worker pods headless",
    "--api-server-count": "env VLLM_API_SERVER_COUNT of the main container (default 8)",
    "--enable-ssl-refresh": "the cluster's LLMInferenceService TLS setting (.GlobalConfig.EnableTLS)",
    "--ssl-certfile": "the cluster's LLMInferenceService TLS setting (.GlobalConfig.EnableTLS)",
    "--ssl-keyfile": "the cluster's LLMInferenceService TLS setting (.GlobalConfig.EnableTLS)",
    "--disable-uvicorn-access-log": "none: the preset picks the access-log flag (from the vLLM version from v0.19)",
    "--disable-access-log-for-endpoints": "none: the preset picks the access-log flag from the vLLM version",
    "--shutdown-timeout": "spec.{pod}.terminationGracePeriodSeconds (the timeout is that minus the 15 s preStop "
                          "sleep and 5 s, when the image's vLLM is 0.18 or newer)",
}
"""Flag -> the LLMInferenceService field that controls it (``{par}``: the pod's parallelism, ``{pod}``: its path)."""

RUNTIME_FLAGS = {"ACCESS_LOG_ARGS": ("--disable-uvicorn-access-log", "--disable-access-log-for-endpoints"),
                 "SHUTDOWN_TIMEOUT_ARGS": ("--shutdown-timeout",)}
"""Script variables whose flags the pod picks at start (``KV_TRANSFER_ARGS`` yields to a user's own
``--kv-transfer-config``, so it owns nothing)."""


def preset_owned_flags(composition: Any, pod: str = "template") -> dict[str, str]:
    """Each flag the preset's script sets on ``pod`` -> the LLMInferenceService field that controls it (or
    ``none: ...`` with why). Only flags the composed script really passes are listed (``--tensor-parallel-size``
    only where the release's preset sets it and ``parallelism.tensor`` is set; TLS flags only with TLS on).
    Flags are in their dashed spelling; vLLM reads ``--served_model_name`` as the same flag."""
    par = "spec.prefill.parallelism" if pod.startswith("prefill") else "spec.parallelism"
    owned: dict[str, str] = {}
    tokens = vllm_argv(composition, pod)
    if not tokens or not tokens[0][1].startswith("preset:"):
        return owned
    for token, source in tokens:
        flags: tuple[str, ...] = ()
        if source.startswith("preset:") and token.startswith("--"):
            flags = (token.split("=", 1)[0],)
        elif source == POD_RUNTIME:
            flags = RUNTIME_FLAGS.get(token.strip("${}"), ())
        elif source.startswith("preset:") and token == "/mnt/models":
            flags = ("--model",)
        for flag in flags:
            owned[flag] = FLAG_FIELDS.get(flag, "none: set by the preset script").format(par=par, pod=pod)
    return owned

"""Shell launch scripts in runtime containers, and KServe's multi-node GPU arithmetic.

Launch scripts. Some runtimes start their server from ``bash -c <script>`` (or ``sh -c``).
Kubernetes runs ``command + args``; bash gives the first word after the script to ``$0`` and
the rest to ``$@``. Two forms exist:

* script in ``args`` (old form): ``command: [bash, -c]``, ``args: [<script>, ...]``: whatever
  follows the script becomes ``$0``, ``$1``... of a script that usually ignores them;
* script in ``command`` (current form): ``command: [bash, -c, <script>]``, ``args: [...]``, the
  script ending in ``$0 $@`` or ``$@``: unquoted, so every argument is word-split and globbed.

:func:`normalise` rewrites either form into ``command: [bash, -c, <script>, LAUNCH_NAME]`` with
the script forwarding a quoted ``"$@"``, and ``args`` holding every argument: ``$0`` is a fixed
name, so each arg reaches the server as one unchanged argv item. A script whose launch line
has no forwarding gets ``"$@"`` appended to its last command.

GPU arithmetic. For a multi-node InferenceService KServe computes the Ray node count and the
GPUs of the head and of each worker from ``tensorParallelSize * pipelineParallelSize`` and the
GPU *requests* of the merged head and worker containers (:func:`plan_gpus`); the runtime
annotation ``multinode/executor-backend: mp`` switches to one node per pipeline stage.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping

from ..lazydataclass import dataclass

SHELLS = frozenset({"bash", "sh"})
LAUNCH_NAME = "kserve-cmp-launch"
FORWARD = '"$@"'
FORM_COMMAND = "command"
FORM_ARGS = "args"

_ZERO_WORDS = frozenset({"$0", "${0}", '"$0"', '"${0}"'})
_FORWARD_WORDS = frozenset({"$@", "${@}", '"$@"', '"${@}"', "$*", "${*}", '"$*"', '"${*}"'})
_OPERATORS = ("&&", "||", ";;", ">>", "<<", ";", "&", "|", "(", ")", "<", ">")
_SEPARATORS = frozenset(" \t\r\n;&|()<>")
_POSITIONAL = re.compile(r"(?<!\\)\$(?:[1-9]|\{[1-9][0-9]*\}|#|\{#\})")
_SINGLE_QUOTED = re.compile(r"'[^']*'")
_TRAILING_BLANKS = re.compile(r"[ \t]+\n")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.S)
_FLAG = re.compile(r"^(--[A-Za-z][A-Za-z0-9_.-]*)")
#: First words of a last command to which appending ``"$@"`` would not reach a server.
_NOT_A_SERVER = frozenset({"fi", "done", "esac", "}", "wait", "then", "else", "elif", "do", "exit", "return",
                           "sleep", "echo", "true", "false", "if", "while", "until", "for", "case"})


class ScriptError(ValueError):
    """A launch script kserve-cmp cannot rewrite safely (the message says why)."""


@dataclass(frozen=True)
class Word:
    """One shell word or operator of a script, with its place in the text."""

    text: str
    start: int
    end: int
    line: int          # logical line (backslash-newline continues a line)
    operator: bool = False


@dataclass(frozen=True)
class Launch:
    """A container whose server is started by ``<shell> -c <script>``.

    ``params`` are the words bash receives after the script (``$0``, ``$1``...): the rest of
    ``command`` and then ``args``. ``named`` is true when ``command`` itself holds a word after
    the script: that word is then a fixed ``$0``, not an argument.
    """

    shell: tuple[str, ...]
    script: str
    form: str
    params: tuple[str, ...]
    named: bool

    @property
    def forwarding(self) -> Forwarding:
        return forwarding_of(self.script)

    def server_args(self) -> list[str]:
        """The words meant for the server: every param, except a fixed ``$0`` name."""
        if self.named and not self.forwarding.uses_zero:
            return list(self.params[1:])
        return list(self.params)

    def is_normal(self) -> bool:
        """True when the container already passes every argument intact."""
        fw = self.forwarding
        return self.form == FORM_COMMAND and self.named and fw.present and fw.quoted and not fw.uses_zero

    def dropped(self) -> list[str]:
        """Words the script as written never passed to the server (its ``$0``, or all of them)."""
        if self.is_normal():
            return []
        fw = self.forwarding
        if not fw.present:
            return self.server_args()
        if not fw.uses_zero and not self.named:
            return list(self.params[:1])
        return []


@dataclass(frozen=True)
class Forwarding:
    """How a script passes its own arguments on."""

    present: bool      # some word forwards ``$@`` / ``$*``
    quoted: bool       # every forwarding word is ``"$@"``
    uses_zero: bool    # ``$0`` is forwarded with them (``$0 $@``)


@dataclass(frozen=True)
class Normalised:
    """A launch rewritten to pass every argument intact; ``changed`` is False when it already did."""

    command: list[str]
    args: list[str]
    changed: bool
    dropped: list[str]


def find_launch(container: Mapping) -> Launch | None:
    """The container's launch script, or None when its server is not started by ``sh/bash -c``."""
    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    if not command or posixpath.basename(command[0]) not in SHELLS:
        return None
    index, has_c = _skip_shell_options(command)
    if not has_c:
        return None
    if index < len(command):
        rest = command[index + 1:]
        return Launch(tuple(command[:index]), command[index], FORM_COMMAND, tuple(rest + args), bool(rest))
    if not args:
        return None
    return Launch(tuple(command), args[0], FORM_ARGS, tuple(args[1:]), False)


def normalise(launch: Launch) -> Normalised:
    """``command``/``args`` that run the same script and hand the server every argument intact."""
    if launch.is_normal():
        command = [*launch.shell, launch.script, launch.params[0]]
        return Normalised(command, list(launch.params[1:]), False, [])
    script = rewrite_script(launch.script)
    return Normalised([*launch.shell, script, LAUNCH_NAME], launch.server_args(), True, launch.dropped())


def rewrite_script(script: str) -> str:
    """The script forwarding its arguments as a quoted ``"$@"`` (appended when it did not forward)."""
    _check_positionals(script)
    words = shell_words(script)
    edits = _forwarding_edits(words)
    if not any(w.text in _FORWARD_WORDS for w in words if not w.operator):
        edits = [_append_edit(words)]
    out = script
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text + out[end:]
    return _strip_trailing_blanks(out)


def forwarding_of(script: str) -> Forwarding:
    """Whether and how ``script`` forwards its arguments."""
    words = [w for w in shell_words(script) if not w.operator]
    forward = [w for w in words if w.text in _FORWARD_WORDS]
    uses_zero = any(a.text in _ZERO_WORDS and b.text in _FORWARD_WORDS and a.line == b.line
                    for a, b in zip(words, words[1:]))
    return Forwarding(bool(forward), all(w.text == FORWARD for w in forward), uses_zero)


def launch_flags(script: str) -> list[str]:
    """Flags the script itself passes on its launch line(s), sorted and unique.

    The launch lines are those that forward ``$@`` (without any, the last command line); a flag
    hidden in a variable expanded on such a line (``export X="--model_dir=..."`` ...
    ``server ${X} "$@"``) counts too.
    """
    words = shell_words(script)
    lines = {w.line for w in words if w.text in _FORWARD_WORDS} or {w.line for w in words[-1:]}
    launch = [w for w in words if w.line in lines and not w.operator]
    values = _assignments(words)
    found: set[str] = set()
    for word in launch:
        found.update(_flags_in(_unquoted(word.text)))
        for name in _VARIABLE.findall(word.text):
            for value in values.get(name, ()):
                found.update(_flags_in(value))
    return sorted(found)


def shell_words(script: str) -> list[Word]:
    """The words and operators of a shell script (comments skipped, quotes kept in the text).

    A simplified POSIX shell lexer: enough to find words such as ``$0``, ``"$@"`` and flags;
    ``$(...)``/``${...}`` stay inside their word, here-documents are not recognised.
    """
    words: list[Word] = []
    i, line, n = 0, 0, len(script)
    while i < n:
        c = script[i]
        if c == "\\" and script[i + 1:i + 2] == "\n":
            i += 2
        elif c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            end = script.find("\n", i)
            i = n if end < 0 else end
        elif c in _SEPARATORS:
            op = next(o for o in _OPERATORS if script.startswith(o, i))
            words.append(Word(op, i, i + len(op), line, True))
            i += len(op)
        else:
            end = _word_end(script, i)
            words.append(Word(script[i:end], i, end, line))
            i = end
    return words


# --- GPU arithmetic ---------------------------------------------------------------------------

#: Resource names KServe counts as GPUs (requests only).
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu", "intel.com/gpu", "habana.ai/gaudi")
EXECUTOR_ANNOTATION = "multinode/executor-backend"
BACKEND_RAY = "ray"
BACKEND_MP = "mp"


class GpuError(ValueError):
    """The requested parallelism does not fit the GPUs the head and workers request."""


@dataclass(frozen=True)
class GpuPlan:
    """Ray nodes (head + workers) and GPUs per node, as the KServe controller computes them."""

    tensor_parallel: int
    pipeline_parallel: int
    backend: str
    nodes: int
    head_gpus: int
    worker_gpus: int

    @property
    def total_gpus(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def workers(self) -> int:
        return self.nodes - 1


def executor_backend(runtime: Mapping) -> str:
    """``mp`` when the runtime's pod annotations choose it, else ``ray``."""
    annotations = (runtime.get("spec") or {}).get("annotations") or {}
    return BACKEND_MP if annotations.get(EXECUTOR_ANNOTATION) == BACKEND_MP else BACKEND_RAY


def gpu_request(resources: Mapping | None) -> tuple[str | None, int]:
    """(GPU resource name, count) from a container's requests; (None, 0) when it requests none."""
    requests = (resources or {}).get("requests") or {}
    for name in sorted(requests):
        if name in GPU_RESOURCES:
            return name, _whole(requests[name], name)
    return None, 0


def plan_gpus(tensor_parallel: int, pipeline_parallel: int, head_request: int, worker_request: int,
              backend: str = BACKEND_RAY) -> GpuPlan:
    """Node count and GPUs per head/worker for ``tp * pp`` GPUs (raises GpuError if they do not fit).

    ``mp``: one node per pipeline stage, ``tp`` GPUs on each. ``ray``: workers requesting GPUs
    set the node count (total divided by a worker's GPUs, rounded up) and the head takes the
    remainder unless it requests its own; a head that alone covers the total runs without
    workers; with only the head requesting GPUs, single-GPU workers cover the rest; with no GPU
    request anywhere there is one single-GPU node per GPU.
    """
    total = tensor_parallel * pipeline_parallel

    def plan(nodes: int, head: int, worker: int) -> GpuPlan:
        return GpuPlan(tensor_parallel, pipeline_parallel, backend, nodes, head, worker)

    if backend == BACKEND_MP:
        return plan(pipeline_parallel, tensor_parallel, tensor_parallel)
    if worker_request > 0:
        nodes = math.ceil(total / worker_request)
        head = head_request if head_request > 0 else total - worker_request * (nodes - 1)
        if head_request > 0 and head_request >= total:
            nodes = 1
        result = plan(1, total, 0) if nodes == 1 else plan(nodes, head, worker_request)
    elif head_request > 0:
        result = plan(1 + max(total - head_request, 0), head_request, 1)
    else:
        return plan(total, 1, 1)
    available = result.head_gpus + result.worker_gpus * result.workers
    if total > available:
        raise GpuError(f"{total} GPUs needed (tensor {tensor_parallel} x pipeline {pipeline_parallel}) but "
                       f"the head requests {result.head_gpus} and {result.workers} worker(s) "
                       f"{result.worker_gpus} each")
    return result


# --- helpers ------------------------------------------------------------------------------------

def _skip_shell_options(command: list[str]) -> tuple[int, bool]:
    """(index of the first non-option word after the shell, whether ``-c`` was given)."""
    index, has_c = 1, False
    while index < len(command):
        word = command[index]
        if word in ("-o", "+o"):
            index += 2
            continue
        if word == "--":
            return index + 1, has_c
        if len(word) < 2 or word[0] not in "-+" or word.startswith("--"):
            break
        has_c = has_c or (word[0] == "-" and "c" in word[1:])
        index += 1
    return index, has_c


def _check_positionals(script: str) -> None:
    """Refuse scripts that read ``$1``, ``$#`` or ``shift``: their numbering would change."""
    reads = [w.text for w in shell_words(script) if not w.operator
             and (_POSITIONAL.search(_SINGLE_QUOTED.sub("", w.text)) or w.text == "shift")]
    if reads:
        raise ScriptError(f"the launch script reads its arguments one by one ({', '.join(sorted(set(reads)))}); "
                          f"kserve-cmp only rewrites scripts that forward them all with $@")


def _forwarding_edits(words: list[Word]) -> list[tuple[int, int, str]]:
    """Replacements turning ``$0 $@``, ``$@``, ``$*``... into ``"$@"``."""
    plain = [w for w in words if not w.operator]
    edits: list[tuple[int, int, str]] = []
    skip: set[int] = set()
    for i, word in enumerate(plain):
        if i in skip or word.text not in _FORWARD_WORDS and word.text not in _ZERO_WORDS:
            continue
        nxt = plain[i + 1] if i + 1 < len(plain) else None
        if word.text in _ZERO_WORDS:
            if nxt is not None and nxt.text in _FORWARD_WORDS and nxt.line == word.line:
                edits.append((word.start, nxt.end, FORWARD))
                skip.add(i + 1)
            continue
        if word.text != FORWARD:
            edits.append((word.start, word.end, FORWARD))
    return edits


def _append_edit(words: list[Word]) -> tuple[int, int, str]:
    """Append ``"$@"`` to the script's last command (refused where it would not reach a server).

    The last command is the last simple command of the last line: the words after its last
    ``;``/``&&``. Refused when it is a shell keyword or a builtin that is no server (``fi``,
    ``done``, ``wait``...), or when the line pipes or backgrounds it.
    """
    if not any(not w.operator for w in words):
        raise ScriptError("the launch script is empty")
    line = [w for w in words if w.line == words[-1].line]
    while line and line[-1].text == ";":
        line = line[:-1]
    cut = max((i for i, w in enumerate(line) if w.operator), default=-1)
    command = line[cut + 1:]
    text = " ".join(w.text for w in line)
    if not command or command[0].text in _NOT_A_SERVER or any(w.text in ("|", "||", "&", ";;") for w in line) \
            or (cut >= 0 and line[cut].text not in (";", "&&")):
        raise ScriptError(f"cannot tell which command starts the server (the script ends with {text!r}); "
                          f"end the launch command with \"$@\"")
    end = command[-1].end
    return end, end, " " + FORWARD


def _strip_trailing_blanks(script: str) -> str:
    """Blanks before a line end removed where they are not part of a word (quoted or escaped).

    Such blanks mean nothing to the shell, and without them the script can be written as a
    readable YAML block.
    """
    spans = [(w.start, w.end) for w in shell_words(script) if not w.operator]
    out, pos = [], 0
    for match in _TRAILING_BLANKS.finditer(script):
        if any(start <= match.start() < end for start, end in spans):
            continue
        out.append(script[pos:match.start()])
        pos = match.end() - 1
    out.append(script[pos:])
    return "".join(out)


def _word_end(script: str, i: int) -> int:
    """End of the word starting at ``i`` (quotes, escapes and ``$(...)``/``${...}`` respected)."""
    n = len(script)
    quote = ""
    while i < n:
        c = script[i]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            i += 1
        elif c == "$" and script[i + 1:i + 2] in ("(", "{"):
            i = _closing(script, i + 1)
        elif c == '"':
            quote = "" if quote else '"'
        elif c == "'" and not quote:
            quote = "'"
        elif not quote and c in _SEPARATORS:
            return i
        i += 1
    return n


def _closing(script: str, i: int) -> int:
    """Index of the bracket closing the one at ``i`` (nesting counted; end of text if none)."""
    opening = script[i]
    closing = ")" if opening == "(" else "}"
    depth = 0
    for j in range(i, len(script)):
        if script[j] == opening:
            depth += 1
        elif script[j] == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(script) - 1


def _assignments(words: list[Word]) -> dict[str, list[str]]:
    """Every value assigned to each variable (``X=v`` or ``export X=v``), quotes removed."""
    values: dict[str, list[str]] = {}
    for word in words:
        match = _ASSIGNMENT.match(word.text) if not word.operator else None
        if match:
            values.setdefault(match.group(1), []).append(_unquoted(match.group(2)))
    return values


def _flags_in(text: str) -> set[str]:
    """Flag names (``--k`` of ``--k=v``) among the whitespace-separated words of ``text``."""
    found = set()
    for part in text.split():
        match = _FLAG.match(part)
        if match:
            found.add(match.group(1))
    return found


def _unquoted(text: str) -> str:
    """``text`` without shell quote characters (good enough to read flag names)."""
    return text.replace('"', "").replace("'", "")


def _whole(quantity: object, name: str) -> int:
    """A GPU quantity as a whole number (``2``, ``"2"``); GpuError otherwise."""
    text = str(quantity).strip()
    if isinstance(quantity, bool) or not text.isdigit():
        raise GpuError(f"{name}: GPU quantity must be a whole number, got {quantity!r}")
    return int(text)

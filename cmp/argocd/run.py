"""One ``generate`` run as bytes for stdout and stderr and an exit code, written without click.

``kserve-cmp generate`` (plugin.yaml's command) runs once per Application and per refresh, so
its process is kept lean: no click, nothing imported that the render does not need, the output
written with one checked write per stream and the interpreter left with ``os._exit`` (its
shutdown costs ~10 ms and has nothing to flush). ``outcome`` is shared by this in-process path,
the warm render server's children (``cmp.argocd.server``) and ``cmp.cli``'s ``generate``
command, so all three print the same bytes.
"""

from __future__ import annotations

import os
from typing import Callable, Mapping

TERMINATED = b"terminated (SIGTERM): render stopped, nothing printed\n"


def format_problems(problems: list) -> str:
    """Each problem on one line, in file and line order; those without a file (a tool's failure,
    a closing note) after them, in the order found (as ``cmp.cli.emit_problems``)."""
    ordered = sorted(problems, key=lambda p: (p.file is None, p.file or "", p.line or 0))
    return "".join(p.format() + "\n" for p in ordered)


def outcome(environ: Mapping[str, str], app_dir: str = ".") -> tuple[str, str, int]:
    """``(stdout, stderr, exit code)`` of ``kserve-cmp generate`` in ``app_dir``; never raises
    (except with ``KSERVE_CMP_DEBUG`` set, where a bug keeps its traceback)."""

    def action() -> tuple[str, str, int]:
        from ..safetext import visible
        from .generate import generate

        result = generate(environ, app_dir)
        return result.text, format_problems(result.warnings) + visible(result.summary) + "\n", 0

    return guarded(action, environ)


def guarded(action: Callable[[], tuple[str, str, int]], environ: Mapping[str, str]) -> tuple[str, str, int]:
    """``action()``'s ``(stdout, stderr, exit code)``, or those of its failure, formatted as
    ``cmp.cli.run_guarded`` prints them (also used by ``cmp.plainrender``)."""
    from ..problems import CmpError
    from ..safetext import visible

    try:
        return action()
    except CmpError as exc:
        return "", format_problems(exc.warnings + exc.problems), exc.exit_code
    except KeyboardInterrupt:
        return "", "", 130
    except Exception as exc:  # a bug: one line, no traceback, unless debugging
        if environ.get("KSERVE_CMP_DEBUG"):
            raise
        return "", (visible(f"internal error: {type(exc).__name__}: {exc}") +
                    " (set KSERVE_CMP_DEBUG=1 for a traceback)\n"), 3


def write_all(fd: int, data: bytes) -> OSError | None:
    """Write every byte of ``data`` to ``fd``; the error that stopped it, or None."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except InterruptedError:
            continue
        except OSError as exc:
            return exc
    return None


def emit(out: str, err: str, code: int) -> int:
    """Write ``err`` to fd 2, then ``out`` to fd 1; the exit code (1 when stdout could not take it all)."""
    write_all(2, err.encode("utf-8", "backslashreplace"))
    failed = write_all(1, out.encode("utf-8"))
    if failed is not None:
        write_all(2, f"cannot write the manifests to stdout: {failed.strerror}\n".encode())
        return code or 1
    return code


def end_tools_on_sigterm() -> None:
    """On SIGTERM (Argo CD's deadline), end running kustomize builds too, then exit 143."""
    import signal

    def handler(signum: int, frame: object) -> None:
        terminate()

    signal.signal(signal.SIGTERM, handler)


def terminate(message: bool = True) -> None:
    """End running tools, say so on stderr, exit 143 (no cleanup of ours is left to run)."""
    import sys

    kustomize = sys.modules.get("cmp.source.kustomize")
    if kustomize is not None:  # not imported: no build ever started
        kustomize.terminate_tools()
    if message:
        write_all(2, TERMINATED)
    os._exit(143)


def main() -> None:
    """``kserve-cmp generate`` in this process: render, write, ``os._exit``."""
    end_tools_on_sigterm()
    out, err, code = outcome(os.environ)
    os._exit(emit(out, err, code))

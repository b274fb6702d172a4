"""The ``kserve-cmp`` command: the Argo CD entry points without click, the rest through it.

``kserve-cmp generate`` is plugin.yaml's command, run once per Application and refresh: it,
``kserve-cmp serve`` and a ``kserve-cmp render`` given only paths (``cmp.plainrender``) are
dispatched here, before click (~15-20 ms of imports) is loaded. Anything
else (other commands, ``--help``, a mistyped option) goes to ``cmp.cli``, which also knows both.
"""

from __future__ import annotations

import sys

GENERATE = ["generate"]
GENERATE_VIA_SERVER = ["generate", "--server"]
SERVE = ["serve"]


def plain_render(args: list[str]) -> bool:
    """``render`` followed by paths only (``-`` is stdin): no argument click would read as an option."""
    return args[:1] == ["render"] and all(a == "-" or not a.startswith("-") for a in args[1:])


def main(args: list[str] | None = None, prog_name: str | None = None) -> None:
    """The ``kserve-cmp`` command (``bin/kserve-cmp``, installed by pyproject.toml's ``script-files``)."""
    args = sys.argv[1:] if args is None else args
    if args == GENERATE:
        from .argocd import run

        run.main()
    elif args == GENERATE_VIA_SERVER:
        from .argocd import client

        client.main(GENERATE)
    elif args == SERVE:
        from .argocd import server

        server.main()
    elif plain_render(args):
        from . import plainrender

        plainrender.main(args[1:])
    from .cli import main as cli_main

    cli_main(args=args, prog_name=prog_name)

"""The ``kserve-cmp`` command: the Argo CD entry points without click, the rest through it.

``kserve-cmp generate`` is plugin.yaml's command, run once per Application and refresh: it and
``kserve-cmp serve`` are dispatched here, before click (~20 ms of imports) is loaded. Anything
else (other commands, ``--help``, a mistyped option) goes to ``cmp.cli``, which also knows both.
"""

from __future__ import annotations

import sys

GENERATE = ["generate"]
GENERATE_VIA_SERVER = ["generate", "--server"]
SERVE = ["serve"]


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
    from .cli import main as cli_main

    cli_main(args=args, prog_name=prog_name)

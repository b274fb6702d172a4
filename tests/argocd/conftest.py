"""Every imitated sidecar stops at the end of its test, with whatever its plugin left running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from argocd.cmpserver import CmpServer, stop_sidecar


@pytest.fixture(autouse=True)
def _sidecars_stop() -> Iterator[None]:
    yield
    while CmpServer.instances:
        stop_sidecar(CmpServer.instances.pop().temp_root)

"""Listening-port flags, and keeping a container's ports and probes in step with them.

A server started with ``--port=9000`` listens on 9000, but the runtime's ``ports`` entry and its
probes still name the port the runtime was written for. :func:`port_changes` compares the port
flags of two argument lists; :func:`rewrite_ports` moves ``ports[].containerPort`` and every probe
port (``httpGet``, ``tcpSocket``, ``grpc``) from the old number to the new one.

When a container declares no port, KServe and Knative send traffic to 8080; a container moved
off 8080 therefore gets an explicit ``ports`` entry for its new port.
"""

from __future__ import annotations

from collections.abc import Mapping

from cmp.kserve.flags import FlagRules, canonical_key, parse_args

#: Flags that set a port the server listens on (all spellings the official runtimes use).
PORT_FLAGS = ("--port", "--http_port", "--http-port", "--grpc_port", "--grpc-port")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("httpGet", "tcpSocket", "grpc")
DEFAULT_TRAFFIC_PORT = 8080
#: The runtime ``spec.annotations`` key naming the metrics port (served on the HTTP port).
METRICS_PORT_ANNOTATION = "prometheus.kserve.io/port"
#: KServe's Python model servers (each a package with a ``__main__.py`` that builds on KServe's
#: own argument parser); their port defaults apply to a flag the runtime does not set.
KSERVE_PYTHON_SERVERS = frozenset(
    {
        "autogluonserver",
        "huggingfaceserver",
        "lgbserver",
        "paddleserver",
        "pmmlserver",
        "predictiveserver",
        "sklearnserver",
        "xgbserver",
    }
)
_KSERVE_PYTHON_DEFAULTS = {"--http_port": 8080, "--grpc_port": 8081}


def default_ports(server: str, rules: FlagRules) -> dict[str, int]:
    """Canonical port flag -> the port the server listens on when the flag is not given."""
    if server not in KSERVE_PYTHON_SERVERS:
        return {}
    return {_key(flag, rules): port for flag, port in _KSERVE_PYTHON_DEFAULTS.items()}


def port_values(args: list[str], rules: FlagRules, meta: dict | None) -> dict[str, int]:
    """Canonical port flag -> its integer value in ``args`` (the last one wins, as in argparse)."""
    keys = {_key(flag, rules) for flag in PORT_FLAGS}
    values: dict[str, int] = {}
    parsed = parse_args(
        args, normalize_underscores=rules.normalize_underscores, repeatable=rules.repeatable, meta=meta,
        parser=rules.parser,
    )
    for arg in parsed:
        if arg.key in keys and arg.value is not None and arg.value.strip().isdigit():
            values[arg.key] = int(arg.value)
    return values


def port_changes(
    before: list[str],
    after: list[str],
    rules: FlagRules,
    meta: dict | None,
    defaults: Mapping[str, int],
) -> dict[int, int]:
    """Old port -> new port for every port flag whose value differs between the two lists."""
    old = {**defaults, **port_values(before, rules, meta)}
    new = port_values(after, rules, meta)
    return {old[k]: v for k, v in sorted(new.items()) if k in old and old[k] != v}


def rewrite_ports(container: dict, changes: Mapping[int, int], *, declare: bool = True) -> list[str]:
    """Apply ``changes`` to the container's ports and probes in place; the changed field paths.

    With ``declare``, a container without ports that moves off 8080 gets a ``ports`` entry.
    """
    changed: list[str] = []
    for i, port in enumerate(container.get("ports") or []):
        if port.get("containerPort") in changes:
            port["containerPort"] = changes[port["containerPort"]]
            changed.append(f"ports[{i}].containerPort")
    for probe in PROBES:
        for handler in PROBE_HANDLERS:
            spec = (container.get(probe) or {}).get(handler)
            if isinstance(spec, dict) and spec.get("port") in changes:
                spec["port"] = changes[spec["port"]]
                changed.append(f"{probe}.{handler}.port")
    if declare and not container.get("ports") and DEFAULT_TRAFFIC_PORT in changes:
        container["ports"] = [
            {"containerPort": changes[DEFAULT_TRAFFIC_PORT], "name": "http1", "protocol": "TCP"}
        ]
        changed.append("ports")
    return changed


def rewrite_metrics_port(annotations: dict, changes: Mapping[int, int]) -> bool:
    """Move the runtime's metrics-port annotation with its port; True when it changed."""
    value = annotations.get(METRICS_PORT_ANNOTATION)
    if value is None or not str(value).isdigit() or int(value) not in changes:
        return False
    annotations[METRICS_PORT_ANNOTATION] = str(changes[int(value)])
    return True


def _key(flag: str, rules: FlagRules) -> str:
    """Canonical key of a port flag under ``rules``."""
    declared = rules.parser.key(flag) if rules.parser is not None else None
    return declared or canonical_key(flag, normalize_underscores=rules.normalize_underscores)

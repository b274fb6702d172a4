"""The transformer container as KServe's controller builds it from ``spec.transformer.containers[0]``.

Unlike the predictor, nothing is merged into it: the controller appends the arguments a KServe
model server needs when no argument starts with their flag (``GetContainer`` in
``pkg/apis/serving/v1beta1/transformer_custom.go``: ``--model_name <isvc>``, ``--predictor_host
<predictor service>.<namespace>``, ``--http_port 8080``, and ``--workers <containerConcurrency>``
when the transformer sets one; the check is a prefix match, ``IncludesArg`` in
``pkg/utils/collections.go``), then sets ``INFERENCE_SERVICE_NAME`` on it
(``pkg/controller/v1beta1/inferenceservice/components/transformer.go``). Modelled on v0.20.0; the
same in every shipped release.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from .defaults import set_env

SOURCE = "KServe's controller when missing (GetContainer, pkg/apis/serving/v1beta1/transformer_custom.go)"
DEFAULT_HTTP_PORT = "8080"


def predictor_host(isvc: Mapping) -> str:
    """``<name>[-<predictor name>]-predictor.<namespace>`` (``PredictorServiceName``, pkg/constants)."""
    meta = isvc.get("metadata") or {}
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    name = meta.get("name", "")
    service = f"{name}-{predictor['name']}-predictor" if predictor.get("name") else f"{name}-predictor"
    return f"{service}.{meta.get('namespace') or '<namespace>'}"


def assemble_transformer_container(isvc: Mapping) -> tuple[dict, int] | None:
    """(the container KServe runs, how many of its args KServe appended), or None without a transformer."""
    transformer = (isvc.get("spec") or {}).get("transformer") or {}
    containers = transformer.get("containers") if isinstance(transformer, Mapping) else None
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], Mapping):
        return None
    container = copy.deepcopy(dict(containers[0]))
    args = [a for a in container.get("args") or [] if isinstance(a, str)]
    given = len(args)
    wanted = [("--model_name", (isvc.get("metadata") or {}).get("name", "")),
              ("--predictor_host", predictor_host(isvc)),
              ("--http_port", DEFAULT_HTTP_PORT)]
    concurrency = transformer.get("containerConcurrency")
    if isinstance(concurrency, int) and not isinstance(concurrency, bool):
        wanted.append(("--workers", str(concurrency)))
    for flag, value in wanted:
        if not any(a.startswith(flag) for a in args):
            args += [flag, value]
    if args:
        container["args"] = args
    set_env(container, [("INFERENCE_SERVICE_NAME", (isvc.get("metadata") or {}).get("name", ""))])
    return container, len(args) - given

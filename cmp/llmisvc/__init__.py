"""Offline composition of an LLMInferenceService, as KServe's controller composes it in the cluster.

KServe (serving.kserve.io/v1alpha2, v0.17+) builds an LLM's pods from well-known presets
(``LLMInferenceServiceConfig``, chosen by the service's shape), merged with the service by strategic merge,
then runs the whole merged spec through Go's ``text/template`` against the *unmerged* service. This package
does the same from the presets each shipped release installs (``cmp/catalog/llmisvc/<tag>.json``), so that
kserve-cmp knows the composed spec, where each value comes from, the final vLLM command line and the names
of the objects the controller will create, before anything reaches a cluster. Pure: no I/O beyond reading
the shipped data.

API (names are stable)::

    select_presets(spec, release) -> list[Preset]
        the presets the controller of ``release`` merges, in order, each with ``name``, ``reason``,
        ``release``, ``file`` (upstream path) and ``shipped`` (False: the controller would stop with
        ConfigNotFound, e.g. a worker-pipeline-parallel preset, which no release ships);
    compose(service, release, *, global_config=None, configs=None) -> Composition
        ``.presets``; ``.spec`` the composed, templated spec; ``.origins`` leaf path tuple (relative to
        ``spec``) -> ``"preset:<name>@<release>"`` | ``"config:<name>"`` | ``"service"`` | ``"crd-default"``
        (a default of the CRD schema the API server writes into the stored service) | ``"webhook"`` |
        ``"controller"``; ``configs`` (name -> spec) are the app's LLMInferenceServiceConfigs in the
        service's namespace: they supply ``baseRefs`` and replace a preset of the same name;
        ``.problems`` what the controller would fail on (missing preset, merge or template failure, ``{{``
        in a user string), as :class:`cmp.problems.Problem` values with a dotted ``path``; never raises for
        the service's content. ``global_config`` overrides :data:`GLOBAL_CONFIG_DEFAULTS` (``EnableTLS``,
        ``IngressGatewayName``, ``IngressGatewayNamespace``, ``ModelBasedRoutingHeaderName``,
        ``SystemNamespace``);
    vllm_argv(composition, pod="template") -> list[tuple[str, str]]
        the effective vLLM command line of a pod (``template``, ``worker``, ``prefill.template``,
        ``prefill.worker``): the preset's script with ``$@`` expanded by the pod's ``args``, as (token, source);
    preset_owned_flags(composition, pod="template") -> dict[str, str]
        each flag the preset's script sets -> the LLMInferenceService field that controls it;
    child_names(service, composition) -> dict[str, str]
        ``"<Kind>/<role>"`` -> the name the controller gives it (``kmeta.ChildName``, hashed past 63);
    child_name(parent, suffix) -> str
        knative's ``kmeta.ChildName``.

``release`` is a shipped tag or any version :func:`cmp.catalog.resolve` accepts (``v0.20``). The service is
a plain LLMInferenceService document (``metadata.name`` and ``metadata.namespace`` are templated into the
presets: pass the namespace the object lands in).
"""

from __future__ import annotations

import sys
import types
from importlib import import_module

#: The API: each name and the module of this package that defines it. The modules load on the
#: first use of a name (some 12 ms of imports), so a render without an LLMInferenceService never
#: loads them; ``tests/llmisvc/test_package.py`` checks both.
_API = {"preset_owned_flags": "argv", "vllm_argv": "argv", "GLOBAL_CONFIG_DEFAULTS": "compose",
        "Composition": "compose", "compose": "compose", "child_name": "names", "child_names": "names",
        "Preset": "presets", "select_presets": "presets"}
__all__ = sorted(_API)

#: The pod specs of an LLMInferenceService spec: key (as the API's ``pod`` arguments name them) -> path,
#: in the order they are shown. A plain constant, loaded with the package.
POD_PATHS = {"template": ("template",), "worker": ("worker",), "prefill.template": ("prefill", "template"),
             "prefill.worker": ("prefill", "worker")}


def __getattr__(name: str) -> object:
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_API[name]}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Importing the module ``compose`` sets the package's attribute of that name; the API's
    function of the same name stays what ``cmp.llmisvc.compose`` is, whichever loads first."""

    def __setattr__(self, name: str, value: object) -> None:
        if not (name in _API and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

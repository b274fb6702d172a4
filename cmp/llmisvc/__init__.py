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

from .argv import preset_owned_flags, vllm_argv
from .compose import GLOBAL_CONFIG_DEFAULTS, Composition, compose
from .names import child_name, child_names
from .presets import Preset, select_presets

__all__ = ["GLOBAL_CONFIG_DEFAULTS", "Composition", "Preset", "child_name", "child_names", "compose",
           "preset_owned_flags", "select_presets", "vllm_argv"]

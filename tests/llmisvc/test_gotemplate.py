"""cmp.llmisvc.gotemplate: the Go text/template subset the shipped presets use, evaluated as the controller does
(ReplaceVariables in pkg/controller/v1alpha2/llmisvc/config_merge.go)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from cmp import catalog
from cmp.llmisvc import compose, gotemplate
from cmp.llmisvc.compose import GLOBAL_CONFIG_DEFAULTS


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


RICH = {"metadata": {"name": "m", "namespace": "ns"},
        "spec": {"model": {"uri": "hf://o/m", "name": "m"},
                 "parallelism": {"tensor": 2, "data": 4, "dataLocal": 2, "dataRPCPort": 6000, "expert": True},
                 "template": {"terminationGracePeriodSeconds": 90}, "worker": {},
                 "kvCacheOffloading": {"cpu": "1Gi"},
                 "prefill": {"parallelism": {"tensor": 1, "data": 2, "dataLocal": 1}, "template": {}, "worker": {},
                             "kvCacheOffloading": {"cpu": "500M", "evictionPolicy": "lru",
                                                   "secondary": [{"fileSystem": {"emptyDir": {"size": "1Gi"}}}]}}}}


@pytest.mark.parametrize("tag", catalog.shipped())
def test_every_action_of_every_shipped_preset_is_in_the_subset(tag: str) -> None:
    key = catalog.version_key(tag)
    data = gotemplate.root(RICH, {**GLOBAL_CONFIG_DEFAULTS, "InferencePoolNamespacedName": "ns/p", "EnableTLS": True}, key)
    seen = 0
    for name, preset in catalog.llmisvc_presets(tag).items():
        for text in strings(preset["spec"]):
            seen += len(gotemplate.actions(text))
            gotemplate.render_string(text, data, gotemplate.functions_for(key))   # raises outside the subset
    assert seen > 0


def render(text: str, service: dict | None = None, **config: Any) -> str:
    return gotemplate.render_string(text, gotemplate.root(service or RICH, {**GLOBAL_CONFIG_DEFAULTS, **config}))


def test_fields_functions_and_conditions() -> None:
    assert render("{{ .Spec.Model.Name }}/{{ .ObjectMeta.Namespace }}") == "m/ns"
    assert render("{{ ChildName .ObjectMeta.Name `-kserve` }}") == "m-kserve"
    assert render("{{ or .Spec.Parallelism.DataLocal 1 }}") == "2"
    assert render("{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}") == "HTTP"
    assert render("{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}", EnableTLS=True) == "HTTPS"
    assert render("{{ shutdownTimeout .Spec.Template 15 }} {{ shutdownTimeout nil 15 }}") == "70 40"


def test_an_unset_pointer_prints_nil_and_a_field_through_it_fails() -> None:
    bare = {"metadata": {"name": "m"}, "spec": {"model": {"uri": "x"}}}
    assert render("{{ .Spec.Model.Name }}", bare) == "<nil>"
    assert render("{{ or .Spec.Parallelism 1 }}", bare) == "1"
    with pytest.raises(gotemplate.TemplateError, match="nil pointer evaluating"):
        render("{{ .Spec.Parallelism.Tensor }}", bare)


def test_a_pointer_to_zero_is_true() -> None:
    zero = {"metadata": {"name": "m"}, "spec": {"parallelism": {"tensor": 0}}}
    assert render("{{ if .Spec.Parallelism.Tensor }}set{{ end }}", zero) == "set"


def test_unknown_fields_and_functions_fail_as_go_fails() -> None:
    with pytest.raises(gotemplate.TemplateError, match="can't evaluate field Nope"):
        render("{{ .Spec.Nope }}")
    with pytest.raises(gotemplate.TemplateError, match="can't evaluate field Secret in type GlobalConfig"):
        render("{{ .GlobalConfig.Secret }}")
    with pytest.raises(gotemplate.TemplateError, match='function "bos_token" not defined'):
        render("{% if x %}{{ bos_token }}{% endif %}")
    with pytest.raises(gotemplate.TemplateError, match="unclosed action"):
        render("a {{ b")
    with pytest.raises(gotemplate.TemplateError, match="missing value for command"):
        render("{{}}")
    with pytest.raises(gotemplate.Unsupported):
        render('{{ printf "%d" 1 }}')


def test_trim_markers_work_on_the_json_text() -> None:
    # The template runs on the JSON of the merged spec: "{{-" trims the spaces after an escaped line break,
    # not the line break, so a bash line continuation survives.
    assert render("--port 8000 \\\n    {{- if .Spec.Parallelism.Tensor }} --tp 2{{- end }} \\\n  x") == \
        "--port 8000 \\\n --tp 2 \\\n  x"


def test_kv_transfer_config_is_escaped_for_json_and_bash() -> None:
    out = render("{{ kvTransferConfig .Spec.KVCacheOffloading }}")
    assert out.startswith("--kv-transfer-config '{") and '\\"kv_connector\\"' in out
    payload = json.loads(out[len("--kv-transfer-config '"):-1].replace('\\"', '"'))
    assert payload == {"kv_connector": "OffloadingConnector", "kv_role": "kv_both",
                       "kv_connector_extra_config": {"spec_name": "TieringOffloadingSpec", "cpu_bytes_to_use": 1 << 30}}
    assert render("{{ kvTransferConfig .Spec.Prefill.KVCacheOffloading }}").count("/mnt/kv-cache-0") == 1


def test_a_user_chat_template_is_a_problem_with_its_path() -> None:
    service = {"metadata": {"name": "m", "namespace": "ns"},
               "spec": {"model": {"uri": "hf://o/m"},
                        "template": {"containers": [{"name": "main", "args": ["--chat-template", "{{ messages }}"],
                                                     "env": [{"name": "OK", "value": "{{ .ObjectMeta.Name }}"}]}]}}}
    problems = {p.path: p for p in compose(service, "v0.20.0").problems}
    assert 'function "messages" not defined' in problems["spec.template.containers[0].args[1]"].message
    assert "it becomes 'm'" in problems["spec.template.containers[0].env[0].value"].message
    assert {p.rule for p in problems.values()} == {"llmisvc-template-user-text"}


def test_an_escaped_brace_is_the_literal_the_user_meant() -> None:
    """``{{ `{{` }}`` prints ``{{``: the escape the problem message asks for is no problem."""
    args = ["--chat-template={{`{{`}} m.content }}", "--x={{ `{{` }}", "--y={{`{{`}}{{ .Spec.Model.Name }}"]
    service = {"metadata": {"name": "m", "namespace": "ns"},
               "spec": {"model": {"uri": "hf://o/m"}, "template": {"containers": [{"name": "main", "args": args}]}}}
    composed = compose(service, "v0.20.0")
    assert composed.spec["template"]["containers"][0]["args"][:2] == ["--chat-template={{ m.content }}", "--x={{"]
    assert [p.path for p in composed.problems] == ["spec.template.containers[0].args[2]"]


def test_functions_and_global_config_fields_follow_the_release() -> None:
    # templateGlobalConfig and the Funcs of ReplaceVariables grew release by release (config_merge.go)
    old = gotemplate.root(RICH, GLOBAL_CONFIG_DEFAULTS, (0, 17, 1))
    with pytest.raises(gotemplate.TemplateError, match="can't evaluate field EnableTLS"):
        gotemplate.render_string("{{ .GlobalConfig.EnableTLS }}", old, gotemplate.functions_for((0, 17, 1)))
    with pytest.raises(gotemplate.TemplateError, match='function "shutdownTimeout" not defined'):
        gotemplate.render_string("{{ shutdownTimeout nil 15 }}", old, gotemplate.functions_for((0, 18, 1)))
    assert gotemplate.functions_for((0, 19, 0)) == {"ChildName", "shutdownTimeout"}
    assert render("{{ .GlobalConfig.IngressGatewayNamespace }}") == "kserve"


def test_a_missing_map_key_is_an_error() -> None:
    # Option("missingkey=error") in ReplaceVariables: a label or annotation the service lacks fails the pass
    service = {"metadata": {"name": "m", "labels": {"team": "a"}}, "spec": {}}
    assert render("{{ .ObjectMeta.Labels.team }}", service) == "a"
    with pytest.raises(gotemplate.TemplateError, match='map has no entry for key "owner"'):
        render("{{ .ObjectMeta.Labels.owner }}", service)

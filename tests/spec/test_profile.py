"""ClusterProfile parsing, located problems, and where a render takes its profile from."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmp.kserve.autoscaling import AutoscalerConfig
from cmp.pipeline import render_docs
from cmp.problems import CmpError, UsageError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from cmp.spec import profile
from helpers import run_cli

PROFILE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ClusterProfile
metadata:
  name: prod
spec:
  deploymentMode: {mode}
  kserve:
    version: {version}
  knative:
    configAutoscaler:
{data}
"""

MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: iris
spec:
  runtime: kserve-sklearnserver
  model:
    storageUri: gs://models/iris
  scaling:
    maxReplicas: 3
"""


def profile_doc(data: str = '      max-scale: "4"', mode: str = "Standard", version: str = "v0.20.0"):
    return load_stream(PROFILE.format(mode=mode, version=version, data=data), "profile.yaml")[0]


def messages(problems) -> list[tuple[str, str, str]]:
    return [(p.level, p.format(), p.rule) for p in problems]


def test_parse_full_profile() -> None:
    data = '\n'.join(['      _example: "ignored"', '      allow-zero-initial-scale: "True"',
                      '      enable-scale-to-zero: "false"', '      initial-scale: "0"', '      max-scale: "4"',
                      '      max-scale-limit: "10"', '      min-scale: "1"',
                      '      pod-autoscaler-class: "hpa.autoscaling.knative.dev"'])
    parsed, problems = profile.parse(profile_doc(data, mode="RawDeployment"))
    assert problems == []
    assert (parsed.name, parsed.deployment_mode, parsed.kserve_version) == ("prod", "Standard", "v0.20.0")
    assert parsed.autoscaler == AutoscalerConfig(initial_scale=0, allow_zero_initial_scale=True, min_scale=1,
                                                 max_scale=4, max_scale_limit=10, enable_scale_to_zero=False,
                                                 pod_autoscaler_class="hpa.autoscaling.knative.dev")


def test_missing_keys_take_knative_defaults() -> None:
    parsed, problems = profile.parse(profile_doc('      max-scale: "4"'))
    assert problems == []
    assert parsed.autoscaler == AutoscalerConfig(max_scale=4)
    assert parsed.where("max-scale") == "max-scale: 4 at profile.yaml:11"
    assert parsed.where("initial-scale") == ("Knative default initial-scale: 1 (cluster profile profile.yaml:1 "
                                             "does not set it)")
    assert profile.DEFAULT.where("max-scale") == "Knative default max-scale: 0 (no cluster profile)"


@pytest.mark.parametrize("data, expected", [
    ('      max-scale: 4', "profile.yaml:11: spec.knative.configAutoscaler.max-scale: expected a string, got an "
                          "integer (quote it)"),
    ('      max-scale: "four"', "profile.yaml:11: spec.knative.configAutoscaler.max-scale: expected an integer, "
                               "got 'four'"),
    ('      allow-zero-initial-scale: "yes"', "profile.yaml:11: spec.knative.configAutoscaler."
                                             "allow-zero-initial-scale: expected true or false, got 'yes'"),
    ('      initial-scale: "0"', "profile.yaml:11: spec.knative.configAutoscaler.initial-scale: initial-scale 0 "
                                "must be at least 1 (0 needs allow-zero-initial-scale: \"true\")"),
    ('      max-scale: "12"\n      max-scale-limit: "10"',
     "profile.yaml:11: spec.knative.configAutoscaler.max-scale: max-scale 12 must be between 1 and "
     "max-scale-limit 10"),
    ('      max-scale-limit: "10"', "profile.yaml:11: spec.knative.configAutoscaler.max-scale-limit: max-scale 0 "
                                   "must be between 1 and max-scale-limit 10"),
    ('      max-scale: "2"\n      min-scale: "3"', "profile.yaml:12: spec.knative.configAutoscaler.min-scale: "
                                                  "min-scale 3 is above max-scale 2"),
])
def test_config_values_knative_refuses(data: str, expected: str) -> None:
    parsed, problems = profile.parse(profile_doc(data))
    assert parsed is None
    assert messages(problems) == [("error", expected, "schema")]


def test_unknown_config_key_is_a_warning_with_a_guess() -> None:
    parsed, problems = profile.parse(profile_doc('      max-scale-limt: "3"'))
    assert parsed is not None
    assert messages(problems) == [(
        "warning", "profile.yaml:11: spec.knative.configAutoscaler.max-scale-limt: warning: unknown "
                   "config-autoscaler key 'max-scale-limt' (did you mean 'max-scale-limit'?) (Knative ignores it)",
        "schema")]


@pytest.mark.parametrize("version, expected", [
    ("0.20", "expected a string such as \"v0.20.0\", got a number (quote it)"),
    ("latest", "'latest' is not a KServe version (expected vMAJOR.MINOR[.PATCH], e.g. v0.20.0)"),
    ("v0.15.2", "KServe v0.15.2 is not supported: kserve-cmp renders deploymentMode Knative/Standard, which "
                "KServe knows from v0.17.0 on, and LLMInferenceService as serving.kserve.io/v1alpha2, which KServe "
                "serves from v0.17.0 on (v0.16 has only v1alpha1)"),
    ("v0.21.0", "KServe v0.21.0 is not a shipped release: kserve-cmp knows v0.17.1, v0.18.1, v0.19.0, v0.20.0 "
                "(default v0.20.0)"),
])
def test_kserve_version(version: str, expected: str) -> None:
    parsed, problems = profile.parse(profile_doc(version=version))
    assert parsed is None
    assert [(p.path, p.message) for p in problems] == [("spec.kserve.version", expected)]


def test_kserve_version_with_suffix_is_accepted() -> None:
    parsed, _ = profile.parse(profile_doc(version="v0.17.0-rc1"))
    assert parsed.kserve_version == "v0.17.0-rc1"


def test_unknown_spec_field() -> None:
    doc = load_stream(PROFILE.format(mode="Knative", version="v0.20.0", data='      max-scale: "4"')
                      .replace("  kserve:", "  kserv:"), "profile.yaml")[0]
    _, problems = profile.parse(doc)
    assert [p.message for p in problems] == ["unknown field 'kserv' (did you mean 'kserve'?)"]


def test_profile_is_consumed_and_applies() -> None:
    docs = load_stream(MODEL, "model.yaml") + [profile_doc()]
    result = render_docs(docs, Settings())
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    isvc = result.objects[0]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Standard"}
    assert result.consumed[-1].file == "profile.yaml"


def test_two_profiles_in_the_inputs() -> None:
    docs = load_stream(MODEL, "model.yaml") + [profile_doc()] + load_stream(
        PROFILE.format(mode="Knative", version="v0.20.0", data='      max-scale: "4"'), "other.yaml")
    with pytest.raises(CmpError) as raised:
        render_docs(docs, Settings())
    assert [p.format() for p in raised.value.problems] == [
        "other.yaml:1: a second ClusterProfile (one is given by profile.yaml:1); a render targets one cluster"]


def test_profile_from_the_setting(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "model.yaml").write_text(MODEL)
    (tmp_path / "cluster.yaml").write_text(PROFILE.format(mode="Knative", version="v0.20.0",
                                                          data='      max-scale-limit: "2"\n'
                                                               '      max-scale: "2"'))
    run = run_cli(["render", "app", "--cluster-profile", "cluster.yaml"], cwd=tmp_path)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr == ("app/model.yaml:10: spec.scaling.maxReplicas: maxReplicas 3 is above this cluster's "
                          "limit (max-scale-limit: 2 at cluster.yaml:11)\n")
    env = {"KSERVE_CMP_CLUSTER_PROFILE": "cluster.yaml"}
    assert run_cli(["render", "app"], cwd=tmp_path, env=env).stderr == run.stderr


def test_setting_and_input_profile_together(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(PROFILE.format(mode="Knative", version="v0.20.0",
                                                          data='      max-scale: "4"'))
    docs = load_stream(MODEL, "model.yaml") + [profile_doc()]
    with pytest.raises(CmpError) as raised:
        render_docs(docs, Settings(cluster_profile=str(tmp_path / "cluster.yaml")))
    assert [p.message for p in raised.value.problems] == [
        f"a second ClusterProfile (one is given by the cluster-profile setting ({tmp_path / 'cluster.yaml'})); "
        "a render targets one cluster"]


def test_setting_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cluster-profile: .*nope.yaml: no such file"):
        render_docs(load_stream(MODEL, "model.yaml"), Settings(cluster_profile=str(tmp_path / "nope.yaml")))


def test_setting_names_something_else(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text(MODEL)
    with pytest.raises(UsageError, match="expected exactly one ClusterProfile document"):
        render_docs(load_stream(MODEL, "model.yaml"), Settings(cluster_profile=str(tmp_path / "model.yaml")))


def test_sections_other_modules_parse() -> None:
    text = PROFILE.format(mode="Knative", version="v0.20.0", data='      max-scale: "4"')
    text += "  storageInitializerDefaults:\n    image: mirror/storage-initializer:v0.20.0\n"
    doc = load_stream(text, "profile.yaml")[0]
    assert [p.message for p in profile.parse(doc)[1]] == [
        "unknown field 'storageInitializerDefaults'; known fields: deploymentMode, knative, kserve"]
    parsed, problems = profile.parse(doc, frozenset({"storageInitializerDefaults"}))
    assert (parsed.autoscaler.max_scale, problems) == (4, [])


@pytest.mark.parametrize("value, names, errors", [
    ("[team-sklearn, shared-vllm]", ("team-sklearn", "shared-vllm"), []),
    ("[]", (), []),
    ("team-sklearn", None, ["spec.kserve.clusterRuntimes: expected a list of runtime names, got a string"]),
    ("[a, a]", None, ["spec.kserve.clusterRuntimes[1]: 'a' is listed twice"]),
    ("[Bad_Name]", None, ["spec.kserve.clusterRuntimes[0]: 'Bad_Name' is not a valid name"]),
])
def test_cluster_runtimes(value: str, names, errors: list[str]) -> None:
    text = PROFILE.format(mode="Knative", version="v0.20.0", data='      max-scale: "4"').replace(
        "    version: v0.20.0\n", f"    version: v0.20.0\n    clusterRuntimes: {value}\n")
    parsed, problems = profile.parse(load_stream(text, "profile.yaml")[0])
    found = [f"{p.path}: {p.message}" for p in problems]
    assert len(found) == len(errors) and all(f.startswith(e) for f, e in zip(found, errors)), found
    if names is not None:
        assert parsed.cluster_runtimes == names


def test_config_features_say_which_pod_fields_knative_admits() -> None:
    text = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ClusterProfile\nmetadata: {name: p}\nspec:\n  knative:\n"
            "    configFeatures:\n      kubernetes.podspec-nodeselector: enabled\n"
            "      kubernetes.podspec-affinity: Allowed\n      kubernetes.podspec-tolerations: Disabled\n"
            "      multi-container: enabled\n")
    parsed, problems = profile.parse(load_stream(text, "p.yaml")[0])
    assert problems == []
    assert parsed.feature_on("kubernetes.podspec-nodeselector") and parsed.feature_on("kubernetes.podspec-affinity")
    assert not parsed.feature_on("kubernetes.podspec-tolerations")
    assert not parsed.feature_on("kubernetes.podspec-priorityclassname")
    assert parsed.where_feature("kubernetes.podspec-tolerations") == \
        "kubernetes.podspec-tolerations: Disabled at p.yaml:9"
    assert parsed.where_feature("kubernetes.podspec-priorityclassname") == \
        "Knative default kubernetes.podspec-priorityclassname: Disabled (cluster profile p.yaml:1 does not set it)"
    assert not profile.DEFAULT.feature_on("kubernetes.podspec-nodeselector")
    _, problems = profile.parse(load_stream(text.replace("Allowed", "yes please"), "p.yaml")[0])
    assert [p.format() for p in problems] == [
        "p.yaml:8: spec.knative.configFeatures.kubernetes.podspec-affinity: expected one of Enabled, Allowed, "
        "Disabled, got 'yes please' (Knative ignores any other value and keeps the feature disabled)"]

"""cmp.llmisvc.argv: the vLLM command line a composed pod runs, with the source of each token."""

from __future__ import annotations

from cmp.llmisvc import compose, preset_owned_flags, vllm_argv


def service(**container: object) -> dict:
    return {"metadata": {"name": "m", "namespace": "ns"},
            "spec": {"model": {"uri": "hf://o/m"}, "template": {"containers": [{"name": "main", **container}]}}}


def argv(release: str = "v0.20.0", **container: object) -> list[tuple[str, str]]:
    return vllm_argv(compose(service(**container), release))


def test_args_follow_the_preset_script() -> None:
    tokens = argv(args=["--max-model-len", "4096"])
    assert [t for t, _ in tokens[:8]] == ["vllm", "serve", "/mnt/models", "--served-model-name", "m",
                                          "publishers/ns/models/m", "--port", "8000"]
    assert tokens[-2:] == [("--max-model-len", "service"), ("4096", "service")]
    assert {s for t, s in tokens[:8]} == {"preset:kserve-config-llm-template@v0.20.0"}


def test_eval_splits_and_unquotes_an_argument_again() -> None:
    # The script's eval joins "$@" with spaces and parses it again (config-llm-template.yaml, v0.18+)
    tokens = [t for t, _ in argv(args=["--override-generation-config", '{"temperature": 0.5}'])]
    assert tokens[-3:] == ["--override-generation-config", "{temperature:", "0.5}"]
    assert [t for t, _ in argv("v0.17.1", args=["--x", "a b"])][-2:] == ["--x", "a b"]   # v0.17: no script


def test_vllm_additional_args_come_before_the_args() -> None:
    tokens = argv(env=[{"name": "VLLM_ADDITIONAL_ARGS", "value": "--enable-prefix-caching"}], args=["--a"])
    assert tokens[-2:] == [("--enable-prefix-caching", "service"), ("--a", "service")]


def test_runtime_variables_are_placeholders() -> None:
    tokens = argv()
    assert ("${ACCESS_LOG_ARGS}", "pod-runtime") in tokens and ("${SHUTDOWN_TIMEOUT_ARGS}", "pod-runtime") in tokens


def test_a_command_replaces_the_preset_script() -> None:
    tokens = argv(command=["python", "-m", "vllm.entrypoints.openai.api_server"], args=["--port", "8000"])
    assert tokens == [("python", "service"), ("-m", "service"), ("vllm.entrypoints.openai.api_server", "service"),
                      ("--port", "service"), ("8000", "service")]
    assert preset_owned_flags(compose(service(command=["vllm", "serve"]), "v0.20.0")) == {}


def test_tensor_parallel_size_is_preset_owned_from_v0_20() -> None:
    spec = service()
    spec["spec"]["parallelism"] = {"tensor": 4}
    assert preset_owned_flags(compose(spec, "v0.20.0"))["--tensor-parallel-size"] == "spec.parallelism.tensor"
    assert "--tensor-parallel-size" not in preset_owned_flags(compose(spec, "v0.19.0"))


def test_tls_flags_are_owned_when_tls_is_on() -> None:
    owned = preset_owned_flags(compose(service(), "v0.20.0", global_config={"EnableTLS": True}))
    assert {"--ssl-certfile", "--ssl-keyfile", "--enable-ssl-refresh"} <= set(owned)
    assert "--ssl-certfile" not in preset_owned_flags(compose(service(), "v0.20.0"))


def test_kubernetes_expands_env_references_before_the_shell() -> None:
    # core/v1 Container.Args: $(VAR_NAME) is expanded from the container's env, $$ escapes, unknown ones stay
    tokens = argv(env=[{"name": "LEN", "value": "4096"}], args=["--max-model-len", "$(LEN)", "$(NOPE)", "$$(LEN)"])
    # ... and what is left of "$(" is a command substitution for the preset script's eval, run in the pod
    assert tokens[-4:] == [("--max-model-len", "service"), ("4096", "service"), ("$(NOPE)", "pod-runtime"),
                           ("$(LEN)", "pod-runtime")]
    big = {"metadata": {"name": "m", "namespace": "ns"},
           "spec": {"model": {"uri": "hf://o/m"}, "parallelism": {"data": 2}, "worker": {}}}
    assert ("${LWS_LEADER_ADDRESS}", "pod-runtime") in vllm_argv(compose(big, "v0.17.1"))

"""The transformer container KServe's controller builds: its own arguments only when missing (prefix match)."""

from __future__ import annotations

from cmp.kserve.transformer import assemble_transformer_container, predictor_host


def isvc(args: list[str] | None = None, **transformer) -> dict:
    container = {"name": "kserve-container", "image": "t:1", **({"args": args} if args is not None else {})}
    return {"metadata": {"name": "bert", "namespace": "nlp"},
            "spec": {"predictor": {}, "transformer": {"containers": [container], **transformer}}}


def test_missing_arguments_are_appended_in_kserves_order() -> None:
    container, added = assemble_transformer_container(isvc(["--a=1"]))
    assert container["args"] == ["--a=1", "--model_name", "bert", "--predictor_host", "bert-predictor.nlp",
                                 "--http_port", "8080"]
    assert added == 6
    assert container["env"] == [{"name": "INFERENCE_SERVICE_NAME", "value": "bert"}]


def test_a_prefix_counts_as_present_and_workers_follow_container_concurrency() -> None:
    container, added = assemble_transformer_container(
        isvc(["--model_name=x", "--predictor_hostname", "h", "--http_port=9000"], containerConcurrency=4))
    assert container["args"][4:] == ["--workers", "4"] and added == 2
    container, added = assemble_transformer_container(isvc(["--workers=2"], containerConcurrency=4))
    assert "--workers" not in container["args"] and added == 6


def test_env_of_the_same_name_is_overwritten_and_no_transformer_is_none() -> None:
    obj = isvc([])
    obj["spec"]["transformer"]["containers"][0]["env"] = [{"name": "INFERENCE_SERVICE_NAME", "value": "x"}]
    container, _ = assemble_transformer_container(obj)
    assert container["env"] == [{"name": "INFERENCE_SERVICE_NAME", "value": "bert"}]
    assert assemble_transformer_container({"spec": {"predictor": {}}}) is None
    assert obj["spec"]["transformer"]["containers"][0]["env"][0]["value"] == "x"   # the input is not changed


def test_predictor_host_follows_the_predictor_name_and_namespace() -> None:
    assert predictor_host({"metadata": {"name": "a"}, "spec": {"predictor": {"name": "blue"}}}) == \
        "a-blue-predictor.<namespace>"

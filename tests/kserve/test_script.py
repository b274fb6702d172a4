"""Launch-script detection and normalisation, run for real with bash; KServe's multi-node GPU math."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp import catalog
from cmp.kserve import script as S
from cmp.kserve.merge import resolve_strings
from helpers import run_with_fake_programs

MULTINODE = "kserve-huggingfaceserver-multinode"
#: Args a user may pass to a server: JSON, quotes with spaces, a glob, an empty string, a newline.
HARD_ARGS = ['--chat-template={"a": 1}', '--x="a b"', "--stop", "*", "--empty=", "--two\nlines", "--dollar=$HOME"]

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def shipped_container() -> dict:
    runtime = catalog.get_runtime(MULTINODE)
    return next(c for c in runtime["spec"]["containers"] if c["name"] == "kserve-container")


# --- detection -------------------------------------------------------------------------------------

def test_current_form_is_found_with_runtime_args_as_params() -> None:
    launch = S.find_launch(shipped_container())
    assert launch is not None
    assert launch.form == S.FORM_COMMAND
    assert launch.shell == ("bash", "-c")
    assert launch.params == ("--model_name={{.Name}}",)
    assert not launch.named
    assert launch.forwarding == S.Forwarding(present=True, quoted=False, uses_zero=True)


def test_old_form_takes_the_script_from_args() -> None:
    launch = S.find_launch({"command": ["/bin/sh", "-c"], "args": ["exec server --port=8080", "--a", "--b"]})
    assert launch is not None
    assert (launch.form, launch.script, launch.params) == (S.FORM_ARGS, "exec server --port=8080", ("--a", "--b"))
    assert launch.dropped() == ["--a", "--b"]


@pytest.mark.parametrize("command", [
    ["bash", "-ec", "exec server"],
    ["/usr/bin/bash", "-o", "pipefail", "-c", "exec server"],
    ["sh", "-e", "-c", "exec server"],
    ["bash", "-c", "--", "exec server"],
])
def test_shell_options_around_c(command: list[str]) -> None:
    launch = S.find_launch({"command": command})
    assert launch is not None and launch.script == "exec server"


@pytest.mark.parametrize("container", [
    {"args": ["--port=8080"]},
    {"command": ["python", "-m", "server"]},
    {"command": ["bash", "/start.sh"]},
    {"command": ["bash", "-c"]},
    {"command": ["zsh", "-c", "exec server"]},
])
def test_not_a_launch_script(container: dict) -> None:
    assert S.find_launch(container) is None


# --- rewriting ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("tail", ["$0 $@", '"$0" "$@"', "${0} ${@}", "$0 $*", "$@", "${@}", "$*", '"$*"'])
def test_forwarding_tails_become_quoted(tail: str) -> None:
    assert S.rewrite_script(f"exec server --port=8080 {tail}\n") == 'exec server --port=8080 "$@"\n'


def test_quoted_forwarding_and_unrelated_dollars_are_kept() -> None:
    script = 'echo "starting $0 with $@"\nexec server "$@"\n'
    assert S.rewrite_script(script) == script


def test_script_without_forwarding_gets_it_appended_to_its_last_command() -> None:
    script = "ray start --head\nexec python -m server --model_dir=/mnt/models ;\n# done\n\n"
    assert S.rewrite_script(script) == \
        'ray start --head\nexec python -m server --model_dir=/mnt/models "$@" ;\n# done\n\n'


def test_the_last_command_after_and_and_gets_the_args() -> None:
    assert S.rewrite_script("cd /srv && exec server --port=8080;") == 'cd /srv && exec server --port=8080 "$@";'


def test_line_continuations_keep_the_launch_command_whole() -> None:
    script = "python -m server \\\n  --port=8080"
    assert S.rewrite_script(script) == 'python -m server \\\n  --port=8080 "$@"'
    assert S.launch_flags(S.rewrite_script(script)) == ["--port"]


@pytest.mark.parametrize("script, reason", [
    ('exec server --a=$1 "$@"', "one by one"),
    ("shift\nexec server $@", "one by one"),
    ("if true; then\n  exec server\nfi", "cannot tell"),
    ("if true; then exec server; fi", "cannot tell"),
    ("exec server || exit 1", "cannot tell"),
    ("(exec server)", "cannot tell"),
    ("python -m server | tee /tmp/log", "cannot tell"),
    ("python -m server &", "cannot tell"),
    ("# only a comment\n", "empty"),
])
def test_unsafe_scripts_are_refused(script: str, reason: str) -> None:
    with pytest.raises(S.ScriptError, match=reason):
        S.rewrite_script(script)


def test_blanks_at_line_ends_go_unless_quoted_or_escaped() -> None:
    script = 'ray start --head   \necho "keep   \n  this" \\ \nexec server $@\t\n'
    assert S.rewrite_script(script) == 'ray start --head\necho "keep   \n  this" \\ \nexec server "$@"\n'


def test_positionals_inside_single_quotes_are_not_arguments() -> None:
    script = "ray status | awk '{print $1}' > /tmp/n\nexec server $@"
    assert S.rewrite_script(script).endswith('exec server "$@"')


def test_launch_flags_follow_variables_expanded_on_the_launch_line() -> None:
    script = S.rewrite_script(shipped_container()["command"][2])
    assert S.launch_flags(script) == ["--model_dir", "--pipeline-parallel-size", "--tensor-parallel-size"]


def test_normalise_shipped_runtime() -> None:
    result = S.normalise(S.find_launch(shipped_container()))
    assert result.changed
    assert result.command[:2] == ["bash", "-c"]
    assert result.command[3] == S.LAUNCH_NAME
    assert result.command[2].rstrip().endswith('--pipeline-parallel-size=${PIPELINE_PARALLEL_SIZE} "$@"')
    assert result.args == ["--model_name={{.Name}}"]
    assert result.dropped == []


def test_normalise_reports_a_first_arg_the_script_used_as_its_name() -> None:
    result = S.normalise(S.find_launch({"command": ["bash", "-c", "exec server $@"], "args": ["--a", "--b"]}))
    assert result.args == ["--a", "--b"]
    assert result.dropped == ["--a"]


@given(st.lists(st.text(min_size=0, max_size=12), max_size=6))
@settings(max_examples=60, deadline=None)
def test_normalise_is_idempotent(args: list[str]) -> None:
    first = S.normalise(S.find_launch({**shipped_container(), "args": args}))
    second = S.normalise(S.find_launch({"command": first.command, "args": first.args}))
    assert not second.changed
    assert (second.command, second.args) == (first.command, first.args)
    assert first.args == args


# --- real bash ------------------------------------------------------------------------------------

FAKES = ("ray", "python")   # the health check runs through the fake python too
POD_ENV = {"MODEL_DIR": "/mnt/models", "TENSOR_PARALLEL_SIZE": "2", "PIPELINE_PARALLEL_SIZE": "1",
           "POD_IP": "127.0.0.1", "RAY_PORT": "6379"}


def run_container(tmp_path: Path, command: list[str], args: list[str]) -> list[list[str]]:
    """Exec ``command + args`` with a real bash and fake ray/python; their logged argv, in order."""
    return run_with_fake_programs(command + args, FAKES, tmp_path, POD_ENV)


def as_kserve_runs(container: dict, isvc_args: list[str], name: str = "llama") -> tuple[list[str], list[str]]:
    """The command and args KServe runs: runtime args then ISVC args, placeholders resolved."""
    meta = {"name": name, "namespace": "llm"}
    command = resolve_strings(container["command"], meta)
    args = resolve_strings(list(container.get("args") or []) + isvc_args, meta)
    return command, args


def server_argv(calls: list[list[str]]) -> list[str]:
    """Argv of the ``python -m huggingfaceserver`` call, after ``-m huggingfaceserver``."""
    call = next(c for c in calls if c[1:3] == ["-m", "huggingfaceserver"])
    return call[3:]


@needs_bash
def test_normalised_runtime_passes_every_arg_intact(tmp_path: Path) -> None:
    container = shipped_container()
    result = S.normalise(S.find_launch({**container, "args": container["args"] + HARD_ARGS}))
    command, args = as_kserve_runs({"command": result.command, "args": result.args}, [])
    calls = run_container(tmp_path, command, args)
    assert [c[:2] for c in calls] == [["ray", "start"], ["python", "./huggingfaceserver/health_check.py"],
                                      ["python", "-m"]]
    assert server_argv(calls) == ["--model_dir=/mnt/models", "--tensor-parallel-size=2",
                                  "--pipeline-parallel-size=1", "--model_name=llama", *HARD_ARGS]


@needs_bash
def test_shipped_runtime_splits_and_globs_user_args(tmp_path: Path) -> None:
    command, args = as_kserve_runs(shipped_container(), HARD_ARGS)
    received = server_argv(run_container(tmp_path, command, args))
    assert received[3] == "--model_name=llama"
    user = received[4:]
    assert user != HARD_ARGS
    assert user[:5] == ['--chat-template={"a":', "1}", '--x="a', 'b"', "--stop"]
    assert user[5:7] == ["a.txt", "b.txt"]          # the * was expanded in the working directory
    assert "--empty=" in user and "--two" in user and "lines" in user


@needs_bash
def test_old_form_script_ignored_every_user_arg_and_normalised_passes_them(tmp_path: Path) -> None:
    old = {"command": ["bash", "-c"],
           "args": ["ray start --head\npython -m huggingfaceserver --model_dir=${MODEL_DIR}", "--model_name={{.Name}}"]}
    command, args = as_kserve_runs(old, HARD_ARGS)
    assert server_argv(run_container(tmp_path / "before", command, args)) == ["--model_dir=/mnt/models"]
    result = S.normalise(S.find_launch({"command": command, "args": args}))
    received = server_argv(run_container(tmp_path / "after", result.command, result.args))
    assert received == ["--model_dir=/mnt/models", "--model_name=llama", *HARD_ARGS]


# --- GPU arithmetic ---------------------------------------------------------------------------------

@pytest.mark.parametrize("tp, pp, head, worker, backend, expected", [
    # (nodes, head GPUs, worker GPUs)
    (1, 2, 0, 0, "ray", (2, 1, 1)),          # no GPU requests: one single-GPU node per GPU
    (4, 2, 0, 0, "ray", (8, 1, 1)),
    (2, 2, 0, 2, "ray", (2, 2, 2)),          # workers request 2: head takes the remainder
    (3, 1, 0, 2, "ray", (2, 1, 2)),
    (4, 1, 0, 8, "ray", (1, 4, 0)),          # one worker's GPUs would cover everything: head only
    (4, 1, 4, 1, "ray", (1, 4, 0)),          # the head alone covers the total
    (4, 2, 2, 2, "ray", (4, 2, 2)),
    (4, 1, 2, 0, "ray", (3, 2, 1)),          # only the head requests: single-GPU workers cover the rest
    (2, 1, 4, 0, "ray", (1, 4, 1)),
    (8, 4, 0, 0, "mp", (4, 8, 8)),           # mp: a node per pipeline stage, tp GPUs each
    (4, 1, 0, 0, "mp", (1, 4, 4)),
])
def test_plan_gpus(tp: int, pp: int, head: int, worker: int, backend: str, expected: tuple) -> None:
    plan = S.plan_gpus(tp, pp, head, worker, backend)
    assert (plan.nodes, plan.head_gpus, plan.worker_gpus) == expected
    assert plan.total_gpus == tp * pp
    assert plan.workers == expected[0] - 1


def test_plan_gpus_refuses_a_head_too_small_for_the_remainder() -> None:
    with pytest.raises(S.GpuError, match="8 GPUs needed"):
        S.plan_gpus(4, 2, 1, 2)


def test_gpu_request_reads_requests_only() -> None:
    assert S.gpu_request({"requests": {"cpu": "2", "nvidia.com/gpu": "2"}}) == ("nvidia.com/gpu", 2)
    assert S.gpu_request({"requests": {"amd.com/gpu": 1}}) == ("amd.com/gpu", 1)
    assert S.gpu_request({"limits": {"nvidia.com/gpu": "2"}}) == (None, 0)
    with pytest.raises(S.GpuError, match="whole number"):
        S.gpu_request({"requests": {"nvidia.com/gpu": "500m"}})


def test_executor_backend_comes_from_runtime_pod_annotations() -> None:
    assert S.executor_backend({"spec": {"annotations": {S.EXECUTOR_ANNOTATION: "mp"}}}) == S.BACKEND_MP
    assert S.executor_backend(catalog.get_runtime(MULTINODE)) == S.BACKEND_RAY

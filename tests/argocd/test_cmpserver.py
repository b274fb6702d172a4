"""The imitation of argocd-cmp-server itself: environment, files, process, deadline and output rules."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from argocd.cmpserver import (MAX_MESSAGE_SIZE, Application, CmpFailure, CmpServer, Cluster, PluginConfig,
                              application_root, args_to_log, envsubst, go_match, pack, parameter_env, parameters_json,
                              split_documents, split_manifests, stop_sidecar, unpack)
from argocd.examples import sidecar_env

#: A plugin that reports what it sees (env, cwd, stdin, file modes) inside a ConfigMap.
PROBE = ("import json, os, sys; w = os.getcwd()\n"
         "while os.path.basename(os.path.dirname(w)) != '_cmp_server': w = os.path.dirname(w)\n"
         "d = {'env': dict(os.environ), 'cwd': os.getcwd(), 'stdin': sys.stdin.read(), "
         "'mode': oct(os.stat('model.yaml').st_mode & 0o777), 'files': sorted(os.listdir(w)), "
         "'workdir': oct(os.stat(w).st_mode & 0o777), 'base': oct(os.stat(os.path.dirname(w)).st_mode & 0o777)}; "
         "print(json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'p'}, "
         "'data': {'probe': json.dumps(d)}}))")
REVISION = "0123456789abcdef0123456789abcdef01234567"


def python_server(tmp: Path, code: str, **options) -> CmpServer:
    plugin = PluginConfig(name="probe", version="v1", generate=(sys.executable, "-c", code))
    return CmpServer(plugin, sidecar_env=sidecar_env(tmp), temp_root=tmp, **options)


def shell_server(tmp: Path, script: str, **options) -> CmpServer:
    plugin = PluginConfig(name="probe", version="v1", generate=("sh", "-c", script))
    return CmpServer(plugin, sidecar_env=sidecar_env(tmp), temp_root=tmp, **options)


def small_repo(tmp: Path) -> Path:
    repo = tmp / "repo"
    (repo / "apps" / "a").mkdir(parents=True)
    (repo / "apps" / "a" / "model.yaml").write_text("x: 1\n")
    (repo / "apps" / "a" / "model.yaml").chmod(0o755)
    return repo


APP = Application(name="a", path="apps/a", plugin="probe-v1", dest_namespace="ns")


# --- environment --------------------------------------------------------------------------------


def test_envsubst_follows_go_os_expand() -> None:
    variables = {"ARGOCD_APP_NAME": "app", "X": "x"}
    assert envsubst("rev-$ARGOCD_APP_NAME", variables) == "rev-app"
    assert envsubst("${X}y$X.$UNKNOWN.", variables) == "xyx.."
    assert envsubst("cost $$5 $", variables) == "cost $5 $"
    assert envsubst("$1 ${} ${X", variables) == "  X"  # bad syntax eats "${}" and "${"
    assert envsubst("a$-b$@c", variables) == "abc"


def test_parameters_json_is_go_json_marshal() -> None:
    params = [{"name": "s", "string": "a<b>&c"}, {"name": "m", "map": {"z": "1", "a": "2"}},
              {"name": "l", "array": ["x", "é"]}, {"name": "e", "map": None}]
    assert parameters_json(params) == (
        '[{"name":"s","string":"a\\u003cb\\u003e\\u0026c"},{"map":{"a":"2","z":"1"},"name":"m"},'
        '{"array":["x","é"],"name":"l"},{"map":{},"name":"e"}]')
    assert parameters_json([]) == "null"


def test_param_variables_for_string_array_and_map() -> None:
    params = [{"name": "kustomize-timeout", "string": "5"}, {"name": "extra-files", "array": ["a", "b"]},
              {"name": "labels", "map": {"app.kubernetes.io/part-of": "x", "team": "ml"}}]
    assert parameter_env(params) == [
        ("PARAM_KUSTOMIZE_TIMEOUT", "5"), ("PARAM_EXTRA_FILES_0", "a"), ("PARAM_EXTRA_FILES_1", "b"),
        ("PARAM_LABELS_APP_KUBERNETES_IO_PART_OF", "x"), ("PARAM_LABELS_TEAM", "ml")]


def _probe(outcome) -> dict:
    assert outcome.ok, outcome.error
    return json.loads(outcome.objects[0]["data"]["probe"])


def test_the_plugin_sees_the_exact_environment(tmp_path: Path) -> None:
    app = Application(name="iris", namespace="team-a", path="apps/a", plugin="probe-v1", project="ml",
                      dest_namespace="models", target_revision="main",
                      env=(("REV", "rev-$ARGOCD_APP_REVISION_SHORT"), ("PATH", "not-the-path"), ("EMPTY", "")),
                      parameters=({"name": "labels", "map": {"team": "ml"}}, {"name": "files", "array": ["a"]}))
    server = python_server(tmp_path, PROBE)
    server.sidecar_env["ARGOCD_APP_NAME"] = "overridden by the request"
    seen = _probe(server.generate(small_repo(tmp_path), app, revision=REVISION,
                                  cluster=Cluster(version="1.31.4", api_versions=("v1", "apps/v1", "v1/Pod"))))
    expected = {
        "ARGOCD_APP_NAME": "team-a_iris", "ARGOCD_APP_NAMESPACE": "models", "ARGOCD_APP_PROJECT_NAME": "ml",
        "ARGOCD_APP_REVISION": REVISION, "ARGOCD_APP_REVISION_SHORT": "0123456",
        "ARGOCD_APP_REVISION_SHORT_8": "01234567", "ARGOCD_APP_SOURCE_REPO_URL": app.repo_url,
        "ARGOCD_APP_SOURCE_PATH": "apps/a", "ARGOCD_APP_SOURCE_TARGET_REVISION": "main", "KUBE_VERSION": "1.31.4",
        "KUBE_API_VERSIONS": "apps/v1,v1,v1/Pod", "ARGOCD_ENV_REV": "rev-0123456",
        "ARGOCD_ENV_PATH": "not-the-path", "ARGOCD_ENV_EMPTY": "",
        "ARGOCD_APP_PARAMETERS": '[{"map":{"team":"ml"},"name":"labels"},{"array":["a"],"name":"files"}]',
        "PARAM_LABELS_TEAM": "ml", "PARAM_FILES_0": "a", "HOSTNAME": "argocd-repo-server-0",
    }
    assert {k: seen["env"].get(k) for k in expected} == expected
    assert seen["env"]["PATH"] == server.sidecar_env["PATH"]
    assert seen["stdin"] == ""
    assert seen["cwd"].endswith(os.path.join("_cmp_server", seen["cwd"].split(os.sep)[-3], "apps", "a"))


def test_older_argo_cd_drops_empty_values(tmp_path: Path) -> None:
    app = Application(name="a", path="apps/a", plugin="probe-v1", dest_namespace="")
    seen = _probe(python_server(tmp_path, PROBE, keep_empty=False).generate(small_repo(tmp_path), app))
    assert "ARGOCD_APP_NAMESPACE" not in seen["env"]
    assert seen["env"]["ARGOCD_APP_PARAMETERS"] == "null"


# --- files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern,name,matches", [
    (".git", ".git", True), (".git/*", ".git/HEAD", True), ("*.tmp", "a.tmp", True),
    ("*.tmp", "dir/a.tmp", False), ("*/a.tmp", "dir/a.tmp", True), ("a?c", "abc", True),
    ("a?c", "a/c", False), ("[ab]x", "bx", True), ("[^ab]x", "bx", False), ("\\*", "*", True),
])
def test_exclusions_use_go_filepath_match(pattern: str, name: str, matches: bool) -> None:
    assert go_match(pattern, name) is matches


def test_copy_applies_exclusions_modes_and_keeps_relative_paths(tmp_path: Path) -> None:
    repo = small_repo(tmp_path)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    (repo / "apps" / "a" / "scratch.tmp").write_text("x")
    (repo / "top.tmp").write_text("x")
    (repo / "apps" / "a" / "base").symlink_to("../../apps")
    out = tmp_path / "out"
    out.mkdir()
    unpack(pack(repo, exclusions=(".git", "*.tmp")), out)
    assert not (out / ".git").exists()
    assert not (out / "top.tmp").exists()
    assert (out / "apps" / "a" / "scratch.tmp").exists(), "*.tmp matches the top level only"
    assert stat.S_IMODE((out / "apps" / "a" / "model.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "apps").stat().st_mode) == 0o755
    assert os.readlink(out / "apps" / "a" / "base") == "..", "rewritten to its resolved target, relative"


def test_symlinks_are_rewritten_to_their_resolved_target(tmp_path: Path) -> None:
    # util/io/files/tar.go: untar resolves each link (EvalSymlinks) and relinks it relative
    repo = small_repo(tmp_path)
    (repo / "shared").mkdir()
    (repo / "shared" / "base.yaml").write_text("x: 1\n")
    (repo / "apps" / "link").symlink_to("../shared")  # extracted after shared/? no: apps/ < shared/
    (repo / "zlink").symlink_to("apps/./a/../a/model.yaml")
    (repo / "zz").symlink_to("zlink")
    out = tmp_path / "out"
    out.mkdir()
    unpack(pack(repo), out)
    assert os.readlink(out / "apps" / "link") == "../shared", "a target not extracted yet stays as written, cleaned"
    assert os.readlink(out / "zlink") == "apps/a/model.yaml"
    assert os.readlink(out / "zz") == "apps/a/model.yaml", "a chain of links collapses to the final target"
    assert (out / "apps" / "link" / "base.yaml").read_text() == "x: 1\n"


def test_plugin_sees_files_without_their_mode(tmp_path: Path) -> None:
    seen = _probe(python_server(tmp_path, PROBE).generate(small_repo(tmp_path), APP))
    assert seen["mode"] == "0o644"
    # util/io/files/util.go: CreateTempDir makes the request dir 0755 under the 0700 _cmp_server
    assert seen["workdir"] == "0o755" and seen["base"] == "0o700"


def test_nothing_to_send(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "empty").mkdir(parents=True)
    with pytest.raises(CmpFailure, match="no files to send"):
        pack(repo)
    assert python_server(tmp_path, PROBE).generate(repo, APP).error == f"no files to send({repo})"


def test_symlink_leaving_the_work_dir_is_refused(tmp_path: Path) -> None:
    repo = small_repo(tmp_path)
    (repo / "escape").symlink_to("../../..")
    outcome = python_server(tmp_path, PROBE).generate(repo, APP)
    assert outcome.error.startswith("illegal filepath in symlink")


def test_app_path_leaving_the_work_dir_is_refused(tmp_path: Path) -> None:
    app = Application(name="a", path="../../etc", plugin="probe-v1")
    outcome = python_server(tmp_path, PROBE).generate(small_repo(tmp_path), app)
    assert outcome.error == "illegal appPath: out of workDir bound"


def test_work_dir_is_removed_after_each_request(tmp_path: Path) -> None:
    server = python_server(tmp_path, PROBE)
    server.generate(small_repo(tmp_path), APP)
    server.generate(small_repo(tmp_path / "again"), APP)
    assert list((tmp_path / "_cmp_server").iterdir()) == []


# --- the process ------------------------------------------------------------------------------------


def test_plugin_config_rules(tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    path.write_text("apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: p}\n"
                    "spec:\n  version: v2\n  generate: {command: [sh, -c], args: ['echo hi']}\n---\nkind: Other\n")
    assert PluginConfig.load(path) == PluginConfig("p", "v2", ("sh", "-c", "echo hi"))
    assert PluginConfig.load(path).reachable_as == "p-v2"
    path.write_text("kind: ConfigManagementPlugin\nmetadata: {name: p}\nspec: {version: 1.0, generate: {command: [x]}}\n")
    with pytest.raises(CmpFailure, match="cannot unmarshal number"):
        PluginConfig.load(path)
    path.write_text("kind: ConfigManagementPlugin\nmetadata: {name: p}\nspec: {generate: {command: []}}\n")
    with pytest.raises(CmpFailure, match="generate command should be non-empty"):
        PluginConfig.load(path)


def test_failure_reads_as_argo_cd_shows_it(tmp_path: Path) -> None:
    outcome = shell_server(tmp_path, "echo partial; echo '  oops  ' >&2; exit 3").generate(small_repo(tmp_path), APP)
    assert outcome.error == '`sh -c "echo partial; echo \'  oops  \' >&2; exit 3"` failed exit status 3: oops'
    assert outcome.objects == []
    assert outcome.ui_message(APP).endswith("error generating manifests: " + outcome.error)
    assert args_to_log(["a", "", "b c"]) == 'a "" "b c"'


def test_deadline_kills_leader_and_group(tmp_path: Path) -> None:
    script = "trap 'echo cleaned up >&2; exit 0' TERM; sleep 30 & wait"
    start = time.monotonic()
    outcome = shell_server(tmp_path, script, timeout=0.6, grace=2.0).generate(small_repo(tmp_path), APP)
    assert time.monotonic() - start < 4
    assert outcome.error.startswith("`sh -c \"trap") and " failed signal: killed" in outcome.error


def test_group_gets_sigterm_then_sigkill_when_a_successful_request_ends(tmp_path: Path) -> None:
    # cmpserver/plugin/plugin.go: runCommand's goroutine signals the group when the request's
    # context ends, which generateManifestGeneric's deferred cancel does on success too
    marker = tmp_path / "terminated"
    pids = tmp_path / "pids"
    ready = tmp_path / "ready"
    script = (f"(trap 'echo term > {marker}.tmp; mv {marker}.tmp {marker}; exit 0' TERM; touch {ready}.1; "
              f"while :; do sleep 0.05; done) >/dev/null 2>&1 & "
              f"(trap '' TERM; touch {ready}.2; exec sleep 60) >/dev/null 2>&1 & echo $! > {pids}; "
              f"while [ ! -e {ready}.1 ] || [ ! -e {ready}.2 ]; do sleep 0.01; done; echo '{CONFIGMAP}'")
    server = shell_server(tmp_path, script, grace=3.0)
    outcome = server.generate(small_repo(tmp_path), APP)
    assert outcome.ok, outcome.error
    stubborn = int(pids.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not marker.exists():
        time.sleep(0.02)
    assert marker.read_text() == "term\n", "the background process got SIGTERM"
    assert _alive(stubborn), "one that ignores SIGTERM lives until the grace period ends"
    server.last_kill.join(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(stubborn):
        time.sleep(0.02)
    assert not _alive(stubborn), "then it gets SIGKILL"


def test_a_detached_process_lives_until_the_sidecar_stops(tmp_path: Path) -> None:
    # setsid leaves the request's group: Argo CD never signals it; only the container's end does
    pids = tmp_path / "pids"
    ready = tmp_path / "ready"
    script = (f"setsid sh -c 'touch {ready}; exec sleep 60' >/dev/null 2>&1 < /dev/null & echo $! > {pids}; "
              f"while [ ! -e {ready} ]; do sleep 0.01; done; echo '{CONFIGMAP}'")
    server = shell_server(tmp_path, script, grace=0.2)
    assert server.generate(small_repo(tmp_path), APP).ok
    server.last_kill.join(5)
    detached = int(pids.read_text())
    assert _alive(detached)
    assert server.sidecar_env["TMPDIR"] == str(server.temp_root), "the sidecar's own temp dir"
    assert detached in stop_sidecar(server.temp_root)
    assert not _alive(detached)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_init_runs_first_and_its_output_is_ignored(tmp_path: Path) -> None:
    plugin = PluginConfig("probe", "v1", generate=("sh", "-c", "cat marker"),
                          init=("sh", "-c", f"echo '{CONFIGMAP}' > marker; echo not a manifest"))
    server = CmpServer(plugin, sidecar_env=sidecar_env(tmp_path), temp_root=tmp_path)
    assert [o["kind"] for o in server.generate(small_repo(tmp_path), APP).objects] == ["ConfigMap"]


CONFIGMAP = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}'


# --- output -------------------------------------------------------------------------------------------


def test_output_parsing_rules() -> None:
    yaml_stream = "# comment\n---\napiVersion: v1\nkind: ConfigMap\n---\n---\nnull\n--- \napiVersion: v1\nkind: List\n" \
                  "items:\n- {apiVersion: v1, kind: Secret}\n- {apiVersion: v1, kind: Service}\n"
    assert [o["kind"] for o in split_manifests(yaml_stream)] == ["ConfigMap", "Secret", "Service"]
    assert [o["kind"] for o in split_manifests(f" {CONFIGMAP}\n{CONFIGMAP}")] == ["ConfigMap", "ConfigMap"]
    assert split_manifests("apiVersion: v1\nkind: List\nitems: null\n") == []
    assert split_manifests("") == []


def test_separator_lines_as_apimachinery_reads_them() -> None:
    # k8s.io/apimachinery/pkg/util/yaml/decoder.go (v0.36.1): YAMLReader.Read
    docs, error = split_documents("a: 1\n--- # next\nb: 2\n---\t\nc: 3\r\n")
    assert [d.text for d in docs] == ["a: 1\n", "b: 2\n", "c: 3\n"] and error is None
    docs, error = split_documents("a: 1\n---x\nb: 2\n")
    assert [d.text for d in docs] == ["a: 1\n"] and error == "invalid Yaml document separator: x"
    assert split_documents("--- a: 1\n")[1] == "invalid Yaml document separator: a: 1"
    assert [d.text for d in split_documents("  ---\n a: 1")[0]] == ["  ---\n a: 1\n"], "only at a line's start"
    with pytest.raises(CmpFailure, match="failed to unmarshal manifest: invalid Yaml document separator: x"):
        split_manifests("apiVersion: v1\nkind: ConfigMap\n---x\n")


def test_json_stream_falls_back_to_yaml_after_one_object() -> None:
    docs, error = split_documents(f"{CONFIGMAP}\n---\napiVersion: v1\nkind: Secret\n")
    assert [(d.kind, d.text) for d in docs] == [("json", CONFIGMAP), ("yaml", "apiVersion: v1\nkind: Secret\n")]
    assert error is None
    docs, error = split_documents(f"{CONFIGMAP}{CONFIGMAP} x")
    assert len(docs) == 2 and error.startswith("json: "), "after two JSON objects there is no way back"


def test_values_decode_as_kubernetes_decodes_them() -> None:
    # go-yaml v2 through sigs.k8s.io/yaml: what PyYAML would read as strings are booleans here
    objects = split_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: n\n  b: 010\n"
                              "  c: 1e3\n  y: on\n")
    assert objects[0]["data"] == {"a": False, "b": 8, "c": 1000, "true": True}


def test_object_checks_follow_the_repo_server() -> None:
    # apimachinery UnstructuredJSONScheme.Decode needs a kind, not an apiVersion; GenerateManifests
    # flattens a list one level only
    assert split_manifests("kind: ConfigMap\nmetadata: {name: x}\n") == [{"kind": "ConfigMap", "metadata": {"name": "x"}}]
    nested = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List, items: [{kind: Secret}]}\n"
    assert split_manifests(nested) == [{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Secret"}]}]
    assert split_manifests("kind: List\nitems: null\nspec: {}\n") == [{"kind": "List", "items": None, "spec": {}}]
    with pytest.raises(CmpFailure, match="items member is not an object"):
        split_manifests("kind: List\nitems: [1]\n")


def test_response_over_the_grpc_limit_is_refused(tmp_path: Path) -> None:
    assert MAX_MESSAGE_SIZE == 100 * 1024 * 1024  # ARGOCD_GRPC_MAX_SIZE_MB default
    big = "apiVersion: v1\nkind: ConfigMap\ndata: {a: " + "x" * 300 + "}\n"
    assert split_manifests(big, max_size=400)
    with pytest.raises(CmpFailure, match=r"larger than max \(\d+ vs. 200\)") as caught:
        split_manifests(big, max_size=200)
    assert caught.value.stage == "grpc"
    outcome = shell_server(tmp_path, f"printf '%s' '{big}'", max_response=200).generate(small_repo(tmp_path), APP)
    assert "code = ResourceExhausted desc = grpc: trying to send message larger than max" in outcome.ui_message(APP)


@pytest.mark.parametrize("text,message", [
    ("rendering...\napiVersion: v1\nkind: ConfigMap\n", "failed to unmarshal manifest"),
    ("just a log line\n", "failed to convert CMP manifests to unstructured objects"),
    ("- {apiVersion: v1, kind: ConfigMap}\n", "failed to convert CMP manifests to unstructured objects"),
    ("apiVersion: v1\nmetadata: {name: x}\n", "Object 'Kind' is missing"),
    ("{\"kind\": ", "failed to unmarshal manifest"),
])
def test_output_that_argo_cd_rejects(text: str, message: str) -> None:
    with pytest.raises(CmpFailure, match=message):
        split_manifests(text)


# --- reposerver.plugin.use.manifest.generate.paths --------------------------------------------------


@pytest.mark.parametrize("paths,root", [
    ("", "/r"), (".", "/r/apps/a"), (".;../base", "/r/apps"), ("../base;.", "/r/apps"),
    ("/apps/a;/shared", "/r"), ("../../../..", "/r"), (";.;", "/r/apps/a"),
    ("/x/y;/apps/b;..", "/r"),
])
def test_application_root_follows_get_application_root_path(paths: str, root: str) -> None:
    # reposerver/repository/utils.go (v3.5.1); once two paths diverge, "..": no further shortening
    assert application_root(Path("/r"), "apps/a", paths) == root


def test_generate_paths_mode_sends_only_the_common_root(tmp_path: Path) -> None:
    repo = small_repo(tmp_path)
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / "apps" / "base").mkdir()
    (repo / "apps" / "base" / "b.yaml").write_text("x: 1\n")
    app = Application(name="a", path="apps/a", plugin="probe-v1", generate_paths=".;../base")
    whole = _probe(python_server(tmp_path, PROBE).generate(repo, app))
    assert whole["files"] == [".git", "apps"]
    server = python_server(tmp_path, PROBE, use_generate_paths=True)
    outcome = server.generate(repo, app)
    seen = _probe(outcome)
    assert outcome.root == str(repo / "apps") and outcome.app_rel_path == "a"
    assert seen["files"] == ["a", "base"], "the work dir holds the common root's content, no .git"
    assert seen["cwd"].endswith(os.path.join("_cmp_server", seen["cwd"].split(os.sep)[-2], "a"))

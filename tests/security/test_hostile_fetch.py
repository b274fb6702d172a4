"""A repository must not make the sidecar fetch anything: a loopback HTTP server counts requests.

Every field of a kustomization (and of kustomize's built-in plugin configurations) that kustomize
reads a file, directory or URL from gets a URL to the server, also spelled the ways kustomize's
decoder accepts (``Resources:``, ``reſources:``) and hidden behind a newline. Each render must be
a clean error, and the server must see no request at all. A differential check first shows the
real kustomize does fetch from it when given the same kustomizations directly.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import have_kustomize

from cmp.source import kustomize as kustomize_module

pytestmark = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")

CONFIGMAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\ndata: {k: v}\n"


class Counter:
    """A loopback HTTP server that answers every GET with a ConfigMap and counts requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 2

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                counter.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(CONFIGMAP)))
                self.end_headers()
                self.wfile.write(CONFIGMAP)

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[Counter]:
    counter = Counter()
    counter.thread.start()
    try:
        yield counter
    finally:
        counter.server.shutdown()
        counter.server.server_close()
        counter.thread.join(timeout=5)
    assert counter.requests == [], counter.requests


def _cases(url: str) -> dict[str, tuple[str, dict[str, str], str]]:
    """name -> (kustomization, other files of the app, a fragment of the expected message)."""
    u = f"{url}/cm.yaml"
    remote = "is not allowed (setting allow-remote-bases is off)"
    plugin = ("apiVersion: builtin\nkind: {kind}\nmetadata: {{name: p}}\n{body}")
    return {
        "resources": (f"resources: [model.yaml, '{u}']\n", {}, f"resources[1]: remote base '{u}' {remote}"),
        "Resources": (f"Resources: [model.yaml, '{u}']\n", {}, f"Resources[1]: remote base '{u}'"),
        "RESOURCES": (f"RESOURCES: [model.yaml, '{u}']\n", {}, "RESOURCES[1]: remote base"),
        "long-s": (f"reſources: [model.yaml, '{u}']\n", {}, "reſources[1]: remote base"),
        "upper-scheme": (f"resources: [model.yaml, '{u.replace('http', 'HTTP')}']\n", {}, "remote base 'HTTP://"),
        "git-prefix": (f"resources: [model.yaml, 'git::{url}/org/repo']\n", {}, "remote base 'git::http"),
        "bases": (f"resources: [model.yaml]\nbases: ['{u}']\n", {}, "bases[0]: remote base"),
        "components": (f"resources: [model.yaml]\ncomponents: ['{url}/org/repo']\n", {}, "components[0]: remote base"),
        "newline": (f"resources: [model.yaml, \"{url}/org/repo.git\\n\"]\n", {},
                    "a path may not hold control characters (found U+000A)"),
        "tab": (f"resources: [model.yaml, \"x\\t{u}\"]\n", {}, "control characters (found U+0009)"),
        "patchesStrategicMerge": (f"resources: [model.yaml]\npatchesStrategicMerge: ['{u}']\n", {},
                                  "patchesStrategicMerge[0]: remote file"),
        "patches": (f"resources: [model.yaml]\npatches:\n- path: '{u}'\n", {}, "patches[0].path: remote file"),
        "Patches-Path": (f"resources: [model.yaml]\nPatches:\n- PATH: '{u}'\n", {}, "Patches[0].PATH: remote file"),
        "patchesJson6902": (f"resources: [model.yaml]\npatchesJson6902:\n- path: '{u}'\n  target: {{kind: X}}\n", {},
                            "patchesJson6902[0].path: remote file"),
        "configMapGenerator-files": (f"resources: [model.yaml]\nconfigMapGenerator:\n- name: c\n  files: ['{u}']\n",
                                     {}, "configMapGenerator[0].files[0]: remote file"),
        "configMapGenerator-key-files": (f"resources: [model.yaml]\nconfigMapGenerator:\n- name: c\n"
                                         f"  files: ['k={u}']\n", {}, "files[0]: remote file 'k=http"),
        "configMapGenerator-envs": (f"resources: [model.yaml]\nconfigMapGenerator:\n- name: c\n  envs: ['{u}']\n",
                                    {}, "configMapGenerator[0].envs[0]: remote file"),
        "secretGenerator-env": (f"resources: [model.yaml]\nsecretGenerator:\n- name: s\n  env: '{u}'\n", {},
                                "secretGenerator[0].env: remote file"),
        "secretGenerator-Files": (f"resources: [model.yaml]\nSecretGenerator:\n- name: s\n  FILES: ['{u}']\n", {},
                                  "SecretGenerator[0].FILES[0]: remote file"),
        "openapi": (f"resources: [model.yaml]\nopenapi: {{path: '{u}'}}\n", {}, "openapi.path: remote file"),
        "crds": (f"resources: [model.yaml]\ncrds: ['{u}']\n", {}, "crds[0]: remote file"),
        "configurations": (f"resources: [model.yaml]\nconfigurations: ['{u}']\n", {}, "configurations[0]: remote file"),
        "replacements": (f"resources: [model.yaml]\nreplacements:\n- path: '{u}'\n", {},
                         "replacements[0].path: remote file"),
        "generators": (f"resources: [model.yaml]\ngenerators: ['{u}']\n", {}, "generators[0]: remote base"),
        "transformers": (f"resources: [model.yaml]\ntransformers: ['{u}']\n", {}, "transformers[0]: remote base"),
        "validators": (f"resources: [model.yaml]\nvalidators: ['{u}']\n", {}, "validators[0]: remote base"),
        "builtin-patch-file": ("resources: [model.yaml]\ntransformers: [p.yaml]\n",
                               {"p.yaml": plugin.format(kind="PatchTransformer", body=f"path: '{u}'\n")},
                               "app/p.yaml:4: path: remote file"),
        "builtin-generator-inline": ("resources: [model.yaml]\ngenerators:\n- |\n  "
                                     + plugin.format(kind="ConfigMapGenerator", body=f"files: ['{u}']\n")
                                     .replace("\n", "\n  ") + "\n", {}, "generators[0].files[0]: remote file"),
        "builtin-replacement-file": ("resources: [model.yaml]\ntransformers: [r.yaml]\n",
                                     {"r.yaml": plugin.format(kind="ReplacementTransformer",
                                                              body=f"replacements: [{{path: '{u}'}}]\n")},
                                     "replacements[0].path: remote file"),
        "builtin-helm": ("resources: [model.yaml]\ngenerators: [h.yaml]\n",
                         {"h.yaml": plugin.format(kind="HelmChartInflationGenerator", body=f"repo: '{url}'\n")},
                         "built-in plugin 'HelmChartInflationGenerator' is not allowed"),
        "helmCharts": (f"resources: [model.yaml]\nhelmCharts: [{{name: x, repo: '{url}'}}]\n", {},
                       "helmCharts: Helm charts are not supported"),
        "in-a-base": ("resources: [model.yaml, base]\n", {"base/kustomization.yaml": f"Resources: ['{u}']\n"},
                      "app/base/kustomization.yaml:1: Resources[0]: remote base"),
        "merge-key": (f"<<: {{resources: [model.yaml, '{u}']}}\n", {},
                      "app/kustomization.yaml:1: YAML merge keys (<<) are not supported"),
        "both-spellings": (f"resources: [model.yaml]\nResources: ['{u}']\n", {}, "Resources[0]: remote base"),
        "Kustomization-file-in-a-base": ("resources: [model.yaml, base]\n",
                                         {"base/Kustomization": f"crds: ['{u}']\n"},
                                         "app/base/Kustomization:1: crds[0]: remote file"),
        "unknown-field": ("resources: [model.yaml]\nfutureField: ['{u}']\n", {},
                          "kustomization field 'futureField' is not one kserve-cmp knows"),
    }


CASES = sorted(_cases("http://127.0.0.1:1"))


def _app(scratch, kustomization: str, files: dict[str, str]) -> None:
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", kustomization)
    for name, text in files.items():
        scratch.write(f"repo/app/{name}", text)


@pytest.mark.parametrize("case", CASES)
def test_no_request_leaves_the_render(scratch, server: Counter, case: str) -> None:
    kustomization, files, message = _cases(server.url)[case]
    _app(scratch, kustomization, files)
    scratch.render("app").assert_clean_error(message)
    assert server.requests == []


#: Cases where the real kustomize, run directly, fetches from the server: the threat is real. The
#: others: Helm and unknown fields (kustomize refuses them itself), a tab in the URL (Go's URL parser
#: refuses it), the lower-case key winning over ``Resources`` (keys are decoded in sorted order), a
#: JSON 6902 patch file (kustomize fails on the target before loading it).
NOT_FETCHED = {"both-spellings", "builtin-helm", "helmCharts", "patchesJson6902", "tab", "unknown-field"}
FETCHED_BY_KUSTOMIZE = [case for case in CASES if case not in NOT_FETCHED]


@pytest.mark.parametrize("case", FETCHED_BY_KUSTOMIZE)
def test_kustomize_alone_would_fetch(tmp_path: Path, case: str) -> None:
    counter = Counter()
    counter.thread.start()
    try:
        kustomization, files, _ = _cases(counter.url)[case]
        app = tmp_path / "app"
        app.mkdir()
        (app / "model.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n")
        (app / "kustomization.yaml").write_text(kustomization)
        for name, text in files.items():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            (app / name).write_text(text)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        subprocess.run(kustomize_module.kustomize_argv() + (str(app),), capture_output=True, timeout=20,
                       stdin=subprocess.DEVNULL, env=env)
    finally:
        counter.server.shutdown()
        counter.server.server_close()
        counter.thread.join(timeout=5)
    assert counter.requests, f"kustomize did not fetch for {case}: the case no longer proves anything"


def test_remote_bases_allowed_still_refuse_file_urls_and_control_characters(scratch, server: Counter) -> None:
    _app(scratch, "resources: [model.yaml, 'file:///etc', \"a\\nb\"]\n", {})
    outcome = scratch.render("app", "--allow-remote-bases")
    outcome.assert_clean_error("resources[1]: 'file:///etc': file URLs are not allowed",
                               "resources[2]: 'a\\nb': a path may not hold control characters")


def test_case_insensitive_fields_still_render(scratch) -> None:
    """kustomize's own field matching: what it accepts in any case is checked, and renders."""
    scratch.write("repo/app/p.yaml", "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: t}\n"
                  "Labels: {team: a}\nfieldSpecs: [{path: metadata/labels, create: true}]\n")
    _app(scratch, "Resources: [model.yaml]\nNAMESPACE: prod\nTransformers: [p.yaml]\n", {})
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "namespace: prod" in outcome.stdout and "team: a" in outcome.stdout


def test_kustomize_gets_an_allow_listed_environment(scratch, tmp_path: Path) -> None:
    """Defence in depth: proxies at a closed port, no NO_PROXY, no git transport, no credentials."""
    dump = tmp_path / "env.txt"
    fake = tmp_path / "kustomize"
    fake.write_text(f"#!/bin/sh\nenv > '{dump}'\n")
    fake.chmod(0o755)
    _app(scratch, "resources: [model.yaml]\n", {})
    scratch.render("app", "--kustomize", str(fake), env={
        "AWS_SECRET_ACCESS_KEY": "s3cr3t", "GITHUB_TOKEN": "s3cr3t", "NO_PROXY": "127.0.0.1", "no_proxy": "*",
        "HTTPS_PROXY": "http://corp-proxy:3128", "KUBECONFIG": "/k", "GIT_SSH_COMMAND": "ssh -i key"})
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert "s3cr3t" not in dump.read_text()
    for name in ("NO_PROXY", "no_proxy", "KUBECONFIG", "GIT_SSH_COMMAND", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"):
        assert name not in env
    for name in kustomize_module.PROXY_VARIABLES:
        assert env[name] == "http://127.0.0.1:1"
    assert env["GIT_ALLOW_PROTOCOL"] == "none"
    assert env["HOME"].startswith(str(Path(env.get("TMPDIR", "/tmp")))) or "kserve-cmp-" in env["HOME"]
    assert set(env) <= set(kustomize_module.PASSED_ENV) | {"HOME", "GIT_ALLOW_PROTOCOL", "GIT_TERMINAL_PROMPT",
                                                           "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "PWD",
                                                           "SHLVL", "_", "OLDPWD"} | set(
        kustomize_module.PROXY_VARIABLES)


def test_remote_bases_allowed_pass_the_proxy_and_limit_git() -> None:
    env = kustomize_module.tool_environment("/h", True, {"HTTPS_PROXY": "http://corp:3128", "HOME": "/home/u",
                                                         "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/bin"})
    assert env["HTTPS_PROXY"] == "http://corp:3128" and env["HOME"] == "/home/u"
    assert env["GIT_ALLOW_PROTOCOL"] == "https:ssh" and "AWS_SECRET_ACCESS_KEY" not in env


@pytest.mark.parametrize("allow_remote", [False, True])
def test_git_in_that_environment_uses_no_plain_http(server: Counter, tmp_path: Path, allow_remote: bool) -> None:
    """git, as kustomize would start it, refuses the http transport (and, remote bases off, every one)."""
    import shutil

    if not shutil.which("git"):
        pytest.skip("needs git")
    env = kustomize_module.tool_environment(str(tmp_path), allow_remote)
    proc = subprocess.run(["git", "ls-remote", f"{server.url}/org/repo.git"], capture_output=True, timeout=10,
                          env=env, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert proc.returncode != 0 and b"transport 'http' not allowed" in proc.stderr, proc.stderr
    assert server.requests == []

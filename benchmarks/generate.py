"""Generate realistic benchmark repositories of N ModelDeployments.

Layouts (each a directory under the output root):

* ``plain/``: one ModelDeployment file per model in a single directory (no kustomization);
* ``kustomize/``: the same files plus one ``kustomization.yaml`` listing all of them;
* ``appset/``: an ApplicationSet-style tree, ``apps/<model>/`` each with its own
  ``kustomization.yaml`` and ``model.yaml`` (one Argo CD Application per model);
* ``expanded/``: what kserve-cmp renders for ``plain/``, pre-expanded into one small overlay per
  model (``<model>/objects.yaml`` and ``<model>/kustomization.yaml``) and one top kustomization
  over all of them: the equivalent input for plain ``kustomize build``.

Models rotate over four shapes seen in practice (scikit-learn on Knative, XGBoost with a
list of args, a Hugging Face LLM with map args and env, vLLM in Standard mode) across ten
team namespaces. Output is deterministic: the same N always gives byte-identical files.

Usage: ``python benchmarks/generate.py OUT --models 1000 [--layout plain --layout expanded ...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable

LAYOUTS = ("plain", "kustomize", "appset", "expanded")
API_VERSION = "kserve-cmp.io/v1alpha1"
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
MODEL_LABEL = "kserve-cmp.io/model-deployment"
TEAMS = 10


def model_name(index: int) -> str:
    """The name of model number ``index`` (0-based): ``model-00042``."""
    return f"model-{index:05d}"


def model_deployment(index: int) -> dict:
    """ModelDeployment number ``index``: one of four realistic shapes, in rotation."""
    name = model_name(index)
    meta = {"name": name, "namespace": f"team-{index % TEAMS}",
            "labels": {"team": f"team-{index % TEAMS}", "app.kubernetes.io/part-of": "benchmark"}}
    shape = index % 4
    if shape == 0:
        spec = {"runtime": "kserve-sklearnserver", "deploymentMode": "Knative",
                "model": {"format": "sklearn", "storageUri": f"gs://models/sklearn/{name}",
                          "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                        "limits": {"cpu": "1", "memory": "512Mi"}}},
                "scaling": {"minReplicas": 0, "maxReplicas": 3, "scaleMetric": "concurrency",
                            "scaleTarget": 10}}
    elif shape == 1:
        spec = {"runtime": "kserve-xgbserver",
                "model": {"format": "xgboost", "storageUri": f"s3://models/xgboost/{name}",
                          "args": ["--nthread=2", f"--model_name={name}"],
                          "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                        "limits": {"cpu": "2", "memory": "2Gi"}}},
                "scaling": {"minReplicas": 1, "maxReplicas": 5}}
    elif shape == 2:
        spec = {"runtime": "kserve-huggingfaceserver", "deploymentMode": "Knative",
                "model": {"format": "huggingface", "storageUri": f"hf://org/{name}",
                          "args": {"--max-model-len": 4096 * (1 + index % 4), "--enable-prefix-caching": True},
                          "env": {"HF_HOME": "/tmp/hf"},
                          "resources": {"requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": "1"},
                                        "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"}}},
                "scaling": {"minReplicas": 1, "maxReplicas": 2, "scaleMetric": "concurrency",
                            "scaleTarget": 4}}
    else:
        spec = {"runtime": "kserve-vllmserver", "deploymentMode": "Standard",
                "model": {"format": "vLLM", "storageUri": f"hf://org/{name}",
                          "args": {"--max-model-len": 8192, "--gpu-memory-utilization": 0.9},
                          "resources": {"requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
                                        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}}},
                "scaling": {"minReplicas": 1, "maxReplicas": 4, "scaleMetric": "cpu", "scaleTarget": 75}}
    return {"apiVersion": API_VERSION, "kind": "ModelDeployment", "metadata": meta, "spec": spec}


def _dump(obj: object) -> str:
    from cmp.source.yamlio import dump_stream

    return dump_stream([obj])


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _kustomization(entries: Iterable[str]) -> str:
    return KUSTOMIZATION + "resources:\n" + "".join(f"- {e}\n" for e in entries)


def write_plain(directory: str, count: int) -> None:
    """``count`` ModelDeployment files in ``directory``."""
    for i in range(count):
        _write(os.path.join(directory, f"{model_name(i)}.yaml"), _dump(model_deployment(i)))


def write_kustomize(directory: str, count: int) -> None:
    """The plain layout plus one kustomization listing every file."""
    write_plain(directory, count)
    _write(os.path.join(directory, "kustomization.yaml"),
           _kustomization(f"{model_name(i)}.yaml" for i in range(count)))


def write_appset(directory: str, count: int) -> None:
    """``apps/<model>/`` per model, each its own kustomization (one Application per model)."""
    for i in range(count):
        app = os.path.join(directory, "apps", model_name(i))
        _write(os.path.join(app, "model.yaml"), _dump(model_deployment(i)))
        _write(os.path.join(app, "kustomization.yaml"), _kustomization(["model.yaml"]))


def group_by_model(objects: list[dict]) -> dict[str, list[dict]]:
    """Rendered objects grouped by the model that produced them (sorted by model name)."""
    groups: dict[str, list[dict]] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        owner = (meta.get("labels") or {}).get(MODEL_LABEL)
        if obj.get("kind") == "InferenceService":
            owner = meta.get("name")
        groups.setdefault(owner or "shared", []).append(obj)
    return dict(sorted(groups.items()))


def write_expanded(directory: str, count: int) -> None:
    """The rendered output of ``count`` models as one small kustomize overlay per model."""
    from cmp.pipeline import render_docs
    from cmp.settings import Settings
    from cmp.source.yamlio import dump_stream, load_stream

    docs = [doc for i in range(count) for doc in load_stream(_dump(model_deployment(i)), f"{model_name(i)}.yaml")]
    groups = group_by_model(render_docs(docs, Settings()).objects)
    for owner, objects in groups.items():
        _write(os.path.join(directory, owner, "objects.yaml"), dump_stream(objects))
        _write(os.path.join(directory, owner, "kustomization.yaml"), _kustomization(["objects.yaml"]))
    _write(os.path.join(directory, "kustomization.yaml"), _kustomization(groups))


WRITERS = {"plain": write_plain, "kustomize": write_kustomize, "appset": write_appset,
           "expanded": write_expanded}


def generate(root: str, count: int, layouts: Iterable[str] = LAYOUTS) -> dict[str, str]:
    """Write the requested layouts of ``count`` models under ``root``; returns layout -> directory."""
    out = {}
    for layout in layouts:
        directory = os.path.join(root, layout)
        WRITERS[layout](directory, count)
        out[layout] = directory
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output directory (created)")
    parser.add_argument("--models", type=int, default=1000, help="number of ModelDeployments")
    parser.add_argument("--layout", action="append", choices=LAYOUTS,
                        help="layout to write (repeatable; default: all)")
    args = parser.parse_args(argv)
    for layout, directory in generate(args.out, args.models, args.layout or LAYOUTS).items():
        print(f"{layout}: {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

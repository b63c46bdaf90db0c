"""The chart rendered by Helm (built into ``.tools/`` by ``make lint``) with each values set that
``make lint`` checks, as parsed documents."""

import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "jejak"
NAMESPACE = "jejak"

VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "production": ["-f", str(CHART / "values-production.yaml")],
}
"""What ``make lint`` renders: the defaults and the production example."""

Manifest = dict[str, Any]


def helm() -> str:
    path = os.environ.get("HELM")
    if not path:
        raise RuntimeError("HELM is not set: run the chart's tests through `make lint`")
    return path


@cache
def render(value_set: str) -> tuple[Manifest, ...]:
    return render_with(*VALUE_SETS[value_set])


def render_with(*options: str) -> tuple[Manifest, ...]:
    args = [helm(), "template", "jejak", str(CHART), "--namespace", NAMESPACE, *options]
    out = subprocess.run(args, check=True, capture_output=True)
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(manifests: tuple[Manifest, ...], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in of_kind(manifests, kind)}

"""Model versions and stages, the DVC ecosystem's way: GTO git tags on the dvc.yaml artifact.

`topic-classifier@v1.2.0` is the version tagged by `gto register`; `topic-classifier#prod` the
version `gto assign --stage prod` put in that stage. Fetching one runs DVC's own
`dvc artifacts get` machinery (the artefact directory at that git revision, from the project's
DVC cache or remote) into a local cache, ~/.cache/topicwire/models/<name>/<revision>/, where
`load_model` then verifies it like any other artefact. No home-made registry: the tags are the
registry, and `gto show`, `dvc artifacts get` and Studio see the same thing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pipeline.errors import TopicwireError

REF = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9_-]*)(?:@(?P<version>v?\d[\w.+-]*)|#(?P<stage>[\w-]+))$"
)


def parse_ref(text: str) -> tuple[str, str | None, str | None] | None:
    """("name", version, stage) for "name@v1.2.0" or "name#prod"; None for anything else."""
    match = REF.match(text)
    return (match["name"], match["version"], match["stage"]) if match else None


def project_root(start: Path | None = None) -> Path:
    """The DVC project around `start` (the working directory by default)."""
    here = (start or Path.cwd()).resolve()
    for base in (here, *here.parents):
        if (base / "dvc.yaml").is_file() and (base / ".git").exists():
            return base
    raise TopicwireError(
        f"{here}: not inside a DVC project with git; registry references "
        "(name@version, name#stage) are resolved in the project that tags them"
    )


def cache_dir() -> Path:
    base = os.environ.get("TOPICWIRE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "topicwire"
    )
    return Path(base) / "models"


def fetch(ref: str, repo: str | Path | None = None) -> Path:
    """Download the artefact that a registry reference names; return its local directory."""
    parsed = parse_ref(ref)
    if parsed is None:
        raise TopicwireError(
            f"{ref}: expected name@version (e.g. topic-classifier@v1.2.0) or "
            "name#stage (e.g. topic-classifier#prod)"
        )
    name, version, stage = parsed
    root = str(repo or project_root())
    try:
        import dvc.api
        from dvc.repo.artifacts import Artifacts
    except ImportError as exc:
        raise TopicwireError(
            "registry references need DVC: pip install 'topicwire[train]'"
        ) from exc
    try:
        info = dvc.api.artifacts_show(name, version=version, stage=stage, repo=root)
    except Exception as exc:  # noqa: BLE001 - DVC raises several types for "not found"
        raise TopicwireError(
            f"{ref}: not found in {root} ({str(exc).strip() or type(exc)}); "
            "see `topicwire models list`"
        ) from exc
    target = cache_dir() / name / info["rev"]
    if (target / "metadata.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{info['rev']}.", dir=target.parent))
    try:
        Artifacts.get(
            root, name, version=version, stage=stage, out=str(staging / "artefact"), force=True
        )
        os.replace(staging / "artefact", target)
    except Exception as exc:  # noqa: BLE001
        raise TopicwireError(
            f"{ref}: cannot fetch the artefact at {info['rev'][:12]} "
            f"({str(exc).strip() or type(exc)}); is it in the DVC cache or "
            "remote?"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def versions(name: str, repo: str | Path) -> list[dict[str, Any]]:
    """Registered versions, newest first, with their stages and test metrics."""
    import json

    import dvc.api
    import gto.api

    shown = gto.api.show(str(repo), name, assignments_per_version=-1, versions_per_stage=-1)
    rows = []
    for entry in shown:
        rev = entry.get("commit_hexsha") or ""
        try:
            metrics = json.loads(dvc.api.read("reports/metrics.json", repo=str(repo), rev=rev))
        except Exception:  # noqa: BLE001 - an old commit may predate the metrics file
            metrics = {}
        stages = sorted({s["stage"] for s in entry.get("stages") or []})
        rows.append(
            {
                "version": entry["version"],
                "stages": stages,
                "created_at": str(entry.get("created_at", "")),
                "commit": rev[:12],
                "micro_f1": metrics.get("micro_f1"),
                "macro_f1": metrics.get("macro_f1"),
            }
        )
    return rows

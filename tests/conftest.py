"""Shared fixtures: the project's own configuration, and a real `dvc repro` in a temporary copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "topicwire tests",
    "GIT_AUTHOR_EMAIL": "tests@topicwire.invalid",
    "GIT_COMMITTER_NAME": "topicwire tests",
    "GIT_COMMITTER_EMAIL": "tests@topicwire.invalid",
}


def run(cmd: list[str], cwd: Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a real command; on failure, show its output."""
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1", **kwargs.pop("env", {})}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n--- stdout\n{result.stdout}\n"
            f"--- stderr\n{result.stderr}"
        )
    return result


def copy_project(dest: Path) -> Path:
    """Copy the project's files (tracked or new, not ignored) into a fresh git repository."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT)
    for rel in filter(None, listed.stdout.split("\0")):
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "copy of the project"], dest)
    return dest


@pytest.fixture(scope="session")
def cleaning_params() -> dict:
    return OmegaConf.to_container(OmegaConf.load(ROOT / "conf/cleaning/news_pages.yaml"))


@pytest.fixture(scope="session")
def taxonomy_labels() -> list[str]:
    return list(OmegaConf.load(ROOT / "conf/taxonomy/conflict_news.yaml").labels.keys())


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory) -> Path:
    """A temporary copy of the project after a real `dvc repro` (shared, do not modify)."""
    project = copy_project(tmp_path_factory.mktemp("reproduced"))
    result = run(["dvc", "repro"], project)
    (project / "repro.log").write_text(result.stdout + result.stderr)
    return project


@pytest.fixture(scope="session")
def published_model(reproduced) -> Path:
    return reproduced / "models" / "topic-classifier"


@pytest.fixture(scope="session")
def artefact(tmp_path_factory) -> Path:
    """A small model trained on the shipped JSON Lines articles and published for real."""
    import joblib

    from pipeline.config import build_model, taxonomy_labels, to_plain
    from pipeline.stages.compose import compose
    from pipeline.stages.publish import build_metadata, publish
    from pipeline.stages.train import train

    params = OmegaConf.create(compose(ROOT / "conf"))
    labels = taxonomy_labels(params)
    rows = [json.loads(line) for line in (ROOT / "data/raw/wire.jsonl").open(encoding="utf-8")]
    model, report = train(build_model(params), rows, rows, labels)
    work = tmp_path_factory.mktemp("artefact")
    joblib.dump(model, work / "trained.joblib")
    split = {
        "fingerprint": "f" * 64,
        **{
            name: {"articles": len(rows), "labels": dict.fromkeys(labels, 1), "no_topic": 1}
            for name in ("train", "validation", "test")
        },
    }
    metrics = {
        "micro_f1": 0.9,
        "macro_f1": 0.8,
        "test_articles": len(rows),
        "per_label": {
            label: {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 3} for label in labels
        },
    }
    corpus = {
        "records_read": len(rows),
        "inputs": {".jsonl": {"files": 1, "records": len(rows)}},
        "bad_records_skipped": 0,
        "duplicates_dropped": {"exact": 0, "near": 0},
        "articles": len(rows),
        "gold": len(rows),
        "unlabelled": 0,
        "label_counts": dict.fromkeys(labels, 9),
        "no_topic": 12,
        "multi_topic": 11,
    }
    meta = build_metadata(
        "topic-classifier",
        to_plain(params),
        metrics,
        split,
        report,
        corpus,
        "2026-01-01T00:00:00+00:00",
    )
    publish(work / "trained.joblib", work / "topic-classifier", meta)
    return work / "topic-classifier"

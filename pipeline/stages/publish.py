"""Stage publish: trained model + metrics -> the artefact in models/topic-classifier/.

The artefact holds the model file, metadata.json (version id, created-at, labels, thresholds,
taxonomy, metrics, resolved parameters, data fingerprint, library versions, sha256 of the model
file) and a Markdown model card. The version id is derived from what made the model — data
fingerprint, resolved parameters and code version — so the same inputs give the same id.
The directory is built beside the target and swapped in whole, so no reader ever sees half of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from pipeline.artifact import CARD_FILE, METADATA_FILE, MODEL_FILES, PREDICTIONS_FILE
from pipeline.errors import TopicwireError
from pipeline.io import sha256_file

log = logging.getLogger("topicwire")
LIBRARIES = ("topicwire", "scikit-learn", "numpy", "scipy", "joblib", "datasets")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_version() -> str:
    """The package version plus a digest of its source files: any code change is a new version."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{library_versions()['topicwire']}+{digest.hexdigest()[:12]}"


def version_id(data_fingerprint: str, params: dict[str, Any], code_version: str) -> str:
    """A stable id for what made the model: same data, parameters and code -> same id."""
    blob = json.dumps(
        {"data": data_fingerprint, "params": params, "code": code_version},
        sort_keys=True,
        ensure_ascii=False,
    )
    return "tw-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def build_metadata(
    name: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    split_summary: dict[str, Any],
    train_report: dict[str, Any],
    corpus: dict[str, Any],
    created_at: str,
    model_format: str = "joblib",
) -> dict[str, Any]:
    """Everything about the model but its file checksums, which `publish` adds."""
    libraries = library_versions()
    code = code_version()
    labels = list(params["taxonomy"]["labels"])
    return {
        "name": name,
        "version": version_id(split_summary["fingerprint"], params, code),
        "code_version": code,
        "created_at": created_at,
        "labels": labels,
        "thresholds": train_report["thresholds"],
        "taxonomy": params["taxonomy"],
        "metrics": metrics,
        "params": params,
        "data": {
            "fingerprint": split_summary["fingerprint"],
            "corpus": corpus,
            **{k: split_summary[k] for k in ("train", "validation", "test")},
        },
        "libraries": libraries,
        "format": model_format,
    }


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (model card, report.md)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def corpus_summary(ingest: dict[str, Any], label: dict[str, Any]) -> dict[str, Any]:
    """What the model was trained from, from the ingest and label reports."""
    return {
        "records_read": ingest["records_read"],
        "inputs": ingest["inputs"],
        "bad_records_skipped": ingest["bad_records_skipped"],
        "duplicates_dropped": ingest["duplicates_dropped"],
        "articles": label["articles"],
        "gold": label["gold"],
        "unlabelled": label["unlabelled"],
        "label_counts": label["label_counts"],
        "no_topic": label["no_topic"],
        "multi_topic": label["multi_topic"],
        # what the model trained on: gold, topic-rule labels (conf/labels/) or both
        "training_labels": label.get("rules", {}).get("training_labels"),
        "label_sources_use": label.get("rules", {}).get("use"),
    }


def _corpus_text(corpus: dict[str, Any], labels: list[str]) -> str:
    inputs = ", ".join(
        f"{v['records']} from {k} ({v['files']} files)" for k, v in corpus["inputs"].items()
    )
    dups = corpus["duplicates_dropped"]
    counts = ", ".join(f"`{label}` {corpus['label_counts'][label]}" for label in labels)
    return (
        f"Corpus: {corpus['records_read']} records read ({inputs}); "
        f"{corpus['bad_records_skipped']} bad records skipped; {dups['exact']} exact and "
        f"{dups['near']} near duplicates dropped; {corpus['gold']} articles with gold labels, "
        f"{corpus['unlabelled']} unlabelled. Labels: {counts}; no topic "
        f"{corpus['no_topic']}, two or more topics {corpus['multi_topic']}."
        + _training_labels_text(corpus)
    )


def _training_labels_text(corpus: dict[str, Any]) -> str:
    sources = corpus.get("training_labels")
    if not sources:
        return ""
    return (
        f" Articles by source of training labels (`label_sources.use: "
        f"{corpus.get('label_sources_use')}`; the test split is always scored on gold): "
        f"{sources['gold']} gold, {sources['weak']} from the topic rules, "
        f"{sources['unlabelled']} with none."
    )


def _min_labels_note(params: dict[str, Any]) -> str:
    k = int(params["thresholds"].get("min_labels") or 0)
    if not k:
        return ""
    return (
        f"\n- Every article gets at least {k} label(s): when fewer pass their thresholds, the"
        "\n  labels whose scores come closest to theirs (score / threshold) are added."
    )


def model_card(meta: dict[str, Any]) -> str:
    """The model card: what the model tags, how well, on what data, and how to use it."""
    metrics, params, data = meta["metrics"], meta["params"], meta["data"]
    taxonomy = meta["taxonomy"]
    per_label = metrics["per_label"]
    at_least = _min_labels_note(params)
    metric_rows = [
        [
            f"`{label}`",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            m["support"],
            f"{meta['thresholds'][label]:.3f}",
        ]
        for label, m in per_label.items()
    ]
    data_rows = [
        [
            split,
            data[split]["articles"],
            data[split]["no_topic"],
            *(data[split]["labels"][label] for label in meta["labels"]),
        ]
        for split in ("train", "validation", "test")
    ]
    definitions = "\n".join(
        f"- **`{label}`** — {spec.get('description', '')} *In:* {spec.get('includes', '')}. "
        f"*Not in:* {spec.get('excludes', '')}."
        for label, spec in taxonomy["labels"].items()
    )
    return f"""# Model card: {meta["name"]} {meta["version"]}

A multi-label topic classifier for news articles (taxonomy `{taxonomy.get("name", "")}`): it
tags an article with none, one or several of {len(meta["labels"])} topics. Published by
topicwire's `dvc repro` on {meta["created_at"]}.

## Topics
{taxonomy.get("rule", "")}

{definitions}

## Model
- Features: `{params["features"]["name"]}`; classifier: `{params["model"]["name"]}`, one binary
  model per label, scores in [0, 1].
- Each label has its own decision threshold, tuned on the validation split
  (`{params["thresholds"]["strategy"]}`, beta {params["thresholds"]["beta"]}).{at_least}
- Scraped-page boilerplate is removed inside the model, exactly as at training time: give it
  raw pages.

## Test-split performance ({metrics["test_articles"]} articles)
Micro-F1 **{metrics["micro_f1"]:.3f}**, macro-F1 **{metrics["macro_f1"]:.3f}**.

{markdown_table(["label", "precision", "recall", "F1", "support", "threshold"], metric_rows)}

## Data
{_corpus_text(data["corpus"], meta["labels"])}

Data fingerprint `{data["fingerprint"][:16]}`. Articles per split (labelled articles only):

{markdown_table(["split", "articles", "no topic", *meta["labels"]], data_rows)}

## Use
```python
from pipeline import load_model
model = load_model()  # the published default, or load_model("path/to/this/directory")
model.predict(["<raw article page>"])         # [['sanctions', ...]]
model.predict_scores(["<raw article page>"])  # [{{'arms_transfers': 0.03, ...}}]
```
or `topicwire predict article.txt` (JSON Lines: id, labels, scores).

## Limitations
- Figures come from this project's own test split; articles from other sources, periods or
  styles will score lower. Check before relying on a label.
- The model sees words, not meaning: a passing mention phrased like a report can be tagged.

## Provenance
Libraries: {", ".join(f"{k} {v}" for k, v in meta["libraries"].items())}.
Model file `{MODEL_FILES[meta["format"]]}` ({meta["format"]}), sha256
`{meta["files"][MODEL_FILES[meta["format"]]]["sha256"]}`.
"""


def _write_model(trained: Path, directory: Path, model_format: str) -> Path:
    """The trained joblib file, copied as is or converted to skops (safe to load)."""
    if model_format not in MODEL_FILES:
        raise TopicwireError(
            f"publish.format must be one of {', '.join(MODEL_FILES)}, got {model_format!r}"
        )
    target = directory / MODEL_FILES[model_format]
    if model_format == "joblib":
        shutil.copyfile(trained, target)
    else:
        import joblib
        import skops.io

        skops.io.dump(joblib.load(trained), target)
    return target


def publish(
    model_file: Path, target: Path, meta: dict[str, Any], predictions: Path | None = None
) -> None:
    """Write the artefact directory next to `target`, then swap it in.

    `predictions` (the test split's scores) travel with the model, so that `topicwire compare`
    can pair two published models on the same articles."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(staging, 0o777 & ~mask)  # mkdtemp makes 0700; others may need to read the model
    try:
        written = _write_model(model_file, staging, meta["format"])
        meta["files"] = {
            written.name: {"sha256": sha256_file(written), "bytes": written.stat().st_size}
        }
        if predictions is not None:
            shutil.copyfile(predictions, staging / PREDICTIONS_FILE)
        (staging / METADATA_FILE).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (staging / CARD_FILE).write_text(model_card(meta), encoding="utf-8")
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> None:
    from pipeline.config import load_params, to_plain
    from pipeline.io import read_json
    from pipeline.stages.evaluate import METRICS, PREDICTIONS
    from pipeline.stages.ingest import REPORT as INGEST_REPORT
    from pipeline.stages.label import REPORT as LABEL_REPORT
    from pipeline.stages.split import REPORT as SPLIT_REPORT
    from pipeline.stages.train import MODEL_FILE as TRAINED
    from pipeline.stages.train import REPORT as TRAIN_REPORT

    params = load_params()
    plain = to_plain(params)
    meta = build_metadata(
        name=params.publish.name,
        params=plain,
        metrics=read_json(METRICS),
        split_summary=read_json(SPLIT_REPORT),
        train_report=read_json(TRAIN_REPORT),
        corpus=corpus_summary(read_json(INGEST_REPORT), read_json(LABEL_REPORT)),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        model_format=params.publish.get("format", "joblib"),
    )
    publish(Path(TRAINED), Path(params.publish.dir), meta, Path(PREDICTIONS))
    log.info(
        "published %s %s to %s (micro-F1 %.3f)",
        meta["name"],
        meta["version"],
        params.publish.dir,
        meta["metrics"]["micro_f1"],
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("publish", main)

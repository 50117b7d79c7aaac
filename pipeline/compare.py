"""`topicwire compare`: experiments, git revisions or artefact directories side by side.

Each reference gives its metrics, parameters and test-split predictions: an artefact directory
from its metadata.json and test_predictions.jsonl; an experiment name or git revision from
reports/metrics.json, reports/predictions.jsonl and params.yaml at that revision (read with
`dvc.api`, which knows experiment names). The comparison lists the parameters that differ, the
metrics with their confidence intervals, the per-label F1 and its change against the first
reference, overlays the precision-recall curves and — for two models scored on the same test
articles — runs a paired bootstrap that says whether the difference in micro- and macro-F1 is
significant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import TopicwireError


@dataclass
class Run:
    ref: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    predictions: list[dict[str, Any]]
    version: str | None = None

    @property
    def labels(self) -> list[str]:
        return list(self.metrics["per_label"])

    def thresholds(self) -> np.ndarray:
        return np.array([self.metrics["per_label"][label]["threshold"] for label in self.labels])


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_run(ref: str, repo: str | Path = ".") -> Run:
    """A run from an artefact directory, an experiment name or a git revision."""
    from pipeline.artifact import METADATA_FILE, PREDICTIONS_FILE

    path = Path(ref)
    if path.is_dir():
        if not (path / METADATA_FILE).is_file() or not (path / PREDICTIONS_FILE).is_file():
            raise TopicwireError(
                f"{ref}: a directory but not a published model with "
                f"{METADATA_FILE} and {PREDICTIONS_FILE}"
            )
        meta = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        return Run(
            ref,
            meta["metrics"],
            meta["params"],
            _jsonl((path / PREDICTIONS_FILE).read_text(encoding="utf-8")),
            meta["version"],
        )
    try:
        import dvc.api
        import yaml
    except ImportError as exc:  # prediction-only install
        raise TopicwireError(
            "comparing revisions or experiments needs the training extra: "
            "pip install 'topicwire[train]'"
        ) from exc
    try:

        def read(name: str) -> str:
            return dvc.api.read(name, repo=str(repo), rev=ref, encoding="utf-8")

        return Run(
            ref,
            json.loads(read("reports/metrics.json")),
            yaml.safe_load(read("params.yaml")),
            _jsonl(read("reports/predictions.jsonl")),
        )
    except TopicwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - DVC and git raise many types; all mean "not found"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TopicwireError(
            f"{ref}: not an artefact directory, experiment or git revision with "
            f"evaluation results ({first})"
        ) from exc


def _matrices(run: Run, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from pipeline.classifier import apply_thresholds, label_matrix

    by_id = {p["id"]: p for p in run.predictions}
    Y = label_matrix([by_id[i]["labels"] for i in ids], run.labels)
    scores = np.array([by_id[i]["scores"] for i in ids], dtype=float)
    min_labels = int((run.params.get("thresholds") or {}).get("min_labels") or 0)
    return Y, scores, apply_thresholds(scores, run.thresholds(), min_labels).astype(int)


def compare(runs: Sequence[Run], resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The comparison as data: parameters, metrics, per-label F1, and a paired test for two."""
    from pipeline.evaluation import paired_bootstrap
    from pipeline.stages.report import flatten

    if len(runs) < 2:
        raise TopicwireError("compare needs at least two references")
    labels = runs[0].labels
    for run in runs[1:]:
        if run.labels != labels:
            raise TopicwireError(
                f"{run.ref}: labels {run.labels} differ from {runs[0].ref}'s "
                f"{labels}; only models of one taxonomy can be compared"
            )
    flat = [flatten(run.params) for run in runs]
    keys = sorted(set().union(*flat))
    params = [
        [key, *(f.get(key, "—") for f in flat)]
        for key in keys
        if len({json.dumps(f.get(key), sort_keys=True, default=str) for f in flat}) > 1
    ]
    result: dict[str, Any] = {
        "refs": [run.ref for run in runs],
        "params": params,
        "metrics": {
            key: [
                {"value": run.metrics[key], **run.metrics.get("ci", {}).get(key, {})}
                for run in runs
            ]
            for key in ("micro_f1", "macro_f1", "samples_f1", "subset_accuracy", "hamming_loss")
        },
        "per_label_f1": {
            label: [run.metrics["per_label"][label]["f1"] for run in runs] for label in labels
        },
        "paired": None,
    }
    if len(runs) == 2:
        ids_a = [p["id"] for p in runs[0].predictions]
        if sorted(ids_a) != sorted(p["id"] for p in runs[1].predictions):
            result["paired_note"] = (
                "the two models were scored on different test articles, so they cannot be paired"
            )
        else:
            Y, _, P_a = _matrices(runs[0], ids_a)
            _, _, P_b = _matrices(runs[1], ids_a)
            result["paired"] = paired_bootstrap(Y, P_a, P_b, resamples, seed)
            result["paired"]["articles"] = len(ids_a)
    return result


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(max(map(len, rows)))]
    return [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def render_text(result: dict[str, Any]) -> str:
    refs = result["refs"]
    rows: list[list[str]] = [["", *refs]]
    for key, values in result["metrics"].items():
        rows.append([key, *(f"{v['value']:.3f}" for v in values)])
        if "low" in values[0]:
            rows.append(["  95% interval", *(f"[{v['low']:.3f}, {v['high']:.3f}]" for v in values)])
    rows.append(["F1 per label (change vs first)"])
    for label, values in result["per_label_f1"].items():
        rows.append(
            [
                f"  {label}",
                f"{values[0]:.3f}",
                *(f"{v:.3f} ({v - values[0]:+.3f})" for v in values[1:]),
            ]
        )
    if result["params"]:
        rows.append(["Parameters that differ"])
        rows += [[f"  {key}", *(str(v) for v in values)] for key, *values in result["params"]]
    lines = _columns(rows)
    paired = result.get("paired")
    if paired:
        lines.append(
            f"Paired bootstrap on {paired['articles']} test articles ({refs[1]} minus {refs[0]}):"
        )
        for key in ("micro_f1", "macro_f1"):
            p = paired[key]
            verdict = "significant" if p["significant"] else "not significant"
            lines.append(
                f"  {key}: {p['difference']:+.3f}, 95% interval [{p['low']:+.3f}, "
                f"{p['high']:+.3f}], p = {p['p_value']:.3f}: {verdict}"
            )
    elif result.get("paired_note"):
        lines.append(f"No paired test: {result['paired_note']}.")
    return "\n".join(lines)


def render_html(result: dict[str, Any], runs: Sequence[Run]) -> str:
    import html

    from sklearn.metrics import precision_recall_curve

    from pipeline.stages.report import CSS, _table, curves_svg

    esc = html.escape
    refs = result["refs"]
    parts = [
        f"<h1>Comparison: {' vs '.join(esc(r) for r in refs)}</h1>",
        "<h2>Metrics</h2>",
        _table(
            ["metric", *refs],
            [
                [
                    key,
                    *(
                        f"{v['value']:.3f}"
                        + (f" [{v['low']:.3f}, {v['high']:.3f}]" if "low" in v else "")
                        for v in values
                    ),
                ]
                for key, values in result["metrics"].items()
            ],
        ),
        "<h2>F1 per label</h2>",
        _table(
            ["label", *refs],
            [
                [
                    label,
                    f"{values[0]:.3f}",
                    *(f"{v:.3f} ({v - values[0]:+.3f})" for v in values[1:]),
                ]
                for label, values in result["per_label_f1"].items()
            ],
        ),
    ]
    paired = result.get("paired")
    if paired:
        parts.append(
            f"<h2>Paired bootstrap ({esc(refs[1])} minus {esc(refs[0])}, "
            f"{paired['articles']} articles)</h2>"
        )
        parts.append(
            _table(
                ["metric", "difference", "95 % interval", "p", "verdict"],
                [
                    [
                        key,
                        f"{paired[key]['difference']:+.3f}",
                        f"[{paired[key]['low']:+.3f}, {paired[key]['high']:+.3f}]",
                        f"{paired[key]['p_value']:.3f}",
                        "significant" if paired[key]["significant"] else "not significant",
                    ]
                    for key in ("micro_f1", "macro_f1")
                ],
            )
        )
    elif result.get("paired_note"):
        parts.append(f"<p>No paired test: {esc(result['paired_note'])}.</p>")
    parts.append("<h2>Parameters that differ</h2>")
    parts.append(
        _table(["parameter", *refs], [[esc(str(c)) for c in row] for row in result["params"]])
        if result["params"]
        else "<p>None.</p>"
    )
    parts.append("<h2>Precision-recall</h2><div class='grid'>")
    matrices = [_matrices(run, [p["id"] for p in run.predictions]) for run in runs]
    for j, label in enumerate(runs[0].labels):
        series = []
        for run, (Y, scores, _) in zip(runs, matrices, strict=True):
            if Y[:, j].any():
                precision, recall, _ = precision_recall_curve(Y[:, j], scores[:, j])
                series.append((run.ref, recall, precision))
        parts.append(
            f"<figure>{curves_svg(series, 'recall', 'precision', label)}"
            f"<figcaption>{esc(label)}</figcaption></figure>"
        )
    parts.append("</div>")
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>topicwire "
        f"comparison</title><style>{CSS}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )

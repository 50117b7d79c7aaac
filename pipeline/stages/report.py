"""Stage report: the evaluation as one self-contained page, reports/report.html, and its tables
as reports/report.md (for pull-request comments).

The page opens offline: styles inline, figures as inline SVG (matplotlib), no script, no font or
CDN. It holds the model and data summary (version, corpus fingerprint, parameters that differ
from conf/'s defaults), metric tables with confidence intervals and baselines, every plot, the
top positive and negative terms per label, and an error analysis: per label the worst false
positives and false negatives with a snippet, the score and the terms that pushed it.
"""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.stages.publish import markdown_table

log = logging.getLogger("topicwire")
HTML_REPORT = "reports/report.html"
MD_REPORT = "reports/report.md"
EXAMPLES = 5


# -- parameters ------------------------------------------------------------------------------
def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def changed_params(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[list[Any]]:
    """[[key, default, value], ...] for every parameter whose value differs from conf/'s."""
    now, base = flatten(params), flatten(defaults)
    return [
        [key, base.get(key, "—"), now.get(key, "—")]
        for key in sorted(set(now) | set(base))
        if now.get(key) != base.get(key)
    ]


# -- figures ---------------------------------------------------------------------------------
def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float = 3.4, height: float = 2.8) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "topicwire"  # stable element ids: reproducible pages
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.grid(alpha=0.3)
    return fig, ax


def curve_svg(
    x: Sequence[float],
    y: Sequence[float],
    xlabel: str,
    ylabel: str,
    title: str,
    mark: float | None = None,
    diagonal: bool = False,
) -> str:
    return curves_svg([("", x, y)], xlabel, ylabel, title, mark, diagonal)


def curves_svg(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    mark: float | None = None,
    diagonal: bool = False,
) -> str:
    """Line plot of one or several named series on [0, 1] x [0, 1]."""
    fig, ax = _figure()
    for name, x, y in series:
        ax.plot(
            x,
            y,
            marker="." if len(x) < 30 else None,
            label=name or None,
            color=None if len(series) > 1 else "#1f5f99",
        )
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", linewidth=1)
    if mark is not None:
        ax.axvline(mark, color="#c0392b", linestyle="--", linewidth=1, label=f"chosen {mark:.2f}")
    if mark is not None or len(series) > 1:
        ax.legend(loc="lower left", fontsize=7)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    return _svg(fig)


def matrix_svg(matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str) -> str:
    size = 1.2 + 0.75 * len(cols)
    fig, ax = _figure(size, 0.9 + 0.6 * len(rows))
    ax.grid(False)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    high = matrix.max() or 1
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(int(value)),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if value > high / 2 else "black",
        )
    ax.set_title(title)
    return _svg(fig)


# -- the page --------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1180px;padding:0 1rem;color:#1d2329;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem}td,th{border:1px solid #d0d7de;
padding:.25rem .55rem;text-align:right;font-size:.9rem}th{background:#f3f5f7}
td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:.8rem}
figure{margin:0;border:1px solid #e3e7eb;padding:.3rem}figure svg{display:block;height:auto;
max-width:100%}figcaption{font-size:.8rem;color:#57606a}.terms{font-size:.85rem}
.snippet,.push{font-size:.85rem;color:#333;text-align:left}.pos{color:#1a7f37}.neg{color:#b42318}code{font-size:.85rem}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _f(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"


def metric_rows(metrics: Mapping[str, Any]) -> list[list[str]]:
    ci = metrics["ci"]
    rows = []
    for key in (
        "micro_f1",
        "macro_f1",
        "weighted_f1",
        "samples_f1",
        "subset_accuracy",
        "hamming_loss",
        "micro_precision",
        "micro_recall",
    ):
        interval = f"[{ci[key]['low']:.3f}, {ci[key]['high']:.3f}]" if key in ci else ""
        rows.append([key, _f(metrics[key]), interval])
    return rows


def baseline_rows(metrics: Mapping[str, Any]) -> list[list[str]]:
    rows = [["model", _f(metrics["micro_f1"]), _f(metrics["macro_f1"]), "", ""]]
    for name, base in metrics["baselines"].items():
        gain = metrics["gain_over_baselines"][name]
        rows.append(
            [
                f"baseline: {name}",
                _f(base["micro_f1"]),
                _f(base["macro_f1"]),
                f"{gain['micro_f1']:+.3f}",
                f"{gain['macro_f1']:+.3f}",
            ]
        )
    return rows


def label_rows(metrics: Mapping[str, Any], labels: Sequence[str]) -> list[list[str]]:
    keywords = metrics["baselines"]["keywords"]["per_label_f1"]
    return [
        [
            label,
            _f(m["precision"]),
            _f(m["recall"]),
            _f(m["f1"]),
            str(m["support"]),
            _f(m.get("roc_auc")),
            _f(m.get("average_precision")),
            _f(m["threshold"]),
            _f(keywords[label]),
        ]
        for label, m in ((label, metrics["per_label"][label]) for label in labels)
    ]


LABEL_HEADER = [
    "label",
    "precision",
    "recall",
    "F1",
    "support",
    "ROC AUC",
    "avg. precision",
    "threshold",
    "keyword F1",
]


def _pct(x: Any) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def rules_tables(
    label_report: Mapping[str, Any], metrics: Mapping[str, Any]
) -> list[tuple[str, list[str], list[list[str]]]]:
    """The topic rules and what the model adds to them: (title, header, rows) per table, shared
    by the HTML and Markdown reports."""
    rules = label_report.get("rules")
    if not rules:
        return []
    tables = []
    sources = metrics.get("label_sources")
    if sources:
        rows = []
        names = {
            "rules": "topic rules alone (abstain = no)",
            "weak": "model trained on rule labels only",
            "gold": "model trained on gold labels only",
            "both": "model trained on gold + rule labels",
        }
        for key, name in names.items():
            entry = sources.get(key) or {}
            if "micro_f1" not in entry:
                rows.append([name, entry.get("skipped", "—"), "", "", "", ""])
                continue
            ci = entry["ci"]
            trained = entry.get("train_articles")
            rows.append(
                [
                    name + (" ← this model" if key == sources["trained_on"] else ""),
                    f"{entry['micro_f1']:.3f} [{ci['micro_f1']['low']:.3f}, "
                    f"{ci['micro_f1']['high']:.3f}]",
                    f"{entry['macro_f1']:.3f} [{ci['macro_f1']['low']:.3f}, "
                    f"{ci['macro_f1']['high']:.3f}]",
                    _f(entry["micro_precision"]),
                    _f(entry["micro_recall"]),
                    "" if trained is None else f"{trained['gold']} / {trained['weak']}",
                ]
            )
        for key, name in (
            ("weak_minus_rules", "rule-label model − rules"),
            ("gold_minus_weak", "gold model − rule-label model"),
            ("both_minus_gold", "gold + rules model − gold model"),
        ):
            test = sources.get(key)
            if test:
                micro, macro = test["micro_f1"], test["macro_f1"]
                rows.append(
                    [
                        f"difference: {name}",
                        f"{micro['difference']:+.3f} [{micro['low']:+.3f}, {micro['high']:+.3f}]"
                        f" p={micro['p_value']:.3f}",
                        f"{macro['difference']:+.3f} [{macro['low']:+.3f}, {macro['high']:+.3f}]"
                        f" p={macro['p_value']:.3f}",
                        "",
                        "",
                        "",
                    ]
                )
        tables.append(
            (
                f"Rules alone and models by source of training labels "
                f"({sources['test_articles']} gold test articles)",
                [
                    "",
                    "micro-F1 [95 %]",
                    "macro-F1 [95 %]",
                    "precision",
                    "recall",
                    "trained on gold / rule labels",
                ],
                rows,
            )
        )
    tables.append(
        (
            f"Topic rules per topic (against {rules['measured_on']} articles with known labels; "
            f"training labels: use={rules['use']}, pool {rules['pool']})",
            [
                "topic",
                "decided",
                "abstained",
                "labelled",
                "precision",
                "recall",
                "F1",
                "F1, abstain = no",
            ],
            [
                [
                    topic,
                    _pct(t["coverage"]),
                    str(t["abstained"]),
                    str(t["positive"]),
                    _f(t["precision"]),
                    _f(t["recall"]),
                    _f(t["f1"]),
                    _f(t["f1_abstain_as_no"]),
                ]
                for topic, t in rules["per_topic"].items()
            ],
        )
    )
    tables.append(
        (
            "Per rule (coverage, overlap and conflict: share of all articles; precision and "
            "recall against known labels; exclusions: precision = vetoed articles without the "
            "topic)",
            [
                "rule",
                "weight",
                "coverage",
                "overlap",
                "conflict",
                "articles",
                "precision",
                "recall",
            ],
            [
                [
                    name,
                    "exclude" if "weight" not in r else f"{r['weight']:+g}",
                    _pct(r["coverage"]),
                    _pct(r.get("overlap")) if "overlap" in r else "",
                    _pct(r.get("conflict")) if "conflict" in r else "",
                    str(r["articles"]),
                    _f(r["precision"]),
                    _f(r.get("recall")) if "recall" in r else "",
                ]
                for name, r in rules["per_rule"].items()
            ],
        )
    )
    return tables


def build_markdown(
    meta: Mapping[str, Any],
    metrics: Mapping[str, Any],
    labels: Sequence[str],
    changed: list[list[Any]],
    rules: Sequence[tuple[str, list[str], list[list[str]]]] = (),
) -> str:
    changed_text = (
        markdown_table(["parameter", "default", "this run"], changed)
        if changed
        else "None: every parameter is conf/'s default."
    )
    rules_text = "".join(
        f"\n## {title}\n\n{markdown_table(header, rows)}\n" for title, header, rows in rules
    )
    if rules_text:
        rules_text = "\n# Topic rules and label sources\n" + rules_text
    return f"""# Evaluation: {meta["name"]} {meta["version"]}

Test split: {metrics["test_articles"]} articles; data fingerprint `{
        meta["data"]["fingerprint"][:16]
    }`.
Intervals are 95 % bootstrap intervals over test articles.

{markdown_table(["metric", "value", "95 % interval"], metric_rows(metrics))}

{
        markdown_table(
            ["", "micro-F1", "macro-F1", "model gain (micro)", "model gain (macro)"],
            baseline_rows(metrics),
        )
    }

{markdown_table(LABEL_HEADER, label_rows(metrics, labels))}
{rules_text}
Parameters that differ from the defaults:

{changed_text}
"""


def _terms_html(pairs: Sequence[tuple[str, float]], css: str) -> str:
    return ", ".join(f'<span class="{css}">{html.escape(t)}</span> ({w:+.2f})' for t, w in pairs)


def error_examples(
    model: Any,
    rows: Sequence[Mapping[str, Any]],
    scores: np.ndarray,
    Y: np.ndarray,
    thresholds: np.ndarray,
    labels: Sequence[str],
    k: int = EXAMPLES,
    min_labels: int = 0,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per label: the k highest-scoring false positives and the k lowest-scoring false negatives,
    with the terms that pushed each one the wrong way."""
    from pipeline.classifier import apply_thresholds
    from pipeline.explain import contributions
    from pipeline.stages.train import texts_of

    decided = apply_thresholds(scores, thresholds, min_labels).astype(bool)
    result: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for j, label in enumerate(labels):
        predicted = decided[:, j]
        fp = [i for i in np.argsort(-scores[:, j], kind="stable") if predicted[i] and not Y[i, j]]
        fn = [i for i in np.argsort(scores[:, j], kind="stable") if Y[i, j] and not predicted[i]]
        result[label] = {}
        for kind, chosen, direction in (
            ("false_positives", fp[:k], 1),
            ("false_negatives", fn[:k], -1),
        ):
            texts = texts_of([rows[i] for i in chosen])
            pushes = contributions(model, texts, j, direction=direction) if texts else []
            result[label][kind] = [
                {
                    "id": rows[i]["id"],
                    "score": round(float(scores[i, j]), 3),
                    "labels": rows[i]["labels"],
                    "title": rows[i].get("title") or "",
                    "snippet": rows[i]["text"][:320],
                    "terms": push,
                }
                for i, push in zip(chosen, pushes, strict=True)
            ]
    return result


def build_html(
    meta: Mapping[str, Any],
    metrics: Mapping[str, Any],
    labels: Sequence[str],
    changed: list[list[Any]],
    figures: Mapping[str, list[tuple[str, str]]],
    terms: Mapping[str, Any],
    errors: Mapping[str, Any],
    rules: Sequence[tuple[str, list[str], list[list[str]]]] = (),
) -> str:
    esc = html.escape
    parts = [
        f"<h1>Evaluation report — {esc(meta['name'])} <code>{esc(meta['version'])}</code></h1>",
        "<h2>Model and data</h2>",
        _table(
            ["", ""],
            [
                ["version", f"<code>{esc(meta['version'])}</code>"],
                ["created", esc(meta["created_at"])],
                [
                    "features + model",
                    esc(
                        f"{meta['params']['features']['name']} + {meta['params']['model']['name']}"
                    ),
                ],
                ["corpus fingerprint", f"<code>{esc(meta['data']['fingerprint'][:16])}</code>"],
                [
                    "articles (train / validation / test)",
                    " / ".join(
                        str(meta["data"][s]["articles"]) for s in ("train", "validation", "test")
                    ),
                ],
            ],
        ),
        "<h3>Parameters that differ from conf/'s defaults</h3>",
        _table(
            ["parameter", "default", "this run"], [[esc(str(c)) for c in row] for row in changed]
        )
        if changed
        else "<p>None: every parameter is conf/'s default.</p>",
        "<h2>Metrics (test split)</h2>",
        "<p>Intervals are 95 % bootstrap intervals, resampling test articles.</p>",
        _table(["metric", "value", "95 % interval"], metric_rows(metrics)),
        "<h3>Against baselines on the same articles</h3>",
        _table(
            ["", "micro-F1", "macro-F1", "model gain (micro)", "model gain (macro)"],
            baseline_rows(metrics),
        ),
        "<h3>Per label</h3>",
        _table(LABEL_HEADER, label_rows(metrics, labels)),
    ]
    if rules:
        parts.append(
            "<h2>Topic rules and label sources</h2><p>What the topic rules (conf/labels/) say "
            "on their own, and what a model trained on their labels adds, all scored against "
            "gold labels. Rule figures: reports/label.json.</p>"
        )
        for title, header, rows in rules:
            parts += [f"<h3>{esc(title)}</h3>", _table(header, [[esc(c) for c in r] for r in rows])]
    parts.append("<h2>Plots</h2>")
    for group, items in figures.items():
        parts.append(f"<h3>{esc(group)}</h3><div class='grid'>")
        parts += [
            f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"
            for caption, svg in items
        ]
        parts.append("</div>")
    parts.append("<h2>Top terms per label</h2>")
    for label in labels:
        parts.append(
            f"<h3>{esc(label)}</h3><p class='terms'>For: "
            f"{_terms_html(terms[label]['positive'], 'pos')}</p><p class='terms'>"
            f"Against: {_terms_html(terms[label]['negative'], 'neg')}</p>"
        )
    parts.append(
        "<h2>Error analysis</h2><p>Per label, the false positives with the highest "
        "scores and the false negatives with the lowest, with the terms that pushed "
        "the score the wrong way.</p>"
    )
    for label in labels:
        parts.append(
            f"<h3>{esc(label)} (threshold {metrics['per_label'][label]['threshold']:.2f})</h3>"
        )
        for kind, css in (("false_positives", "pos"), ("false_negatives", "neg")):
            examples = errors[label][kind]
            rows = [
                [
                    f"<code>{esc(e['id'])}</code>",
                    f"{e['score']:.3f}",
                    esc(", ".join(e["labels"]) or "none"),
                    f"<div class='snippet'><b>{esc(e['title'])}</b> {esc(e['snippet'])}…</div>",
                    f"<div class='push'>{_terms_html(e['terms'], css)}</div>",
                ]
                for e in examples
            ]
            parts.append(f"<h4>{kind.replace('_', ' ')}: {len(examples)}</h4>")
            parts.append(
                _table(["article", "score", "true labels", "text", "pushed by"], rows)
                if rows
                else "<p>None.</p>"
            )
    body = "\n".join(parts)
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>topicwire evaluation — {esc(meta['version'])}</title>"
        f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def figures_from_plots(
    plots_dir: Any, labels: Sequence[str], thresholds: Mapping[str, float]
) -> dict[str, list[tuple[str, str]]]:
    """Render the plot data that evaluate wrote (the same files DVC shows) as SVG figures."""
    import csv
    import json
    from pathlib import Path

    root = Path(plots_dir)

    def table(rel: str) -> list[list[float]]:
        with open(root / rel, encoding="utf-8") as fh:
            return [[float(v) for v in row] for row in list(csv.reader(fh))[1:]]

    figures: dict[str, list[tuple[str, str]]] = {
        "Precision-recall": [],
        "F1 by threshold": [],
        "Calibration": [],
        "Confusion": [],
        "Label co-occurrence": [],
    }
    # (group, plot directory, caption suffix, x label, y label, extra drawing options)
    curves = [
        ("Precision-recall", "precision_recall", "", "recall", "precision", {}),
        (
            "F1 by threshold",
            "threshold_f1",
            " (red: chosen threshold)",
            "threshold",
            "F1",
            {"mark": None},
        ),
        (
            "Calibration",
            "calibration",
            " (dashed: perfect calibration)",
            "mean score",
            "fraction positive",
            {"diagonal": True},
        ),
    ]
    for label in labels:
        for group, folder, suffix, xlabel, ylabel, options in curves:
            rows = table(f"{folder}/{label}.csv")
            if "mark" in options:
                options = {"mark": thresholds[label]}
            figures[group].append(
                (
                    label + suffix,
                    curve_svg(
                        [r[0] for r in rows], [r[1] for r in rows], xlabel, ylabel, label, **options
                    ),
                )
            )
        counts = np.zeros((2, 2))
        for record in json.loads((root / f"confusion/{label}.json").read_text()):
            counts[record["actual"] == "yes", record["predicted"] == "yes"] += 1
        figures["Confusion"].append(
            (
                f"{label}: rows actual, columns predicted",
                matrix_svg(
                    counts, ["actual no", "actual yes"], ["predicted no", "predicted yes"], label
                ),
            )
        )
    index = {label: j for j, label in enumerate(labels)}
    for name in ("true", "predicted"):
        matrix = np.zeros((len(labels), len(labels)))
        for record in json.loads((root / f"cooccurrence/{name}.json").read_text()):
            matrix[index[record["label"]], index[record["with"]]] += 1
        figures["Label co-occurrence"].append(
            (
                f"{name} labels (diagonal: articles per label)",
                matrix_svg(matrix, labels, labels, f"{name} labels"),
            )
        )
    return figures


def main() -> None:
    import json
    from pathlib import Path

    from omegaconf import OmegaConf

    from pipeline.artifact import load_model
    from pipeline.classifier import label_matrix
    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles
    from pipeline.errors import TopicwireError
    from pipeline.explain import top_terms
    from pipeline.io import read_json, write_text
    from pipeline.stages.compose import compose
    from pipeline.stages.evaluate import METRICS, PLOTS_DIR, PREDICTIONS
    from pipeline.stages.label import REPORT as LABEL_REPORT

    params = load_params()
    labels = taxonomy_labels(params)
    model = load_model(params.publish.dir)
    meta = model.metadata
    metrics = read_json(METRICS)
    rows = load_articles(Path(params.data.split_dir) / "test.parquet").to_list()
    predictions = [json.loads(line) for line in Path(PREDICTIONS).read_text("utf-8").splitlines()]
    if [p["id"] for p in predictions] != [r["id"] for r in rows]:
        raise TopicwireError(f"{PREDICTIONS} does not match the test split; run `dvc repro`")
    scores = np.array([p["scores"] for p in predictions])
    thresholds = model.pipeline[-1].thresholds_
    defaults = OmegaConf.to_container(OmegaConf.create(compose("conf")))
    changed = changed_params(meta["params"], defaults)
    figures = figures_from_plots(PLOTS_DIR, labels, dict(zip(labels, thresholds, strict=True)))
    errors = error_examples(
        model.pipeline,
        rows,
        scores,
        label_matrix([r["labels"] for r in rows], labels),
        thresholds,
        labels,
        min_labels=model.pipeline[-1].min_labels,
    )
    rules = rules_tables(read_json(LABEL_REPORT), metrics)
    page = build_html(
        meta, metrics, labels, changed, figures, top_terms(model.pipeline, labels), errors, rules
    )
    write_text(HTML_REPORT, page)
    write_text(MD_REPORT, build_markdown(meta, metrics, labels, changed, rules))
    log.info(
        "wrote %s (%d figures) and %s",
        HTML_REPORT,
        sum(len(v) for v in figures.values()),
        MD_REPORT,
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("report", main)

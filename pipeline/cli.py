"""The `topicwire` command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from pipeline.errors import BadRecord, TopicwireError

BATCH_SIZE = 256


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="topicwire")
def main() -> None:
    """Tag news articles with topics using a model trained and published by `dvc repro`.

    Train and publish with `dvc repro`; run experiments with `dvc exp run -S ...`.
    """


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--model",
    "-m",
    metavar="MODEL",
    help="Artefact directory, or a registered name@version / name#stage. "
    "[default: the model `dvc repro` published, models/topic-classifier]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON Lines, or CSV with id, labels (a;b) and a score column per label.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="One decision threshold for every label instead of the tuned ones (a model trained "
    "with thresholds.min_labels still gives at least that many labels).",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many labels per article: the highest-scoring that pass.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add, per predicted label, the terms that contributed most (JSON Lines only).",
)
@click.option(
    "--on-error",
    type=click.Choice(["fail", "skip"]),
    default="fail",
    show_default=True,
    help="A bad record stops the run (fail) or is skipped and reported at the end (skip).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=BATCH_SIZE,
    show_default=True,
    help="Articles scored at a time; memory stays bounded whatever the input size.",
)
def predict(
    inputs: tuple[str, ...],
    model: str | None,
    output_format: str,
    threshold: float | None,
    top_k: int | None,
    explain: bool,
    on_error: str,
    batch_size: int,
) -> None:
    """Tag articles and write one line per article to standard output.

    INPUT is a .txt file holding one raw article page; a .jsonl, .csv or .parquet file with one
    article per record (`text`, optional `title` and `id`); or - for JSON Lines on standard input.
    Each output line is {"id": ..., "labels": [...], "scores": {"<label>": 0.93, ...}}. Input is
    read and scored in batches, so memory stays flat on files of any size; a progress count goes
    to standard error when it is a terminal.

    \b
    Examples:
      topicwire predict article.txt
      topicwire predict --model models/topic-classifier feed.jsonl archive.parquet
      cat feed.jsonl | topicwire predict - --format csv > tags.csv
      topicwire predict --explain --top-k 2 article.txt
    """
    from pipeline.artifact import load_model
    from pipeline.readers import RawArticle, read_articles

    if explain and output_format != "jsonl":
        _fail("topicwire predict: error: --explain needs --format jsonl")
    skipped: list[BadRecord] = []
    written = 0
    progress = _progress()
    try:
        loaded = load_model(model)
        emit = _Emitter(loaded, output_format, threshold, top_k, explain)

        def records() -> Iterator[RawArticle]:
            for name in inputs:
                for record in read_articles(name, id_prefix=name):
                    if isinstance(record, BadRecord):
                        if on_error == "fail":
                            raise TopicwireError(f"{record} (use --on-error skip to skip it)")
                        skipped.append(record)
                        continue
                    yield record

        batch: list[RawArticle] = []
        try:
            for record in records():
                batch.append(record)
                if len(batch) >= batch_size:
                    written += emit(batch)
                    progress.update(len(batch))
                    batch = []
        finally:
            # Articles read before a failure are still tagged and written: nothing is lost.
            if batch:
                written += emit(batch)
                progress.update(len(batch))
            progress.close()
    except TopicwireError as exc:
        _fail(f"topicwire predict: error: {exc}")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error
        return
    if skipped:
        click.echo(
            f"topicwire predict: {written} article(s) tagged, {len(skipped)} bad "
            "record(s) skipped:",
            err=True,
        )
        for bad in skipped:
            click.echo(f"  {bad}", err=True)


def _progress():  # noqa: ANN202 - a tqdm bar, or a do-nothing stand-in
    from tqdm import tqdm

    return tqdm(unit=" articles", file=sys.stderr, disable=not sys.stderr.isatty())


class _Emitter:
    """Scores a batch of records and writes their lines in the chosen format."""

    def __init__(
        self,
        model,
        output_format: str,
        threshold: float | None,  # noqa: ANN001
        top_k: int | None,
        explain: bool,
    ) -> None:
        import csv

        self.model, self.threshold, self.top_k, self.explain = model, threshold, top_k, explain
        self.csv = csv.writer(sys.stdout, lineterminator="\n") if output_format == "csv" else None
        if self.csv is not None:
            self.csv.writerow(["id", "labels", *model.labels])

    def __call__(self, batch) -> int:  # noqa: ANN001
        from pipeline.text import join_title_body

        texts = [join_title_body(r.title, r.text) if r.title else r.text for r in batch]
        scores = self.model.score_matrix(texts)
        tags = self.model.labels_from_scores(scores, self.threshold, self.top_k)
        reasons = self.model.explain_batch(texts, tags) if self.explain else None
        for i, (record, row) in enumerate(zip(batch, scores, strict=True)):
            rounded = [round(float(v), 4) for v in row]
            if self.csv is not None:
                self.csv.writerow([record.id, ";".join(tags[i]), *rounded])
                continue
            line = {
                "id": record.id,
                "labels": tags[i],
                "scores": dict(zip(self.model.labels, rounded, strict=True)),
            }
            if reasons is not None:
                line["explanations"] = {
                    label: [[t, w] for t, w in terms] for label, terms in reasons[i].items()
                }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return len(batch)


@main.command()
@click.option(
    "--model",
    "-m",
    metavar="MODEL",
    help="Artefact directory, or a registered name@version / name#stage. "
    "[default: the published model]",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--max-batch",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Most articles in one request.",
)
@click.option(
    "--max-body-mb",
    type=click.FloatRange(min=0.001),
    default=5.0,
    show_default=True,
    help="Largest request body, in megabytes.",
)
def serve(model: str | None, host: str, port: int, max_batch: int, max_body_mb: float) -> None:
    """Serve the model over HTTP: POST /predict, GET /health, GET /model.

    \b
    Examples:
      topicwire serve --port 8080
      curl -s localhost:8080/predict -H 'content-type: application/json' \\
           -d '{"text": "Rolling blackouts after strikes on substations ..."}'
    """
    try:
        import uvicorn

        from pipeline.serve import create_app
    except ImportError:
        _fail("topicwire serve: error: needs the serve extra: pip install 'topicwire[serve]'")
    from pipeline.artifact import load_model

    try:
        loaded = load_model(model)
    except TopicwireError as exc:
        _fail(f"topicwire serve: error: {exc}")
    app = create_app(loaded, max_batch=max_batch, max_body_bytes=int(max_body_mb * 1_000_000))
    click.echo(
        f"topicwire serve: {loaded.metadata['name']} {loaded.version} on http://{host}:{port}",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.command()
@click.argument("refs", nargs=-1, required=True, metavar="REF...")
@click.option(
    "--output",
    "-o",
    default="reports/compare.html",
    show_default=True,
    help="Where to write the comparison page.",
)
@click.option(
    "--resamples",
    type=click.IntRange(min=100),
    default=2000,
    show_default=True,
    help="Bootstrap resamples of the paired test.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
def compare(refs: tuple[str, ...], output: str, resamples: int, seed: int) -> None:
    """Compare models side by side: a terminal table and one HTML page.

    REF is an experiment name (`dvc exp show`), a git revision, or a published model directory.
    Shows the parameters that differ, metrics with 95 % intervals, F1 per label and its change,
    overlaid precision-recall curves, and for two models scored on the same test articles a
    paired bootstrap saying whether the micro- and macro-F1 difference is significant.

    \b
    Examples:
      topicwire compare main svm-run
      topicwire compare HEAD~1 HEAD
      topicwire compare models/topic-classifier /archive/topic-classifier-v1
    """
    from pipeline.compare import compare as compare_runs
    from pipeline.compare import load_run, render_html, render_text
    from pipeline.io import write_text

    try:
        runs = [load_run(ref) for ref in refs]
        result = compare_runs(runs, resamples, seed)
        write_text(output, render_html(result, runs))
    except TopicwireError as exc:
        _fail(f"topicwire compare: error: {exc}")
    click.echo(render_text(result))
    click.echo(f"\nComparison page: {output}")


@main.group()
def label() -> None:
    """Grow the gold labels: pick the articles worth annotating next."""


@label.command("suggest")
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "-n",
    "--count",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="How many articles to suggest.",
)
@click.option(
    "--model",
    "-m",
    metavar="MODEL",
    help="Artefact directory or registry reference. [default: models/topic-classifier]",
)
@click.option(
    "--table",
    default="data/labelled/articles.parquet",
    show_default=True,
    help="The label stage's table; its articles without gold labels are the candidates "
    "(used when no INPUT is given).",
)
@click.option(
    "--out",
    "-o",
    default="data/suggestions/to-annotate.jsonl",
    show_default=True,
    help="JSON Lines file to write; the Label Studio files are written beside it.",
)
@click.option(
    "--max-similarity",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Skip an article more similar than this (cosine) to one already suggested.",
)
def label_suggest(
    inputs: tuple[str, ...],
    count: int,
    model: str | None,
    table: str,
    out: str,
    max_similarity: float,
) -> None:
    """Write the unlabelled articles the model is least sure about, ready for annotation.

    Candidates are the articles of INPUT files (as for `predict`), or without INPUT the
    articles of the label stage's table that have no gold labels. Topics take turns choosing
    their most uncertain article (score nearest the topic's threshold), skipping near copies of
    articles already chosen. Writes OUT (JSON Lines: add `labels` to each record), and beside it
    OUT.label-studio.json (tasks with the model's labels as predictions) and
    OUT.label-studio.xml (the labelling configuration). Put the annotated JSON Lines file, or
    Label Studio's JSON export, in data/annotations/: the next `dvc repro` merges it as gold.

    \b
    Examples:
      topicwire label suggest -n 100
      topicwire label suggest -n 20 scraped/2026-11.jsonl -o batch-07.jsonl
    """
    from pipeline.artifact import load_model
    from pipeline.readers import read_articles
    from pipeline.suggest import Candidate, candidates_from_table, suggest, write_suggestions

    try:
        loaded = load_model(model)
        skipped: list[BadRecord] = []
        if inputs:
            candidates = []
            for name in inputs:
                for record in read_articles(name, id_prefix=name):
                    if isinstance(record, BadRecord):
                        skipped.append(record)
                        continue
                    candidates.append(Candidate(record.id, record.title, record.text))
            origin = f"{len(candidates)} article(s) from {len(inputs)} input(s)"
        else:
            candidates, gold = candidates_from_table(table)
            origin = f"{len(candidates)} article(s) of {table} without gold labels ({gold} with)"
        if not candidates:
            _fail(
                f"topicwire label suggest: error: no candidate articles ({origin}); give "
                "INPUT files of unlabelled articles, or add some to data/raw/ and run `dvc repro`"
            )
        chosen = suggest(loaded, candidates, count, max_similarity)
        hints = {
            label: str(spec.get("description", ""))
            for label, spec in loaded.metadata["taxonomy"]["labels"].items()
        }
        paths = write_suggestions(chosen, out, loaded.version, hints)
    except TopicwireError as exc:
        _fail(f"topicwire label suggest: error: {exc}")
    by_topic = Counter(s.topic for s in chosen)
    click.echo(
        f"{len(chosen)} of {origin} suggested "
        f"({', '.join(f'{t} {n}' for t, n in sorted(by_topic.items()))}):"
    )
    for kind, path in paths.items():
        click.echo(f"  {kind:<13} {path}")
    if len(chosen) < count:
        click.echo(
            f"  only {len(chosen)} of {count}: the rest were near copies of those chosen "
            "(raise --max-similarity to allow them)",
            err=True,
        )
    if skipped:
        click.echo(f"  {len(skipped)} bad record(s) skipped:", err=True)
        for bad in skipped:
            click.echo(f"    {bad}", err=True)


@main.group()
def models() -> None:
    """Model versions and stages: GTO git tags on the `topic-classifier` artifact.

    A version is a git tag name@vX.Y.Z on the commit whose dvc.lock holds the model; a stage is
    a tag name#stage#N. `--model name@v1.2.0` or `--model name#prod` then loads it, anywhere in
    the project (or `dvc artifacts get . name --rev v1.2.0`). Commit dvc.lock before registering.
    """


def _registry(repo: str) -> tuple[str, str]:
    from pipeline.artifact import DEFAULT_NAME
    from pipeline.registry import project_root

    try:
        return str(project_root(Path(repo))), DEFAULT_NAME
    except TopicwireError as exc:
        _fail(f"topicwire models: error: {exc}")


@models.command("list")
@click.option("--repo", default=".", show_default=True, help="The project.")
@click.option("--name", default=None, help="Artifact name. [default: topic-classifier]")
def models_list(repo: str, name: str | None) -> None:
    """Registered versions, newest first, with stages and test micro/macro-F1."""
    from pipeline.registry import versions

    root, default = _registry(repo)
    rows = versions(name or default, root)
    if not rows:
        click.echo(
            f"no registered versions of {name or default}; see `topicwire models register --help`"
        )
        return
    click.echo(
        f"{'version':<12}{'stages':<16}{'micro-F1':>9}{'macro-F1':>9}  {'commit':<13}created"
    )
    for r in rows:
        f1 = [f"{r[k]:.3f}" if r[k] is not None else "—" for k in ("micro_f1", "macro_f1")]
        click.echo(
            f"{r['version']:<12}{','.join(r['stages']) or '—':<16}{f1[0]:>9}{f1[1]:>9}  "
            f"{r['commit']:<13}{r['created_at']}"
        )


@models.command("register")
@click.argument("version", required=False)
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default=None,
    help="Next version by bumping the latest (when VERSION is not given).",
)
@click.option("--ref", default="HEAD", show_default=True, help="Commit holding the model.")
@click.option("--repo", default=".", show_default=True)
def models_register(version: str | None, bump: str | None, ref: str, repo: str) -> None:
    """Tag a commit's model as a version: `gto register` (e.g. VERSION v1.2.0)."""
    import gto.api

    root, name = _registry(repo)
    try:
        tag = gto.api.register(
            root,
            name,
            ref=ref,
            version=version,
            bump_major=bump == "major",
            bump_minor=bump == "minor",
            bump_patch=bump == "patch",
        )
    except Exception as exc:  # noqa: BLE001 - GTO explains what was wrong
        _fail(f"topicwire models register: error: {exc}")
    click.echo(f"registered {name}@{tag.version} at {tag.commit_hexsha[:12]}")


@models.command("promote")
@click.argument("version")
@click.option("--stage", required=True, help="Stage name, e.g. staging or prod.")
@click.option("--repo", default=".", show_default=True)
def models_promote(version: str, stage: str, repo: str) -> None:
    """Put a registered version in a stage: `gto assign --stage`."""
    import gto.api

    root, name = _registry(repo)
    try:
        gto.api.assign(root, name, stage, version=version)
    except Exception as exc:  # noqa: BLE001
        _fail(f"topicwire models promote: error: {exc}")
    click.echo(f"{name}@{version} is now in stage {stage} ({name}#{stage})")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


if __name__ == "__main__":
    main()

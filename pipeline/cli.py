"""The `topicwire` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

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
    help="Artefact directory of a published model. "
    "[default: the model `dvc repro` published, models/topic-classifier]",
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
def predict(inputs: tuple[str, ...], model: str | None, on_error: str, batch_size: int) -> None:
    """Tag articles and write one JSON line per article to standard output.

    INPUT is a .txt file holding one raw article page; a .jsonl, .csv or .parquet file with one
    article per record (`text`, optional `title` and `id`); or - for JSON Lines on standard input.
    Each output line is {"id": ..., "labels": [...], "scores": {"<label>": 0.93, ...}}.

    \b
    Examples:
      topicwire predict article.txt
      topicwire predict --model models/topic-classifier feed.jsonl archive.parquet
      cat feed.jsonl | topicwire predict -
    """
    from pipeline.artifact import load_model
    from pipeline.readers import RawArticle, read_articles
    from pipeline.text import join_title_body

    skipped: list[BadRecord] = []
    written = 0
    try:
        loaded = load_model(model)

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
                    written += _emit(loaded, batch, join_title_body)
                    batch = []
        finally:
            # Articles read before a failure are still tagged and written: nothing is lost.
            if batch:
                written += _emit(loaded, batch, join_title_body)
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


def _emit(model, batch, join) -> int:  # noqa: ANN001 - internal helper
    texts = [join(r.title, r.text) if r.title else r.text for r in batch]
    scores = model.score_matrix(texts)
    labels = model.labels_from_scores(scores)
    out = sys.stdout
    for record, row, tags in zip(batch, scores, labels, strict=True):
        line = {
            "id": record.id,
            "labels": tags,
            "scores": {
                label: round(float(s), 4) for label, s in zip(model.labels, row, strict=True)
            },
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()
    return len(batch)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


if __name__ == "__main__":
    main()

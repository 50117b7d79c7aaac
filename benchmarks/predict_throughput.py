"""Prediction throughput of the published model, through the Python API and the CLI.

    python -m benchmarks.predict_throughput [--articles 10000] [--model DIR]

Builds a JSON Lines file of synthetic articles of realistic length (about 2,700 characters, the
median of real scraped war news) by recombining paragraphs of the shipped corpus — generated in
a temporary directory, never committed — then measures articles per second, MB per second and
peak memory for `model.predict_scores` in batches and for `topicwire predict` on the file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def synthetic_articles(n: int, seed: int = 0, target_chars: int = 2700) -> list[dict]:
    paragraphs = []
    for path in sorted((ROOT / "data/raw").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            paragraphs += [p for p in json.loads(line)["text"].split("\n\n") if len(p) > 80]
    rng = random.Random(seed)
    articles = []
    for i in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < target_chars * rng.uniform(0.5, 1.5):
            parts.append(rng.choice(paragraphs))
        articles.append({"id": f"bench-{i}", "title": parts[0][:80], "text": "\n\n".join(parts)})
    return articles


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--model", default=str(ROOT / "models/topic-classifier"))
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    from pipeline import load_model

    articles = synthetic_articles(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.jsonl"
        with open(feed, "w", encoding="utf-8") as fh:
            for a in articles:
                fh.write(json.dumps(a, ensure_ascii=False) + "\n")
        megabytes = feed.stat().st_size / 1e6

        start = time.perf_counter()
        model = load_model(args.model)
        load_s = time.perf_counter() - start
        texts = [f"{a['title']}\n\n{a['text']}" for a in articles]
        start = time.perf_counter()
        for i in range(0, len(texts), args.batch_size):
            model.predict_scores(texts[i : i + args.batch_size])
        api_s = time.perf_counter() - start
        api_rss = peak_rss_mb()

        start = time.perf_counter()
        subprocess.run(
            ["topicwire", "predict", "--model", args.model, str(feed)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli_s = time.perf_counter() - start
        cli_rss = peak_rss_mb(resource.RUSAGE_CHILDREN)

    rows = [
        (f"Python API (batches of {args.batch_size})", api_s, api_rss),
        ("CLI `topicwire predict` (incl. start-up and model load)", cli_s, cli_rss),
    ]
    print(
        f"{len(articles)} articles, {megabytes:.1f} MB of JSON Lines; model {model.version} "
        f"loaded in {load_s:.2f} s; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print("| path | seconds | articles/s | MB/s | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, seconds, rss in rows:
        print(
            f"| {name} | {seconds:.1f} | {len(articles) / seconds:,.0f} | "
            f"{megabytes / seconds:.2f} | {rss:,.0f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

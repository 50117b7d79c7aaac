"""Where the time goes: topicwire training and prediction on Reuters-90, under pyinstrument.

    python -m benchmarks.profile [--data-dir DIR] [--corpus reuters90|newsgroups20] [--n-jobs 1]

Prints pyinstrument's call tree (functions above 2 % of the time) for `train` and for
`TopicModel.score_matrix` on the test split. Use --n-jobs 1 to see the work itself rather
than the main process waiting on its workers.
"""

from __future__ import annotations

import argparse

from benchmarks.corpora import data_dir, load_newsgroups, load_reuters
from benchmarks.run import EXPERIMENTS, ONE_PROCESS, run_topicwire


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--corpus", default="reuters90", choices=sorted(EXPERIMENTS))
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed: pip install -e '.[bench]'") from None
    root = data_dir(args.data_dir)
    corpus = load_reuters(root) if args.corpus == "reuters90" else load_newsgroups(root)
    overrides = EXPERIMENTS[args.corpus] + (
        ONE_PROCESS[args.corpus] if args.n_jobs == 1 else [f"model.n_jobs={args.n_jobs}"]
    )
    profiler = Profiler(interval=0.002)
    profiler.start()
    result = run_topicwire(corpus, overrides, n_jobs=args.n_jobs)
    profiler.stop()
    print(result)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()

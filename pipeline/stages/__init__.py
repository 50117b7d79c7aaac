"""The pipeline's stages, one module each, in the order dvc.yaml runs them:

compose -> ingest -> label -> split -> train -> evaluate -> publish

Each module has a pure core function (data in, data out) and a thin `main()` that reads
params.yaml and the stage's inputs, calls the core and writes the outputs atomically.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from pipeline.errors import TopicwireError

log = logging.getLogger("topicwire")


def run_stage(name: str, main: Callable[[], None]) -> None:
    """Run a stage's entry point: log to stderr; a TopicwireError exits 1 without a traceback."""
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s", stream=sys.stderr)
    # Stage logs say what happened; per-table progress bars from `datasets` only add noise.
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    try:
        main()
    except TopicwireError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(1)

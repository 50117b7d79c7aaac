"""Stage compose: conf/ -> params.yaml.

Why a stage: `dvc repro` does not compose Hydra configs (only `dvc exp run` does), so without
this stage an edit under conf/ would be invisible to `dvc status` and `dvc repro`, which would
silently run stale parameters. This stage depends on conf/ and writes params.yaml, so an edit
under conf/ recomposes params.yaml and DVC reruns exactly the stages whose parameters changed.

Inside `dvc exp run -S ...`, DVC has already composed params.yaml from conf/ plus the overrides;
this stage keeps that file (its output is `persist: true`, so DVC does not delete it first).
It recomposes inside an experiment only when params.yaml is still the baseline commit's, i.e.
`dvc exp run` was given no -S after an edit under conf/.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import PARAMS_FILE
from pipeline.errors import TopicwireError
from pipeline.io import write_text
from pipeline.stages import run_stage

log = logging.getLogger("topicwire")


def compose(
    config_dir: str | Path, config_name: str = "config", overrides: Sequence[str] = ()
) -> str:
    """Compose conf/ (with Hydra overrides) into YAML text, exactly as `dvc exp run` does."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    config_dir = Path(config_dir).resolve()
    if not (config_dir / f"{config_name}.yaml").is_file():
        raise TopicwireError(
            f"{config_dir / config_name}.yaml: not found; expected the main config"
        )
    try:
        with initialize_config_dir(str(config_dir), version_base=None):
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
        OmegaConf.resolve(cfg)
    except Exception as exc:  # noqa: BLE001 - Hydra and OmegaConf raise many types; all are config errors
        raise TopicwireError(f"{config_dir}: cannot compose the configuration: {exc}") from exc
    return OmegaConf.to_yaml(cfg)


def _baseline_params(rev: str) -> str | None:
    """params.yaml as committed at the experiment's baseline revision, if git can tell."""
    try:
        shown = subprocess.run(
            ["git", "show", f"{rev}:{PARAMS_FILE}"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return shown.stdout if shown.returncode == 0 else None


def main() -> None:
    composed = compose("conf")
    params = Path(PARAMS_FILE)
    current = params.read_text(encoding="utf-8") if params.is_file() else None
    baseline_rev = os.environ.get("DVC_EXP_BASELINE_REV")
    in_experiment = bool(os.environ.get("DVC_EXP_NAME") and baseline_rev)
    if in_experiment and current is not None and current != _baseline_params(baseline_rev):
        log.info("experiment: keeping params.yaml as DVC composed it from conf/ and -S overrides")
        return
    if current == composed:
        log.info("params.yaml is up to date with conf/")
        return
    if current is not None and not os.environ.get("DVC_EXP_NAME"):
        log.info("conf/ changed (or params.yaml was edited by hand): recomposing params.yaml")
    write_text(params, composed)
    log.info("wrote params.yaml from conf/")


if __name__ == "__main__":
    run_stage("compose", main)

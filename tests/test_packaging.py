"""A user who only predicts needs no training dependency: no DVC, no Hydra."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAINING_ONLY = {"dvc", "hydra", "omegaconf", "gto", "iterstrat", "matplotlib", "fastapi"}


def test_core_dependencies_leave_training_to_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {dep.split(">")[0].split("=")[0].strip().lower() for dep in project["dependencies"]}
    assert not core & {
        "dvc",
        "hydra-core",
        "omegaconf",
        "iterative-stratification",
        "matplotlib",
        "fastapi",
        "uvicorn",
    }
    assert {"train", "serve", "dev"} <= set(project["optional-dependencies"])


def test_prediction_imports_nothing_from_training(artefact, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("Wire\nSanctions widened – Wire\n\nThe EU froze the assets of ten firms.")
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from pipeline import load_model\n"
        "from pipeline.cli import main\n"
        f"model = load_model({str(artefact)!r})\n"
        "model.predict(['text']); model.explain('Sanctions on firms.')\n"
        f"result = CliRunner().invoke(main, ['predict', '--model', {str(artefact)!r}, "
        f"{str(page)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
    )
    assert not loaded & TRAINING_ONLY, loaded & TRAINING_ONLY

"""End to end: the real `dvc repro`, `dvc exp run` and `dvc queue` in temporary copies."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import run

pytestmark = pytest.mark.e2e
LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


@pytest.fixture()
def project(reproduced, tmp_path) -> Path:
    """A private copy of the reproduced project (outputs, cache and git history included)."""
    copy = tmp_path / "project"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy


def ran_stages(output: str) -> list[str]:
    return [
        line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")
    ]


def test_repro_trains_evaluates_and_publishes(reproduced):
    log = (reproduced / "repro.log").read_text()
    assert ran_stages(log) == ["ingest", "label", "split", "train", "evaluate", "publish", "report"]
    metrics = json.loads((reproduced / "reports/metrics.json").read_text())
    for key in ("micro_f1", "macro_f1"):
        assert 0 <= metrics[key] <= 1
    for label in LABELS:
        assert set(metrics["per_label"][label]) >= {"precision", "recall", "f1", "support"}
        curve = (reproduced / f"reports/plots/precision_recall/{label}.csv").read_text()
        assert curve.startswith("recall,precision,threshold\n") and curve.count("\n") > 2
    artefact = reproduced / "models/topic-classifier"
    meta = json.loads((artefact / "metadata.json").read_text())
    assert meta["labels"] == LABELS and meta["metrics"] == metrics
    assert (
        meta["data"]["fingerprint"]
        == json.loads((reproduced / "reports/split.json").read_text())["fingerprint"]
    )
    assert (artefact / "README.md").read_text().startswith("# Model card")


def test_plots_are_visible_to_dvc(reproduced):
    shown = json.loads(run(["dvc", "plots", "show", "--json"], reproduced).stdout)["data"]
    per_label = [
        f"reports/plots/{kind}/{label}.{ext}"
        for kind, ext in (
            ("precision_recall", "csv"),
            ("threshold_f1", "csv"),
            ("calibration", "csv"),
            ("confusion", "json"),
        )
        for label in LABELS
    ]
    cooccurrence = [
        "reports/plots/cooccurrence/predicted.json",
        "reports/plots/cooccurrence/true.json",
    ]
    assert sorted(shown) == sorted(per_label + cooccurrence)
    assert all(shown[name][0]["content"] for name in shown)  # every plot renders with data


def test_metrics_carry_intervals_baselines_and_ranking_scores(reproduced):
    metrics = json.loads((reproduced / "reports/metrics.json").read_text())
    for key in ("micro_f1", "macro_f1"):
        assert metrics["ci"][key]["low"] <= metrics[key] <= metrics["ci"][key]["high"]
    assert set(metrics["baselines"]) == {"nothing", "prior", "keywords"}
    assert metrics["gain_over_baselines"]["keywords"]["micro_f1"] == round(
        metrics["micro_f1"] - metrics["baselines"]["keywords"]["micro_f1"], 6
    )
    for label in LABELS:
        assert 0 <= metrics["per_label"][label]["roc_auc"] <= 1
        assert 0 <= metrics["per_label"][label]["average_precision"] <= 1
    predictions = (reproduced / "reports/predictions.jsonl").read_text().splitlines()
    assert len(predictions) == metrics["test_articles"]


def test_second_repro_does_nothing(reproduced):
    result = run(["dvc", "repro"], reproduced)
    assert ran_stages(result.stdout) == []
    assert "Data and pipelines are up to date." in result.stdout
    status = run(["dvc", "status", "--json"], reproduced)
    assert json.loads(status.stdout) == {}


def test_same_inputs_give_the_same_metrics_bit_for_bit(project):
    before = (project / "reports/metrics.json").read_bytes()
    run(["dvc", "repro", "--force"], project)
    assert (project / "reports/metrics.json").read_bytes() == before


def test_a_raw_page_is_predicted_exactly_as_its_ingested_version(reproduced):
    from datasets import Dataset

    from pipeline import load_model
    from pipeline.text import join_title_body

    model = load_model(reproduced / "models/topic-classifier")
    rows = Dataset.from_parquet(str(reproduced / "data/interim/articles.parquet")).to_list()
    pages = [r for r in rows if r["source"].endswith(".txt")]
    assert pages
    raw = [(reproduced / r["source"]).read_text(encoding="utf-8") for r in pages]
    ingested = [join_title_body(r["title"], r["text"]) for r in pages]
    assert (model.score_matrix(raw) == model.score_matrix(ingested)).all()


def test_editing_conf_retrains_with_the_new_value(project):
    conf = project / "conf/model/logistic_regression.yaml"
    conf.write_text(conf.read_text().replace("C: 10.0", "C: 0.5"))
    status = run(["dvc", "status"], project).stdout
    assert "compose" in status and "modified:           conf" in status
    result = run(["dvc", "repro"], project)
    assert ran_stages(result.stdout) == ["compose", "train", "evaluate", "publish", "report"]
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"]["estimator"]["C"] == 0.5
    meta = json.loads((project / "models/topic-classifier/metadata.json").read_text())
    assert meta["params"]["model"]["estimator"]["C"] == 0.5
    assert ran_stages(run(["dvc", "repro"], project).stdout) == []


def test_a_hand_edit_of_params_yaml_is_overwritten_from_conf(project):
    params = project / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("seed: 42", "seed: 7"))
    result = run(["dvc", "repro"], project)
    assert "compose" in ran_stages(result.stdout)
    assert params.read_text() == original


def experiments(project: Path) -> dict[str, dict]:
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    found = {}
    for baseline in shown:
        for exp in baseline.get("experiments") or []:
            rev = exp["revs"][0]
            found[rev["name"]] = {
                "params": rev["data"]["params"]["params.yaml"]["data"],
                "metrics": rev["data"]["metrics"]["reports/metrics.json"]["data"],
            }
    return found


def test_exp_run_with_a_config_group_and_a_key_override(project):
    result = run(
        [
            "dvc",
            "exp",
            "run",
            "-n",
            "svm-beta2",
            "-S",
            "model=linear_svm",
            "-S",
            "thresholds.beta=2.0",
        ],
        project,
    )
    assert "ingest" not in ran_stages(result.stdout)
    exp = experiments(project)["svm-beta2"]
    assert exp["params"]["model"]["name"] == "linear_svm"
    assert exp["params"]["model"]["calibration"] == {"method": "sigmoid", "cv": 3}
    assert exp["params"]["thresholds"]["beta"] == 2.0
    assert set(exp["metrics"]) >= {"micro_f1", "macro_f1", "per_label"}
    meta = json.loads((project / "models/topic-classifier/metadata.json").read_text())
    assert meta["params"]["model"]["name"] == "linear_svm"


def test_exp_run_without_overrides_after_a_conf_edit_uses_the_edit(project):
    # `dvc exp run` composes params.yaml only when given -S; the compose stage covers the rest.
    conf = project / "conf/config.yaml"
    conf.write_text(conf.read_text().replace("beta: 1.0", "beta: 0.5"))
    run(["dvc", "exp", "run", "-n", "edited"], project)
    assert experiments(project)["edited"]["params"]["thresholds"]["beta"] == 0.5


def test_queued_sweep_runs_every_option(project):
    run(["dvc", "exp", "run", "--queue", "-S", "model=sgd,complement_nb"], project)
    run(["dvc", "queue", "start"], project)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = run(["dvc", "queue", "status"], project).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(3)
    assert "Failed" not in status, status
    found = experiments(project)
    models = sorted(e["params"]["model"]["name"] for e in found.values())
    assert models == ["complement_nb", "sgd"], status
    assert all("micro_f1" in e["metrics"] for e in found.values())


def test_two_experiments_compare_through_dvc_and_topicwire(project, reproduced):
    run(["dvc", "exp", "run", "-n", "svm", "-S", "model=linear_svm"], project)
    run(
        ["dvc", "exp", "run", "-n", "nb", "-S", "model=complement_nb", "-S", "evaluate.cv_folds=3"],
        project,
    )
    found = experiments(project)
    assert found["svm"]["params"]["model"]["name"] == "linear_svm"
    cv = found["nb"]["metrics"]["cv"]
    assert cv["folds"] == 3 and 0 < cv["micro_f1"]["mean"] <= 1 and cv["micro_f1"]["std"] >= 0

    diff = json.loads(run(["dvc", "metrics", "diff", "svm", "nb", "--json"], project).stdout)
    micro = diff["reports/metrics.json"]["micro_f1"]
    assert micro["old"] == found["svm"]["metrics"]["micro_f1"]
    assert micro["new"] == found["nb"]["metrics"]["micro_f1"]
    plots = json.loads(run(["dvc", "plots", "diff", "svm", "nb", "--json"], project).stdout)
    curve = plots["data"]["reports/plots/precision_recall/sanctions.csv"][0]
    assert curve["revisions"] == ["svm", "nb"]

    result = run(["topicwire", "compare", "svm", "nb", "-o", "cmp.html"], project)
    assert "Paired bootstrap on 246 test articles (nb minus svm)" in result.stdout
    assert re.search(r"micro_f1: [+-]\d\.\d{3}, 95% interval .* p = \d\.\d{3}", result.stdout)
    assert "model.name" in result.stdout and "complement_nb" in result.stdout
    page = (project / "cmp.html").read_text()
    assert page.count("<svg") == len(LABELS) and "Paired bootstrap" in page

    # published model directories compare too: the workspace holds the last experiment's model
    both = run(
        [
            "topicwire",
            "compare",
            str(reproduced / "models/topic-classifier"),
            "models/topic-classifier",
            "-o",
            "artefacts.html",
        ],
        project,
    )
    assert "Paired bootstrap on 246 test articles" in both.stdout


def test_compare_refuses_unknown_references(project):
    result = run(["topicwire", "compare", "HEAD", "no-such-exp"], project, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no-such-exp: not an artefact directory, experiment or git revision" in result.stderr


def test_registry_versions_and_stages_with_gto(project, tmp_path):
    env = {"TOPICWIRE_CACHE": str(tmp_path / "cache")}
    before = run(
        [
            "dvc",
            "artifacts",
            "get",
            ".",
            "topic-classifier",
            "--rev",
            "v1.0.0",
            "-o",
            str(tmp_path / "nothing"),
        ],
        project,
        check=False,
    )
    assert before.returncode != 0  # no tag yet: nothing to fetch
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "model v1"], project)
    assert (
        "registered topic-classifier@v1.0.0"
        in run(["topicwire", "models", "register", "v1.0.0"], project).stdout
    )
    run(["topicwire", "models", "promote", "v1.0.0", "--stage", "prod"], project)

    conf = project / "conf/model/logistic_regression.yaml"
    conf.write_text(conf.read_text().replace("C: 10.0", "C: 2.0"))
    run(["dvc", "repro"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "model v1.1"], project)
    run(["topicwire", "models", "register", "--bump", "minor"], project)

    listed = run(["topicwire", "models", "list"], project).stdout.splitlines()
    assert [line.split()[:2] for line in listed[1:]] == [["v1.1.0", "—"], ["v1.0.0", "prod"]]

    code = (
        "import json, sys; from pipeline import load_model; "
        "print(json.dumps([load_model(r).version for r in sys.argv[1:]]))"
    )
    refs = [
        "topic-classifier@v1.0.0",
        "topic-classifier@v1.1.0",
        "topic-classifier#prod",
        "models/topic-classifier",
    ]
    old, new, prod, current = json.loads(
        run(["python", "-c", code, *refs], project, env=env).stdout
    )
    assert old != new and prod == old and current == new
    out = run(
        ["topicwire", "predict", "--model", "topic-classifier#prod", "-"],
        project,
        env=env,
        input='{"id": 1, "text": "Sanctions on shipping firms."}',
    ).stdout
    assert json.loads(out)["id"] == "1"
    run(
        [
            "dvc",
            "artifacts",
            "get",
            ".",
            "topic-classifier",
            "--stage",
            "prod",
            "-o",
            str(tmp_path / "prod"),
        ],
        project,
    )
    assert json.loads((tmp_path / "prod/metadata.json").read_text())["version"] == old
    missing = run(
        ["topicwire", "predict", "--model", "topic-classifier@v9.0.0", "-"],
        project,
        env=env,
        input="",
        check=False,
    )
    assert missing.returncode == 1 and "topic-classifier@v9.0.0: not found" in missing.stderr

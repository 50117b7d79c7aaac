"""`topicwire predict`, run as a real subprocess on every input format and on bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARMS = (
    "The defence ministry confirmed the delivery of a new military aid package with HIMARS "
    "launchers, Patriot interceptors and 155 mm artillery shells to Ukraine this week."
)
BLACKOUT = (
    "Rolling blackouts hit the capital after missiles struck two substations and a "
    "thermal power plant; the grid operator said repairs would take weeks."
)


def predict(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["topicwire", "predict", *args], input=stdin, capture_output=True, text=True, cwd=ROOT
    )


def lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture()
def inputs(tmp_path) -> dict[str, Path]:
    page = tmp_path / "page.txt"
    page.write_text(
        f"Wire Daily\nAid package lands – Wire Daily\n\n{ARMS}\n\nAdvertisement\n", encoding="utf-8"
    )
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text(
        json.dumps({"id": "j1", "title": "Aid", "text": ARMS})
        + "\n"
        + json.dumps({"text": BLACKOUT})
        + "\n",
        encoding="utf-8",
    )
    csv = tmp_path / "desk.csv"
    csv.write_text(f'id,title,text\nc1,"Blackout","{BLACKOUT}"\n', encoding="utf-8")
    parquet = tmp_path / "feed.parquet"
    pq.write_table(pa.table({"id": ["p1"], "text": [ARMS]}), parquet)
    return {"txt": page, "jsonl": jsonl, "csv": csv, "parquet": parquet}


def test_every_input_format_in_one_call(artefact, inputs):
    result = predict("--model", str(artefact), *map(str, inputs.values()))
    assert result.returncode == 0, result.stderr
    out = lines(result)
    assert [o["id"] for o in out] == [str(inputs["txt"]), "j1", f"{inputs['jsonl']}:2", "c1", "p1"]
    labels = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]
    for o in out:
        assert sorted(o) == ["id", "labels", "scores"]
        assert sorted(o["scores"]) == labels and all(0 <= s <= 1 for s in o["scores"].values())
        assert set(o["labels"]) <= set(labels)


def test_output_matches_the_python_api(artefact, inputs):
    from pipeline import load_model

    model = load_model(artefact)
    [out] = lines(predict("--model", str(artefact), str(inputs["txt"])))
    raw = inputs["txt"].read_text(encoding="utf-8")
    assert out["labels"] == model.predict([raw])[0]
    assert out["scores"] == {k: round(v, 4) for k, v in model.predict_scores([raw])[0].items()}


def test_stdin(artefact):
    feed = json.dumps({"id": 7, "text": ARMS}) + "\n" + json.dumps({"id": 8, "text": BLACKOUT})
    result = predict("--model", str(artefact), "-", stdin=feed)
    assert result.returncode == 0, result.stderr
    assert [o["id"] for o in lines(result)] == ["7", "8"]


def test_bad_record_fails_with_file_and_line_and_no_traceback(artefact, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": ARMS}) + "\n{not json\n", encoding="utf-8")
    result = predict("--model", str(artefact), str(feed))
    assert result.returncode == 1
    assert f"{feed}:2: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines(result)) == 1  # the good record before it was still written


def test_skip_reports_skipped_records(artefact, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"text": ARMS}) + "\n" + json.dumps({"title": "no text"}) + "\n",
        encoding="utf-8",
    )
    result = predict("--model", str(artefact), "--on-error", "skip", str(feed))
    assert result.returncode == 0
    assert len(lines(result)) == 1
    assert "1 article(s) tagged, 1 bad record(s) skipped" in result.stderr
    assert f"{feed}:2: missing field 'text'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notes.docx"], "unsupported input format '.docx'"),
        (["missing.jsonl"], "missing.jsonl: file not found"),
    ],
)
def test_bad_inputs_are_one_line_errors(artefact, args, message):
    result = predict("--model", str(artefact), *args)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_is_a_clear_error(tmp_path, inputs):
    result = predict("--model", str(tmp_path / "nope"), str(inputs["txt"]))
    assert result.returncode == 1
    assert "no metadata.json; expected a published model directory" in result.stderr


def test_help_reads_well():
    top = subprocess.run(["topicwire", "--help"], capture_output=True, text=True)
    assert top.returncode == 0 and "predict" in top.stdout
    sub = subprocess.run(["topicwire", "predict", "--help"], capture_output=True, text=True)
    assert "INPUT is a .txt file" in sub.stdout and "--model" in sub.stdout


def test_csv_output_threshold_and_top_k(artefact, inputs):
    result = predict(
        "--model", str(artefact), "--format", "csv", "--threshold", "0", str(inputs["jsonl"])
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0] == "id,labels,arms_transfers,energy_infrastructure,evacuations,sanctions"
    assert rows[1].startswith("j1,arms_transfers;energy_infrastructure;evacuations;sanctions,")
    top = lines(
        predict("--model", str(artefact), "--threshold", "0", "--top-k", "1", str(inputs["jsonl"]))
    )
    for line in top:
        best = max(line["scores"], key=line["scores"].get)
        assert line["labels"] == [best]


def test_explain_names_terms_of_the_article(artefact, inputs):
    [out] = lines(
        predict(
            "--model",
            str(artefact),
            "--explain",
            "--threshold",
            "0",
            "--top-k",
            "1",
            str(inputs["parquet"]),
        )
    )
    [(label, terms)] = out["explanations"].items()
    assert label == out["labels"][0] and terms
    assert all(w > 0 and all(part in ARMS.lower() for part in t.split()) for t, w in terms)
    refused = predict(
        "--model", str(artefact), "--explain", "--format", "csv", str(inputs["jsonl"])
    )
    assert refused.returncode == 1 and "--explain needs --format jsonl" in refused.stderr


def peak_rss_of_predict(artefact, feed) -> float:
    """Peak resident memory (MB) of one `topicwire predict` run, measured by its parent."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code, "topicwire", "predict", "--model", str(artefact), str(feed)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def test_memory_stays_flat_as_the_input_grows(artefact, tmp_path):
    paragraph = " ".join([ARMS, BLACKOUT] * 10)  # about 3 KB per article

    def feed(n: int):
        path = tmp_path / f"feed-{n}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": i, "text": f"{i} {paragraph}"}) + "\n")
        return path

    small, large = feed(1_000), feed(8_000)
    assert large.stat().st_size - small.stat().st_size > 20_000_000
    grown = peak_rss_of_predict(artefact, large) - peak_rss_of_predict(artefact, small)
    assert grown < 15, f"peak memory grew by {grown:.0f} MB for 20+ MB more input"

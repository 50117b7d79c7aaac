"""`topicwire serve` over real HTTP on 127.0.0.1: predictions, metadata and clear 4xx answers."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection

import pytest

ARMS = (
    "The defence ministry confirmed the delivery of a new military aid package with HIMARS "
    "launchers and 155 mm artillery shells to Ukraine this week."
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(artefact):
    port = free_port()
    proc = subprocess.Popen(
        [
            "topicwire",
            "serve",
            "--model",
            str(artefact),
            "--port",
            str(port),
            "--max-batch",
            "3",
            "--max-body-mb",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read()) from None
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def call(base: str, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        f"{base}{path}", data=body, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_and_model(server, artefact):
    meta = json.loads((artefact / "metadata.json").read_text())
    assert call(server, "/health") == (200, {"status": "ok", "version": meta["version"]})
    status, model = call(server, "/model")
    assert (
        status == 200 and model["labels"] == meta["labels"] and model["version"] == meta["version"]
    )


def test_one_article_and_a_batch_match_the_python_api(server, artefact):
    from pipeline import load_model

    expected = load_model(artefact).predict_scores([ARMS])[0]
    status, one = call(server, "/predict", json.dumps({"id": 7, "text": ARMS}).encode())
    assert status == 200 and one["id"] == 7
    assert one["scores"] == {k: round(v, 4) for k, v in expected.items()}
    status, batch = call(
        server,
        "/predict",
        json.dumps(
            {
                "articles": [{"text": ARMS}, {"text": "Football cup final ends in a draw."}],
                "threshold": 0,
                "top_k": 1,
                "explain": True,
            }
        ).encode(),
    )
    assert status == 200 and len(batch["results"]) == 2
    first = batch["results"][0]
    assert len(first["labels"]) == 1 and list(first["explanations"]) == first["labels"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"title": "no text"}', 422, "send either 'text'"),
        (b'{"text": ""}', 422, "text"),
        (b'{"text": "a", "threshold": 2}', 422, "threshold"),
        (json.dumps({"articles": [{"text": "a"}] * 4}).encode(), 413, "over the batch limit of 3"),
        (json.dumps({"text": "x" * 60_000}).encode(), 413, "over the limit of 50000 bytes"),
    ],
)
def test_bad_requests_get_clear_4xx_answers(server, body, status, message):
    got, answer = call(server, "/predict", body)
    assert got == status and message in answer["error"]


def test_chunked_oversized_body_is_refused(server):
    host, port = server.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=30)
    chunks = (
        json.dumps({"text": "y" * 70_000}).encode()[i : i + 8192] for i in range(0, 70_100, 8192)
    )
    connection.request(
        "POST",
        "/predict",
        body=chunks,
        encode_chunked=True,
        headers={"content-type": "application/json"},
    )
    response = connection.getresponse()
    assert response.status == 413 and b"over the limit" in response.read()

"""`topicwire serve`: the published model behind a small HTTP JSON API (FastAPI + uvicorn).

    POST /predict   {"text": "...", "title"?: "...", "id"?: ...}          -> one result
                    {"articles": [{"text": ...}, ...]}                     -> {"results": [...]}
                    optional: "threshold" (0..1), "top_k" (>= 1), "explain" (bool)
    GET  /health    {"status": "ok", "version": ...}
    GET  /model     the model's name, version, labels, thresholds, metrics and provenance

Limits answer with clear 4xx errors: a body over `max_body_bytes` gets 413 before it is read
whole, more than `max_batch` articles 413, malformed JSON 400, a request of the wrong shape 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from pipeline.artifact import TopicModel


class Article(BaseModel):
    text: str = Field(min_length=1, description="The article: a raw page or clean text.")
    title: str | None = None
    id: str | int | None = None


class PredictRequest(BaseModel):
    text: str | None = Field(default=None, min_length=1)
    title: str | None = None
    id: str | int | None = None
    articles: list[Article] | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    explain: bool = False

    @model_validator(mode="after")
    def one_article_or_a_batch(self) -> PredictRequest:
        if (self.text is None) == (self.articles is None):
            raise ValueError("send either 'text' (one article) or 'articles' (a list), not both")
        return self


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def create_app(model: TopicModel, max_batch: int = 256, max_body_bytes: int = 5_000_000) -> FastAPI:
    from pipeline.text import join_title_body

    app = FastAPI(
        title="topicwire", version=model.version, description="Tag news articles with topics."
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return _error(
                413,
                f"request body of {declared} bytes is over the limit of "
                f"{max_body_bytes} bytes; send fewer or shorter articles",
            )
        # A chunked body declares no length: read it (Starlette replays it downstream).
        if (
            declared is None
            and request.method == "POST"
            and len(await request.body()) > max_body_bytes
        ):
            return _error(413, f"request body is over the limit of {max_body_bytes} bytes")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(
                400, 'body is not valid JSON; expected {"text": ...} or {"articles": [...]}'
            )
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
            for e in errors
        )
        return _error(422, detail)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": model.version}

    @app.get("/model")
    def describe() -> dict[str, Any]:
        meta = model.metadata
        return {
            key: meta.get(key)
            for key in (
                "name",
                "version",
                "created_at",
                "labels",
                "thresholds",
                "metrics",
                "libraries",
                "data",
            )
        }

    @app.post("/predict", response_model=None)
    def predict(request: PredictRequest) -> Any:
        articles = (
            request.articles
            if request.articles is not None
            else [Article(text=request.text or "", title=request.title, id=request.id)]
        )
        if len(articles) > max_batch:
            return _error(
                413,
                f"{len(articles)} articles is over the batch limit of "
                f"{max_batch}; split the request",
            )
        texts = [join_title_body(a.title, a.text) if a.title else a.text for a in articles]
        scores = model.score_matrix(texts)
        tags = model.labels_from_scores(scores, request.threshold, request.top_k)
        reasons = model.explain_batch(texts, tags) if request.explain else None
        results = []
        for i, (article, row) in enumerate(zip(articles, scores, strict=True)):
            result: dict[str, Any] = {
                "id": article.id,
                "labels": tags[i],
                "scores": {
                    label: round(float(v), 4) for label, v in zip(model.labels, row, strict=True)
                },
            }
            if reasons is not None:
                result["explanations"] = {k: [[t, w] for t, w in v] for k, v in reasons[i].items()}
            results.append(result)
        return results[0] if request.articles is None else {"results": results}

    return app

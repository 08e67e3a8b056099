"""POST /api/v1/records: the sub-platforms push batches of records with their source system's API token.

Token auth on every request (`Authorization: Bearer cc_...`), never the browser session: the route is
in auth.TOKEN_PATHS, so the session guard and the form-token check leave it to this module. A token
writes only its own source system; rows naming another source are quarantined (source_mismatch).
Every answer is JSON with a zh and an en message; a batch lands whole or not at all (queries.ingest).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request

from dashboard.auth import TOKEN_PATHS
from queries import audit, cache, tokens
from queries.errors import PoolError, PoolSwitching
from queries.ingest import write
from queries.ingest.validate import MalformedBatch, frame_from_rows

PATH = "/api/v1/records"
NDJSON = "application/x-ndjson"
assert PATH in TOKEN_PATHS  # the session guard must let it through to the token check below


class Refused(Exception):
    """An answer other than 200: status, zh, en, and extra JSON fields."""

    def __init__(self, status: int, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.status, self.zh, self.en, self.extra = status, zh, en, extra


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json", headers=headers
    )


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _body(max_bytes: int) -> str:
    """The body as text, refused past `max_bytes` before it is read whole."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_big(max_bytes)
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_big(max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(
            400,
            f"请求体不是 UTF-8 编码 (第 {exc.start} 字节)",
            f"The body is not UTF-8 (byte {exc.start})",
            position=exc.start,
        ) from None


def _too_big(max_bytes: int) -> Refused:
    return Refused(
        413,
        f"批次过大: 请求体最多 {max_bytes:,} 字节, 请拆分后分批发送",
        f"Batch too large: at most {max_bytes:,} bytes per request; split it into smaller batches",
        max_bytes=max_bytes,
    )


def parse_rows(text: str, *, ndjson: bool) -> list[dict[str, Any]]:
    """A JSON array of objects, or NDJSON (one object a line, blank lines skipped); malformed input is
    refused with its line and column."""
    rows: list[Any] = []
    if ndjson:
        for no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise Refused(
                    400,
                    f"NDJSON 第 {no} 行第 {exc.colno} 列格式错误: {exc.msg}",
                    f"Malformed NDJSON at line {no}, column {exc.colno}: {exc.msg}",
                    line=no,
                    column=exc.colno,
                ) from None
    else:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Refused(
                400,
                f"JSON 第 {exc.lineno} 行第 {exc.colno} 列格式错误: {exc.msg}",
                f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                line=exc.lineno,
                column=exc.colno,
            ) from None
        if not isinstance(parsed, list):
            raise Refused(
                400,
                "批次应为 JSON 数组 (每条记录一个对象), 或使用 NDJSON",
                "A batch is a JSON array of objects (one per record), or NDJSON",
            )
        rows = parsed
    bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise Refused(
            400,
            f"第 {bad} 条 (从 0 起) 不是 JSON 对象",
            f"Item {bad} (from 0) is not a JSON object",
            row=bad,
        )
    if not rows:
        raise Refused(400, "批次为空: 没有任何记录", "The batch is empty: no records in it")
    return rows


def _source(header: str) -> tuple[str, str]:
    """(source code, token prefix) of the bearer token, or 401."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    source = tokens.source_for(token) if scheme.lower() == "bearer" and token else None
    if source is None:
        raise Refused(
            401,
            "令牌缺失、无效或已吊销: 请在请求头中使用 Authorization: Bearer <令牌>",
            "Missing, unknown or revoked token: send Authorization: Bearer <token>",
        )
    return source, token[:12]


def init(server: Flask, *, max_bytes: int, max_rows: int) -> None:
    @server.route(PATH, methods=["POST"])
    def ingest_records() -> Response:
        lang = _lang()
        try:
            source, prefix = _source(request.headers.get("Authorization", ""))
            ndjson = (request.mimetype or "") == NDJSON
            rows = parse_rows(_body(max_bytes), ndjson=ndjson)
            if len(rows) > max_rows:
                raise Refused(
                    413,
                    f"批次过大: 每批最多 {max_rows:,} 行, 收到 {len(rows):,} 行",
                    f"Batch too large: at most {max_rows:,} rows per batch, got {len(rows):,}",
                    max_rows=max_rows,
                )
            actor = audit.Actor(None, f"token:{prefix}", "source")
            with audit.write(actor) as tx:
                result = write.land(tx, source_code=source, rows=frame_from_rows(rows), channel="api")
        except Refused as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return _json({"error": exc.en, "error_zh": exc.zh, **exc.extra}, exc.status, headers)
        except MalformedBatch as exc:
            return _json({"error": exc.en, "error_zh": exc.zh, "missing": exc.missing}, 400)
        except PoolSwitching as exc:
            return _json({"error": exc.en, "error_zh": exc.zh, "retry": True}, 503, {"Retry-After": "5"})
        except PoolError as exc:
            return _json({"error": exc.en, "error_zh": exc.zh, "retry": True}, 503, {"Retry-After": "30"})
        # this worker's next read keys on the new version at once; the others re-read it within
        # CC_VERSION_TTL_SECONDS (the version lives in the pool, which every worker reads)
        cache.data_version(fresh=True)
        return _json(result.answer(lang), 200)

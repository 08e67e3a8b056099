"""The responsibility log for administrators: every write and sensitive read, newest first, with the
chain's state. The grid asks the server for one block of rows at a time (AG Grid's infinite row model)."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, callback, html, no_update

from dashboard import auth, wall
from dashboard.components.grids import NO_ROWS, block_answer, block_of, columns_in, infinite_grid
from dashboard.i18n import bi_text, both
from dashboard.view import PageParams, page_layout, page_params
from queries import audit
from queries.errors import PoolError
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/audit",
    name="audit",
    title="责任日志 · Responsibility log",
    order=9,
    ready="#audit-grid .ag-row",
    roles=("admin",),  # the shell lists it in the navigation only for these roles
)
wall.register(__name__)


class ids:
    root = "audit-root"
    params = "audit-params-store"
    content = "audit-content"
    grid = "audit-grid"
    chain = "audit-chain-status"
    denied = "audit-denied-panel"


BLOCK = 100  # rows per server request; never more than one block crosses the wire at once


def layout(**query: Any) -> html.Div:
    return page_layout(ids, render, page_params(query), "pool")


def denied(lang: str) -> html.Div:
    return html.Div(
        [
            html.Div("🔒", className="panel-icon"),
            bi_text("无权查看责任日志", "You may not view the responsibility log", lang, "panel-title"),
            html.P(
                both(
                    "责任日志记录每一次写入和敏感数据读取, 仅管理员可以查看.",
                    "The log records every write and every sensitive read; only administrators may view it.",
                    lang,
                    " / ",
                )
            ),
        ],
        className="state-panel state-empty",
        id=ids.denied,
        role="alert",
    )


def chain_status(verdict: audit.Verdict, lang: str) -> html.Div:
    b = verdict.first_break
    if b is None:
        text = (
            f"责任链完整 · {verdict.entries} 条 · 链头 {verdict.head[:12]}",
            f"Chain intact · {verdict.entries} entries · head {verdict.head[:12]}",
        )
    else:
        text = (f"责任链断裂于条目 {b.entry_id}: {b.zh}", f"Chain broken at entry {b.entry_id}: {b.en}")
    return html.Div(
        both(*text, lang, " / "), id=ids.chain, className="alert alert-ok" if b is None else "alert alert-red"
    )


def render(v: Viewer, p: PageParams) -> list[Any]:
    if v.role != "admin":
        return [denied(p.lang)]
    return [
        chain_status(audit.verify(), p.lang),
        html.Div(
            [
                html.Div(
                    bi_text("责任日志 (最新在前)", "Responsibility log (newest first)", p.lang),
                    className="card-title",
                ),
                log_grid(p),
            ],
            className="card grid-card",
            # the card takes the page's remaining height; the wall cannot scroll, the desk keeps ~15 rows
            style={"flex": "1 1 0", "minHeight": 0 if p.theme == "wall" else 480},
        ),
    ]


def log_grid(p: PageParams) -> dag.AgGrid:
    lang = p.lang

    col = columns_in(lang)

    return infinite_grid(
        ids.grid,
        [
            col("id", "序号", "No.", width=90, type="numericColumn"),
            col("at", "时间", "Time", width=210 if p.theme == "wall" else 170),
            col("actor", "操作人", "Actor", flex=1, minWidth=140, tooltipField="actor"),
            col("role", "角色", "Role", width=130),
            col("action", "动作", "Action", width=150),
            col("object", "对象", "Object", flex=1, minWidth=140, tooltipField="object"),
            col("detail", "说明", "Detail", flex=2, minWidth=200, tooltipField="detail"),
            col("hash", "哈希", "Hash", width=130, tooltipField="hash_full"),
        ],
        p.theme,
        BLOCK,
    )


def rows_for(start: int, end: int) -> dict[str, Any]:
    """One block of the log as the infinite row model wants it; rowCount is known once the end shows."""
    start = max(0, start)
    want = max(1, min(end - start, BLOCK))
    frame = audit.show(limit=want, offset=start)
    rows = [
        {
            "id": r["id"],
            "at": r["at"].strftime("%Y-%m-%d %H:%M:%S"),
            "actor": r["actor_username"],
            "role": r["actor_role"],
            "action": r["action"],
            "object": f"{r['object_type']}:{r['object_id']}"
            if r["object_id"] is not None
            else r["object_type"],
            "detail": r["detail"] or "",
            "hash": r["hash"][:12],
            "hash_full": r["hash"],
        }
        for r in frame.iter_rows(named=True)
    ]
    return block_answer(rows, start, want)


@callback(Output(ids.grid, "getRowsResponse"), Input(ids.grid, "getRowsRequest"), prevent_initial_call=True)
def get_rows(request: object) -> Any:
    # a callback is its own request: the admin check is repeated here, not trusted from the layout
    try:
        viewer = auth.current_viewer()
    except PoolError:
        return no_update
    block = block_of(request, BLOCK)
    if viewer is None or viewer.role != "admin" or block is None:
        return NO_ROWS
    try:
        return rows_for(block[0], block[0] + block[1])
    except PoolError:
        return no_update

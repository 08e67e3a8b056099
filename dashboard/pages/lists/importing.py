"""The Three-Lists page's import box and its report: every refused row with its reasons, or what a dry run
would change (administrators only; the write goes through `queries.lists_io`)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.i18n import bi_text, both, pick
from dashboard.pages.lists.components import (
    ids,
    simple_table,
)
from queries import lists_io

SHEET_NAMES = {
    "*": ("文件", "file"),
    "problems": ("问题清单", "problems"),
    "steps": ("流程清单", "steps"),
    "data_items": ("数据清单", "data items"),
    "step_data": ("环节-数据", "step data"),
    "duties": ("责任清单", "duties"),
    "step_duties": ("环节-职责", "step duties"),
    "grants": ("数据授权", "grants"),
}
SHOW_PROBLEMS = 200  # rows of reasons shown; the rest are counted
SHOW_KEYS = 8  # keys of added / changed / removed rows shown per sheet


def import_box(lang: str) -> html.Details:
    """The upload for an exported lists file: a dry run first, then a confirm that writes it. Folded
    until opened, so the views keep the screen."""
    return html.Details(
        [
            html.Summary(
                [
                    bi_text("导入清单", "Import lists", lang),
                    html.Span(
                        pick(
                            " · 替换上方所选部门 (或全市) 的清单 · 先试运行, 确认后整体写入并记入责任日志",
                            " · replaces the lists of the department picked above (or the city's) · a dry run "
                            "first; confirm writes it whole, with a responsibility-log entry",
                            lang,
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title lists-import-summary",
            ),
            dcc.Upload(
                html.Div(
                    both(
                        "拖放或点击选择导出的 .xlsx / .zip 文件 (上限 5 MB)",
                        "Drop or pick an exported .xlsx / .zip file (at most 5 MB)",
                        lang,
                        " · ",
                    )
                ),
                id=ids.upload,
                accept=".xlsx,.zip",
                multiple=False,
                className="lists-upload",
            ),
            html.Div(id=ids.import_result, className="lists-import-result", role="status"),
            html.Button(
                both("确认导入", "Confirm import", lang, " "),
                id=ids.confirm,
                className="btn btn-primary",
                style={"display": "none"},
            ),
            dcc.Store(id=ids.dry_run),
        ],
        id=ids.import_box,
        className="card lists-import",
    )


def import_message(zh: str, en: str, lang: str) -> html.P:
    return html.P(both(zh, en, lang, " / "), className="lists-import-refused")


def import_report(out: lists_io.Outcome, lang: str, *, dry_run: bool, filename: str) -> html.Div:
    """A dry run's or an import's outcome: every row's reason when refused, else what changes."""
    sheet = {k: pick(*v, lang) for k, v in SHEET_NAMES.items()}
    if not out.ok:
        shown = out.problems[:SHOW_PROBLEMS]
        more = len(out.problems) - len(shown)
        rows: list[list[Any]] = [
            [sheet.get(p.sheet, p.sheet), str(p.row) if p.row else "—", pick(p.zh, p.en, lang)] for p in shown
        ]
        return html.Div(
            [
                html.P(
                    pick(
                        f"{filename}: 整体拒绝, 清单未改动 · {len(out.problems)} 个问题",
                        f"{filename}: refused whole, nothing changed · {len(out.problems)} problems",
                        lang,
                    ),
                    className="lists-import-refused",
                ),
                simple_table(
                    "lists-import-problems",
                    [("清单", "Sheet"), ("行", "Row"), ("原因", "Reason")],
                    rows,
                    lang,
                ),
                html.P(pick(f"另有 {more} 个问题未列出", f"and {more} more", lang)) if more else None,
            ],
            className="lists-import-report",
        )
    total = sum(sum(v) for v in out.changes.values())
    if dry_run:
        head = (
            pick(
                f"{filename}: 试运行通过, 尚未写入 · 共 {total} 行变化",
                f"{filename}: dry run passed, nothing written yet · {total} rows would change",
                lang,
            )
            if total
            else pick(
                f"{filename}: 与现有清单一致, 无需导入",
                f"{filename}: same as the lists, nothing to import",
                lang,
            )
        )
    else:
        head = pick(
            f"{filename}: 已导入 {total} 行变化, 已记入责任日志",
            f"{filename}: imported, {total} rows changed, written to the responsibility log",
            lang,
        )

    def keys(name: str, what: str) -> str:
        ks = out.keys.get(name, {}).get(what, [])
        return ", ".join(ks[:SHOW_KEYS]) + (" …" if len(ks) > SHOW_KEYS else "")

    rows = [
        [sheet[name], a, keys(name, "added"), c, keys(name, "changed"), r, keys(name, "removed")]
        for name, (a, c, r) in out.changes.items()
    ]
    return html.Div(
        [
            html.P(head, className="lists-import-ok"),
            simple_table(
                "lists-import-changes",
                [
                    ("清单", "Sheet"),
                    ("新增", "Added"),
                    ("新增的键", "keys"),
                    ("修改", "Changed"),
                    ("修改的键", "keys"),
                    ("删除", "Removed"),
                    ("删除的键", "keys"),
                ],
                rows,
                lang,
            ),
        ],
        className="lists-import-report",
    )

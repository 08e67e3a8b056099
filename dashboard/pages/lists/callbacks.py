"""What the Three-Lists-in-One page shows for a viewer and a selection: parse the selection (from the
URL or the controls), call the queries, hand the frames to the builders. Registered in layout.py."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from dash import ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException

from dashboard import auth, inputs
from dashboard.components import empty_state, graph, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.lists import components as c
from dashboard.pages.lists import importing, mapping
from dashboard.pages.lists.components import ids
from dashboard.view import PageParams, as_of_text, guarded, kept, warm
from queries import audit, cache, lists, lists_io, meta
from queries.errors import PoolError
from queries.scope import Scope, Viewer

VIEWS: dict[str, tuple[str, str]] = {
    "map": ("映射图", "Mapping"),
    "matrix": ("矩阵", "Matrix"),
    "gaps": ("缺口清单", "Gap list"),
    "dept": ("部门责任清单", "Department list"),
}
ALL = "all"  # the department selector's city-wide comparison


@dataclass(frozen=True)
class Selection:
    view: str | None = None  # None: the viewer's landing view
    problem: str | None = None  # problem type code
    dept: str | None = None  # department code, or ALL
    errors: list[tuple[str, str]] = field(default_factory=list)

    def store(self) -> dict[str, Any]:
        return {"view": self.view, "problem": self.problem, "dept": self.dept}


def parse(query: dict[str, Any]) -> Selection:
    """?view=map|matrix|gaps|dept&problem=<type code>&dept=<department code>; a wrong value gets a
    message and the default. Whether a code exists is checked against the pool when rendering."""
    flat = inputs.query_flat(query)
    errors = []
    view = flat.get("view")
    if view is not None and view not in VIEWS:
        errors.append(
            (
                f"视图参数无效: {inputs.quoted(view)} (可用: {', '.join(VIEWS)})",
                f"Unknown view {inputs.quoted(view)} (use one of: {', '.join(VIEWS)})",
            )
        )
        view = None
    return Selection(view, flat.get("problem") or None, flat.get("dept") or None, errors)


def landing_view(v: Viewer) -> str:
    return "dept" if v.role == "department_head" else "map"


def _dept_code(dept_id: int) -> str:
    return lists.dept_code(dept_id=dept_id) or ALL


def resolve(v: Viewer, sel: Selection) -> tuple[str, int | None, int | None, list[tuple[str, str]]]:
    """(view, problem id, department id or None for the city-wide comparison, messages) for this viewer:
    unknown or out-of-scope codes are reported and replaced by the default."""
    errors = list(sel.errors)
    scope = v.scope()
    view = sel.view or landing_view(v)
    codes = lists.problem_ids_by_code(scope=scope)
    problem = None
    if sel.problem is not None:
        problem = codes.get(sel.problem)
        if problem is None:
            errors.append(
                (
                    f"没有这个问题类型 (或不在您的范围内): {inputs.quoted(sel.problem)}",
                    f"No such problem type in your scope: {inputs.quoted(sel.problem)}",
                )
            )
    if problem is None:
        problem = lists.focus_problem(scope=scope)
    dept_codes = lists.dept_ids_by_code()
    dept: int | None = None
    if sel.dept not in (None, ALL):
        dept = dept_codes.get(str(sel.dept))
        if dept is None:
            errors.append(
                (
                    f"没有这个部门: {inputs.quoted(str(sel.dept))}",
                    f"No such department: {inputs.quoted(str(sel.dept))}",
                )
            )
    if v.role == "department_head":
        if dept is not None and dept != v.department_id:
            errors.append(
                ("部门负责人只能查看本部门清单", "A department head sees their own department's list only")
            )
        dept = v.department_id
    elif v.role == "operator" and dept is not None:
        errors.append(("值班员查看全市汇总", "Operators see the city-wide summary"))
        dept = None
    return view, problem, dept, errors


@functools.lru_cache(maxsize=128)
def _map_figure(version: str, problem: int, scope: Scope, theme: str, lang: str) -> dict[str, Any] | None:
    """The mapping figure as JSON, memoised per data version: building a plotly figure costs tens of ms,
    and the picture changes only when the pool does."""
    st = meta.pool_status()
    m = lists.mapping(problem_id=problem, scope=scope, as_of_day=st.as_of_day, as_of=st.as_of)
    if m is None:
        return None
    fig = mapping.mapping_figure(m, theme=theme, lang=lang, as_of=as_of_text(st.as_of)).to_plotly_json()
    return {"figure": fig, "height": mapping.map_height(m)}


@functools.lru_cache(maxsize=64)
def _dept_figure(version: str, scope: Scope, theme: str, lang: str) -> dict[str, Any]:
    st = meta.pool_status()
    by = lists.gaps_by_dept(scope=scope)
    return c.dept_gap_figure(by, theme=theme, lang=lang, as_of=as_of_text(st.as_of)).to_plotly_json()


@functools.lru_cache(maxsize=64)
def _matrix_grid(version: str, scope: Scope, theme: str, lang: str) -> Any:
    """The matrix grid, built once per data version (its 40 x 18 cells cost ~8 ms to lay out)."""
    dept_ids, frame = lists.matrix(scope=scope)
    return c.matrix_grid(ids.matrix, dept_ids, frame, theme, lang)


def page_parts(v: Viewer, p: PageParams, sel: Selection) -> dict[str, Any]:
    """The first paint, kept per data version (`view.kept`; the data-owner appointments the gap and
    department lists name move it too): what goes before and after the body, and the body. Depends on the
    viewer through role and scope alone (the import box: administrators)."""
    view, problem, dept, errors = resolve(v, sel)
    kpis = c.kpi_row(lists.gap_counts(scope=v.scope()), p.lang, ids.kpis)
    if p.theme == "wall":
        # the refresh callback's outputs exist on the wall too: the body holds the wall row
        return {
            "before": [kpis],
            "body": wall_row(v, p, problem),
            "after": [_controls(v, p, view, problem, dept, hidden=True)],
        }
    return {
        "before": [
            notice(errors, p.lang),
            kpis,
            _controls(v, p, view, problem, dept),
            importing.import_box(p.lang) if v.role == "admin" else None,
        ],
        "body": body(v, p, view, problem, dept),
        "after": [],
    }


def render(v: Viewer, p: PageParams, sel: Selection) -> list[Any]:
    """The whole page for its first paint, from its kept parts (`page_parts`)."""
    got = kept(page_parts, v, p, sel)
    return [*got["before"], html.Div(got["body"], id=ids.body, className="lists-body"), *got["after"]]


def wall_row(v: Viewer, p: PageParams, problem: int | None) -> html.Div:
    """A hands-off wall: the mapping of the type that most needs attention, and gaps per department."""
    scope = v.scope()
    version = cache.data_version()
    m = _map_figure(version, problem, scope, p.theme, p.lang) if problem else None
    left = (
        graph(ids.mapping, m["figure"])
        if m is not None
        else empty_state(p.lang, ("没有可显示的问题类型", "No problem type to show"))
    )
    right = graph(ids.dept_gaps, _dept_figure(version, scope, p.theme, p.lang))
    return html.Div(
        [html.Div(left, className="card chart-card"), html.Div(right, className="card chart-card")],
        className="lists-row lists-wall",
    )


def _controls(
    v: Viewer, p: PageParams, view: str, problem: int | None, dept: int | None, *, hidden: bool = False
) -> html.Div:
    lang = p.lang
    probs = lists.problems(scope=v.scope())
    prob_opts = [
        {
            "label": f"{pick(r['name_zh'], r['name_en'], lang)}"
            + (f" · ⚠{r['gaps']}" if r["gaps"] else "")
            + (" · " + pick("高", "high", lang) if r["severity"] >= lists.HIGH else ""),
            "value": r["code"],
        }
        for r in probs.iter_rows(named=True)
    ]
    code_of = dict(zip(probs["problem_id"].to_list(), probs["code"].to_list(), strict=True))
    depts = lists.dept_choices(scope=v.scope())
    if v.role == "department_head":
        dept_opts = []
    else:
        dept_opts = [{"label": pick("全市对比", "City-wide comparison", lang), "value": ALL}]
    if v.role != "operator":
        dept_opts += [
            {"label": pick(r["name_zh"], r["name_en"], lang), "value": r["code"]}
            for r in depts.iter_rows(named=True)
        ]
    return html.Div(
        [
            dcc.RadioItems(
                id=ids.view,
                options=[{"label": both(*VIEWS[k], lang, " "), "value": k} for k in VIEWS],
                value=view,
                inline=True,
                className="lists-view",
            ),
            dcc.Dropdown(
                id=ids.problem,
                options=prob_opts,
                value=code_of.get(problem) if problem else None,
                clearable=False,
                className="lists-select",
                placeholder=pick("选择问题类型", "Pick a problem type", lang),
            ),
            dcc.Dropdown(
                id=ids.dept,
                options=dept_opts,
                value=_dept_code(dept) if dept is not None else ALL,
                clearable=False,
                disabled=v.role in ("department_head", "operator"),
                className="lists-select",
            ),
            html.Div(
                [
                    html.Button(
                        both("导出 Excel", "Export Excel", lang, " "), id=ids.export_xlsx, className="btn"
                    ),
                    html.Button(
                        both("导出 CSV", "Export CSV", lang, " "), id=ids.export_csv, className="btn"
                    ),
                    dcc.Download(id=ids.download),
                ],
                className="lists-export",
                # operators see the city-wide summary only: nothing to export
                style={"display": "none"} if v.role == "operator" else None,
            ),
        ],
        id=ids.controls,
        className="card lists-controls",
        style={"display": "none"} if hidden else None,
    )


def body(v: Viewer, p: PageParams, view: str, problem: int | None, dept: int | None) -> list[Any]:
    lang, scope = p.lang, v.scope()
    st = meta.pool_status()
    as_of = as_of_text(st.as_of)
    if view == "map":
        m = _map_figure(cache.data_version(), problem, scope, p.theme, lang) if problem else None
        if m is None:
            return [empty_state(lang, ("您的范围内没有问题类型", "No problem type in your scope"))]
        # the desk page scrolls: the mapping gets the height its rows need (the wall fills its card)
        return [
            html.Div(
                graph(ids.mapping, m["figure"]),
                className="card chart-card lists-map-card",
                style={"height": f"{m['height']}px"},
            )
        ]
    if view == "matrix":
        return [
            html.Div(
                [
                    html.Div(
                        [
                            bi_text(
                                "问题类型 × 部门: 谁牵头, 谁配合, 缺口在哪",
                                "Problem types x departments: who leads, who supports, where the gaps are",
                                lang,
                            ),
                            html.Span(
                                pick(
                                    f" · 深色 = 牵头, 浅色 = 配合, 红框 = 缺口 (⚠数量) · 截至 {as_of}",
                                    f" · dark = leads, light = supports, red frame = gaps (⚠ count) · as of {as_of}",
                                    lang,
                                ),
                                className="chart-foot",
                            ),
                        ],
                        className="card-title",
                    ),
                    html.Div(
                        _matrix_grid(cache.data_version(), scope, p.theme, lang), className="lists-grid-box"
                    ),
                ],
                className="card lists-matrix-card",
            )
        ]
    if view == "gaps":
        g = lists.gaps_with_cases(scope=scope, as_of=st.as_of)
        return [
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(
                                [
                                    bi_text("缺口清单 (最严重在前)", "Gaps, worst first", lang),
                                    html.Span(f" · {g.height} · {as_of}", className="chart-foot"),
                                ],
                                className="card-title",
                            ),
                            html.Div(c.gap_grid(ids.gaps, g, p.theme, lang), className="lists-grid-box"),
                        ],
                        className="card",
                    ),
                    html.Div(
                        graph(ids.dept_gaps, _dept_figure(cache.data_version(), scope, p.theme, lang)),
                        className="card chart-card",
                    ),
                ],
                className="lists-row",
            )
        ]
    # the department view
    if dept is None:
        s = lists.dept_summary(scope=scope)
        return [
            html.Div(
                [
                    html.Div(
                        bi_text("全市各部门责任与缺口对比", "City-wide comparison of departments", lang),
                        className="card-title",
                    ),
                    c.summary_table(s, lang),
                ],
                className="card",
            )
        ]
    d = lists.dept_list(dept_id=dept, scope=scope, as_of=st.as_of)
    if d is None:
        return [empty_state(lang, ("没有这个部门的清单", "No list for this department"))]
    return c.dept_sections(d, p.theme, lang, ids.gaps)


def _triggered() -> object:
    """The id of the input that fired; None outside a callback (bench, scripts)."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:
        return None


def update(view: object, problem: object, dept: object, _n: object, params: object) -> tuple[Any, Any]:
    """Controls changed, or the page's refresh tick: the KPI row and the body again. Every value comes
    from the browser, so each is checked like a URL parameter."""
    p = PageParams.from_store(params)
    sel = Selection(
        inputs.one_of(view, VIEWS, "map"),
        problem if isinstance(problem, str) else None,
        dept if isinstance(dept, str) else None,
    )

    # the KPI row changes only with the data: a control change leaves it as it is
    refresh = _triggered() in ("app-refresh-interval", None)

    def both_parts(v: Viewer) -> tuple[Any, Any]:
        got = kept(update_parts, v, p, sel)
        return (got["kpis"] if refresh else no_update), got["body"]

    got = guarded(both_parts, p.lang)
    if isinstance(got, tuple):
        return got
    return [], got  # a pool error or a logged-out viewer: the panel in the body


def update_parts(v: Viewer, p: PageParams, sel: Selection) -> dict[str, Any]:
    """What `update` answers, kept per data version (`view.kept`): the KPI row and the body. JSON, so
    `no_update` is put in outside. Depends on the viewer through role and scope alone."""
    view, problem, dept, errors = resolve(v, sel)
    kpis = c.kpi_row(lists.gap_counts(scope=v.scope()), p.lang, ids.kpis).children
    if p.theme == "wall":
        return {"kpis": kpis, "body": wall_row(v, p, problem)}
    return {"kpis": kpis, "body": [notice(errors, p.lang), *body(v, p, view, problem, dept)]}


def warm_default(v: Viewer, p: PageParams) -> None:
    """What a viewer like `v` asks for on the page opened without parameters (dashboard.warmup): its first
    paint, and its refresh tick with the values that paint put in the controls."""
    sel = Selection()
    warm(v, page_parts, p, sel)
    view, problem, dept, _errors = resolve(v, sel)
    code = (
        {i: c for c, i in lists.problem_ids_by_code(scope=v.scope()).items()}.get(problem)
        if problem
        else None
    )
    warm(v, update_parts, p, Selection(view, code, _dept_code(dept) if dept is not None else ALL))


def layout_for(p: PageParams, sel: Selection) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            html.Div(guarded(render, p.lang, p, sel), id=ids.content, className="lists"),
        ],
        id=ids.root,
        className="lists",
    )


def export(xlsx_clicks: object, csv_clicks: object, dept: object, params: object) -> Any:
    """The selected department's lists (or the city's, for leaders) as Excel or zipped CSV; every export
    is written to the responsibility log before the file leaves."""
    p = PageParams.from_store(params)
    kind = "csv" if _triggered() == ids.export_csv else "xlsx"
    try:
        v = auth.current_viewer()
        if v is None or v.role == "operator":
            return no_update
        _view, _problem, dept_id, _errors = resolve(
            v, Selection("dept", None, dept if isinstance(dept, str) else None)
        )
        got = meta.consistent(lambda st: (st, lists.export_tables(dept_id=dept_id, scope=v.scope())))
    except PoolError:
        return no_update
    st, tables = got
    if tables is None:
        return no_update
    who = _dept_code(dept_id) if dept_id is not None else ALL
    rows = sum(f.height for f in tables.values())
    audit.log_read(
        audit.Actor.of(v), f"export.{kind}", "lists", who, detail={"rows": rows, "sheets": len(tables)}
    )
    header = both(
        f"三单融合清单 · {who} · 数据截至 {as_of_text(st.as_of)}",
        f"Three lists in one · {who} · as of {as_of_text(st.as_of)}",
        p.lang,
        " / ",
    )
    stamp = as_of_text(st.as_of).replace(" ", "_").replace(":", "")
    if kind == "csv":
        return dcc.send_bytes(lists_io.csv_zip_bytes(tables, header), f"lists-{who}-{stamp}.zip")
    return dcc.send_bytes(lists_io.xlsx_bytes(tables, header), f"lists-{who}-{stamp}.xlsx")


# --- import from the page (administrators) ------------------------------------------------------------

HIDDEN = {"display": "none"}
SHOWN = {"display": "inline-block"}


def _upload_bytes(contents: object) -> bytes | None:
    """The file of a dcc.Upload ("data:<type>;base64,<data>"); None when it is not one. A file far over
    the limit is not decoded: its size is known from the text's length."""
    if not isinstance(contents, str) or ";base64," not in contents[:200]:
        return None
    b64 = contents.split(";base64,", 1)[1]
    if len(b64) * 3 // 4 > lists_io.MAX_FILE_BYTES + 3:
        return b"\0" * (len(b64) * 3 // 4)  # read_file names the size without looking inside
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None


def import_file(
    contents: object, _confirm: object, filename: object, dept: object, dry: object, params: object
) -> tuple[Any, Any, Any]:
    """A file was dropped (a dry run: every row's reason, or what would change) or the confirm was
    clicked (the same file, the same target and the same data as the dry run, written whole through
    the door). Administrators only; the browser's values are checked like any input."""
    p = PageParams.from_store(params)
    lang = p.lang
    confirm = _triggered() == ids.confirm
    name = inputs.quoted(filename) if isinstance(filename, str) else "?"
    try:
        v = auth.current_viewer()
        if v is None or v.role != "admin":
            return (
                importing.import_message(
                    "只有管理员可以导入清单", "Only an administrator imports lists", lang
                ),
                HIDDEN,
                None,
            )
        if not isinstance(dept, str):
            dept = "?"  # the selector always holds a code or "all": anything else names no target
        _view, _problem, dept_id, errors = resolve(v, Selection("dept", None, dept))
        if errors:  # an unknown department must not fall back to the whole city's lists
            return html.Div([importing.import_message(zh, en, lang) for zh, en in errors]), HIDDEN, None
        target = lists.dept_code(dept_id=dept_id) if dept_id is not None else None
        data = _upload_bytes(contents)
        if data is None or not isinstance(filename, str):
            return (
                importing.import_message("没有可读的文件", "No readable file was uploaded", lang),
                HIDDEN,
                None,
            )
        digest = hashlib.sha256(data).hexdigest()
        stamp = {"digest": digest, "dept": target, "version": cache.data_version()}
        if confirm and stamp != dry:
            return (
                importing.import_message(
                    "文件、目标部门或数据自试运行后已变化: 请重新试运行",
                    "The file, the target department or the data changed since the dry run: run it again",
                    lang,
                ),
                HIDDEN,
                None,
            )
        rows, problems = lists_io.read_file(data, filename)
        out = lists_io.Outcome(problems=problems)
        if out.ok:
            out = lists_io.import_lists(rows, dept_code=target, actor=audit.Actor.of(v), dry_run=not confirm)
    except PoolError as exc:
        return (
            importing.import_message(
                "数据池不可用, 未写入", f"The pool is unavailable, nothing written: {exc}", lang
            ),
            HIDDEN,
            None,
        )
    report = importing.import_report(
        out, lang, dry_run=not confirm, filename=f"{name} → {target or pick('全市', 'city-wide', lang)}"
    )
    ready = not confirm and out.ok and any(sum(x) for x in out.changes.values())
    return report, SHOWN if ready else HIDDEN, stamp if ready else None

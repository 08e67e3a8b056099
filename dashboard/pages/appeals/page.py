"""Appeals and optimization (`/appeals`, leaders): appeals against priority scores and routings with their
7-working-day due dates and overdue flags, answering them (upheld / corrected), appeal and correction
rates per decision type, the priority model's disclosure, and optimization actions opened against
recurring hotspots with their before/after effect on case counts."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, html, no_update

from dashboard import inputs, wall
from dashboard.i18n import both
from dashboard.pages.appeals import components as c
from dashboard.pages.appeals.components import ids
from dashboard.view import PageParams, acting, clock_note, page_layout, page_params, reads, remembered
from queries import appeals as ap
from queries import audit, loop, meta
from queries import case_actions as ca
from queries import case_rules as R
from queries import optimization as opt
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/appeals",
    name="appeals",
    title="申诉与优化 · Appeals & optimization",
    order=8,
    ready="#appeals-kpis",
    roles=(
        "leader",
        "department_head",
        "admin",
    ),  # the shell lists it only for these; render() refuses the rest
)
ROLES: tuple[str, ...] = tuple(dash.page_registry[__name__]["roles"])


def _alert(v: Viewer) -> str | None:
    """Red when an appeal is past its 7 working days unanswered, amber when one is due within a day."""
    if v.role not in ROLES:
        return None
    frame = ap.appeals(scope=v.scope(), now=meta.pool_status().case_clock, status="open")
    if frame.height and bool(frame["overdue"].any()):
        return "red"
    return "amber" if frame.height and bool((frame["days_left"] <= 1).any()) else None


wall.register(__name__, _alert)


def layout(**query: Any) -> html.Div:
    return page_layout(ids, render, page_params(query), "appeals", remember=True)


def _months() -> tuple[int, int] | None:
    ms = loop.months()
    if not ms:
        return None
    last = ms[-1]
    y, m = divmod(last, 100)
    first = (y - 1) * 100 + m if m < 12 else y * 100 + 1  # twelve months back
    return max(first, ms[0]), last


@reads("cases")
def render(v: Viewer, p: PageParams) -> list[Any]:
    """The page, a kept answer (`view.remembered`): it depends on the viewer through role (who may answer
    and open actions) and scope alone, and reads cases and base data only, so record batches leave it
    valid; every write of an appeal or an optimization action moves the cases' version. Overdue flags
    and the actions' "after" windows are reckoned at the cases' clock (meta.case_clock), named on the page."""
    lang, scope = p.lang, v.scope()
    if v.role not in ROLES:
        return [
            html.Div(
                both(
                    "申诉与优化仅供领导、部门负责人和管理员查看",
                    "Appeals and optimization are for leaders, department heads and administrators",
                    lang,
                    " / ",
                ),
                className="state-panel",
                id="appeals-refused",
            )
        ]
    now = meta.pool_status().case_clock
    frame = ap.appeals(scope=scope, now=now)
    rates = ap.rates(scope=scope)
    span = _months()
    hot = loop.hotspots(scope=scope, month_from=span[0], month_to=span[1]) if span else None
    acts = opt.actions(scope=scope, now=now)
    side: list[Any] = [c.model_card(lang)]
    main: list[Any] = [c.appeals_card(frame, lang)]
    if v.role in ap.DECIDERS:
        main.append(c.decide_form(frame, ca.departments(), lang))
    return [
        c.kpis(frame, rates, lang),
        html.Div([html.Div(main, className="case-main"), html.Div([c.rates_card(rates, lang), *side], className="case-main")], className="appeals-row"),
        c.optimization_card(hot if hot is not None else _no_hotspots(), acts, v.role in opt.OPENERS, lang),
        html.P(clock_note(now, lang), className="muted"),
    ]  # fmt: skip


def _no_hotspots() -> Any:
    import polars as pl

    return pl.DataFrame(
        schema={
            "problem_id": pl.Int64,
            "community_code": pl.Int64,
            "n": pl.Int64,
            "optimized": pl.Boolean,
            "problem_zh": pl.String,
            "community_zh": pl.String,
        }
    )


def _with(message: Any, p: PageParams) -> Any:
    """The page after a write, with its result line on top: the kept answer, which the write's new cases
    version made fresh (remembered reads the versions from the pool, never a worker's stale copy)."""
    page = remembered(render, p.lang, p)
    return [message, *page] if isinstance(page, list) else page


def _msg(zh: str, en: str, lang: str, ok: bool) -> html.P:
    return html.P(both(zh, en, lang, " / "), className=f"alert {'alert-ok' if ok else 'alert-amber'}")


@callback(
    Output(ids.content, "children"),
    Output(ids.decide_msg, "children"),
    Input(ids.decide, "n_clicks"),
    State(ids.pick_, "value"),
    State(ids.outcome, "value"),
    State(ids.note, "value"),
    State(ids.score, "value"),
    State(ids.dept, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def decide(
    clicks: object,
    appeal_id: object,
    outcome: object,
    note: object,
    score: object,
    dept: object,
    params: object,
) -> Any:
    """Answer one appeal; refused: the form stays as typed with the reason; done: the page again."""
    p = PageParams.from_store(params)
    if not clicks:
        return no_update, no_update

    def run(v: Viewer, pp: PageParams) -> Any:
        try:
            ap.decide_appeal(
                audit.Actor.of(v),
                v,
                appeal_id=appeal_id,
                outcome=inputs.one_of(outcome, tuple(ap.OUTCOMES), ""),
                note=note if isinstance(note, str) else None,
                new_priority=score,
                to_dept=dept,
            )
        except R.CaseRefused as exc:
            return no_update, _msg(exc.zh, exc.en, pp.lang, False)
        return _with(
            _msg(f"申诉 #{appeal_id} 已答复", f"Appeal #{appeal_id} answered", pp.lang, True), pp
        ), no_update

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (no_update, out)


@callback(
    Output(ids.content, "children", allow_duplicate=True),
    Output(ids.open_msg, "children"),
    Input(ids.open_, "n_clicks"),
    State(ids.hotspot, "value"),
    State(ids.title, "value"),
    State(ids.window, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def open_action(clicks: object, hotspot: object, title: object, window: object, params: object) -> Any:
    p = PageParams.from_store(params)
    if not clicks:
        return no_update, no_update
    problem, _, community = str(hotspot or "").partition(":")

    def run(v: Viewer, pp: PageParams) -> Any:
        try:
            aid = opt.open_action(
                audit.Actor.of(v),
                v,
                problem_id=problem,
                community_code=community,
                title=title if isinstance(title, str) else None,
                window_days=window if window is not None else opt.WINDOW_DAYS,
            )
        except R.CaseRefused as exc:
            return no_update, _msg(exc.zh, exc.en, pp.lang, False)
        msg = _msg(f"优化措施 #{aid} 已发起", f"Optimization action #{aid} opened", pp.lang, True)
        return _with(msg, pp), no_update

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (no_update, out)

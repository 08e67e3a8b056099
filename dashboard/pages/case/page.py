"""One case (`/case?id=N`): its stages and both SLA clocks, the timeline of who did what when, the process
steps and data items it follows, its priority score and why, the actions the viewer may take on it now,
and appeals against its score or routing."""

from __future__ import annotations

from typing import Any

import dash
import polars as pl
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import inputs, wall
from dashboard.components import notice
from dashboard.i18n import bi_text, both
from dashboard.pages.case import components as c
from dashboard.pages.case.components import ids
from dashboard.view import PageParams, acting, clock_note, guarded, page_params, reads, remembered
from queries import appeals as ap
from queries import audit, loop, meta
from queries import case_actions as ca
from queries import case_rules as R
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/case",
    name="case",
    title="案件详情 · Case",
    order=7,
    ready="#case-content .case-search",
    nav=False,  # reached from the loop view's lists, the appeals page and links; not a header entry
    roles=("operator", "leader", "department_head", "admin"),
)
wall.register(__name__, None)

__all__ = ["ids", "layout"]


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            html.Div(content(p, inputs.query_flat(query).get("id")), id=ids.content, className="case"),
        ],
        id=ids.root,
        className="case",
    )


def content(p: PageParams, raw: str | None) -> Any:
    """The page for `?id=raw`. A case, or the most urgent cases when no id is given, is a kept answer
    (`view.remembered`, keyed on the case id, the viewer's role and scope, and the cases' version and
    clock): a second look costs one cache read. A bad id's message needs no query and is drawn fresh, so
    junk in URLs never fills the cache."""
    if raw is None or raw == "":
        return remembered(render_landing, p.lang, p)
    try:
        cid = ca.parse_case_id(raw)
    except R.CaseRefused as exc:
        refused = exc
        return guarded(lambda _v, pp: bad_id(pp.lang, raw, refused), p.lang, p)
    return remembered(render_case, p.lang, p, cid)


def render(v: Viewer, p: PageParams, query: dict[str, Any] | None = None) -> list[Any]:
    """The page for a URL query, not kept (the bench times it): as `content` draws it."""
    raw = inputs.query_flat(query or {}).get("id")
    if raw is None or raw == "":
        return render_landing(v, p)
    try:
        cid = ca.parse_case_id(raw)
    except R.CaseRefused as exc:
        return bad_id(p.lang, raw, exc)
    return render_case(v, p, cid)


def search_bar(lang: str, value: str = "") -> html.Div:
    return html.Div(
        [
            bi_text("案件编号", "Case id", lang, "case-field-label"),
            dcc.Input(id=ids.id_input, type="text", value=value, debounce=True, inputMode="numeric"),
            html.A(
                both("打开", "Open", lang, " "),
                id=ids.open_button,
                href=f"/case?id={value}" if value else "/case",
                className="panel-action",
            ),
        ],
        className="case-search card",
    )


def bad_id(lang: str, raw: str, exc: R.CaseRefused) -> list[Any]:
    return [search_bar(lang, inputs.quoted(raw)[:24]), notice([(exc.zh, exc.en)], lang)]


# Kept answers (view.remembered) depend on the viewer through role and scope alone: the actions the page
# offers follow case_rules.may_act, i.e. the role and, for a department head, the department (their scope);
# nothing on the page names the viewer. They read cases and base data only (`reads("cases")`), so a
# stream of record batches leaves them valid; every write of a case or an appeal moves the cases' version.


@reads("cases")
def render_case(v: Viewer, p: PageParams, cid: int) -> list[Any]:
    lang = p.lang
    case = ca.case_row(scope=v.scope(), case_id=cid)
    if case is None:
        return [
            search_bar(lang, str(cid)),
            notice(
                [
                    (
                        f"没有编号为 {cid} 的案件 (或不在您的范围内)",
                        f"No case {cid} (or it is outside your scope)",
                    )
                ],
                lang,
            ),
        ]
    clock = meta.pool_status().case_clock
    return [search_bar(lang, str(cid)), html.Div(body(v, lang, case, clock), id=ids.body)]


@reads("cases")
def render_landing(v: Viewer, p: PageParams) -> list[Any]:
    return [search_bar(p.lang), *landing(v, p.lang)]


def landing(v: Viewer, lang: str) -> list[Any]:
    """No id given: the viewer's most urgent open cases in scope, each a link, overdue as of the cases'
    clock (meta.case_clock), which the page names."""
    clock = meta.pool_status().case_clock
    frame = loop.urgent(scope=v.scope(), as_of=clock)
    return [
        c.urgent_table(frame, ca.departments(), clock, lang),
        html.P(
            [
                clock_note(clock, lang),
                html.Br(),
                both(
                    "或输入案件编号, 或从闭环视图的逾期清单点击案件",
                    "or give a case id, or click one in the loop view's lists",
                    lang,
                    " · ",
                ),
            ],
            className="muted case-asof",
        ),
    ]


def body(v: Viewer, lang: str, case: dict[str, Any], clock: int, message: Any = None) -> list[Any]:
    """The case's panels, its SLA clocks and appeals reckoned at `clock` (the cases' clock)."""
    names = ca.case_names(case=case)
    allowed = ca.allowed(viewer=v, case=case)
    pending = ca.pending_deferral_days(case_id=int(case["id"]))
    events = ca.timeline(case_id=int(case["id"]))
    actions = c.actions_panel(case, allowed, ca.departments(), pending, lang, _last_event(events))
    if message is not None:
        actions.children[-1].children = message  # the result line under the form
    return [
        c.header(case, names, clock, lang),
        c.stage_track(case, lang),
        html.Div(
            [
                html.Div(
                    [
                        c.timeline_table(events, lang),
                        c.process_table(ca.process(problem_id=int(case["problem_id"])), lang),
                    ],
                    className="case-main",
                ),
                html.Div(
                    [
                        actions,
                        c.priority_panel(case, int(names["severity"]), lang),
                        c.appeal_panel(ap.appeals(scope=v.scope(), now=clock, case_id=int(case["id"])), lang),
                    ],
                    className="case-side",
                ),
            ],
            className="case-row",
        ),
        html.P(clock_note(clock, lang), className="muted case-asof"),
    ]


def _result(zh: str, en: str, lang: str, ok: bool) -> html.P:
    return html.P(
        both(zh, en, lang, " / "),
        className=f"alert {'alert-ok' if ok else 'alert-amber'}",
        id="case-action-result",
    )


# What an action changes on the page, and nothing else: the header (stage, both SLA clocks, counts), the
# stage track, the timeline, the form's row_version and its choices, and the form reset. The process,
# priority and appeal panels do not change with an action and are not sent again (the answer was the whole
# case, ~50 KB). When the viewer may no longer act (the panel becomes a notice) the body is redrawn whole.
PARTS = (
    Output(ids.message, "children"),
    Output(ids.header, "children"),
    Output(ids.track, "children"),
    Output(ids.timeline, "children"),
    Output(ids.case_store, "data"),
    Output(ids.action, "options"),
    Output(ids.action, "value"),
    Output(ids.to_stage, "options"),
    Output(ids.to_stage, "value"),
    Output(ids.to_dept, "options"),
    Output(ids.to_dept, "value"),
    Output(ids.note, "value"),
    Output(ids.days, "value"),
    Output(ids.approve, "value"),
    Output(ids.result, "value"),
    Output(ids.satisfaction, "value"),
    Output(ids.approve_label, "children"),
)
_KEEP = (no_update,) * (len(PARTS) - 1)  # every part but the message


def _last_event(events: pl.DataFrame) -> int:
    return int(events["id"].max()) if events.height else 0  # type: ignore[arg-type]


def timeline_update(events: pl.DataFrame, shown: object, lang: str) -> Any:
    """The timeline after an action: a Patch appending the events after the newest one the page showed,
    when they are exactly the tail of the log (they always are: an action's events are the newest);
    otherwise (an unknown or missing mark, an empty table shown) the whole timeline."""
    try:
        last = int(str(shown))
    except ValueError:
        last = 0
    ids_ = events["id"].to_list()
    new = events.filter(pl.col("id") > last)
    if last <= 0 or last not in ids_ or not new.height or ids_[-new.height :] != new["id"].to_list():
        return c.timeline_table(events, lang).children
    patch = Patch()
    patch[1]["props"]["children"][1]["props"]["children"].extend(c.timeline_rows(new, lang))
    return patch


def changed_parts(
    v: Viewer, lang: str, case: dict[str, Any], message: Any, clock: int, shown_event: object = None
) -> tuple[Any, ...]:
    """(body, *PARTS) after a done action: the parts that changed, or the whole body when the action
    panel's shape changes (the viewer may no longer act on the case). Run in `meta.consistent` (its
    cached reads then key on the versions the action wrote); `clock`: the cases' clock."""
    allowed = ca.allowed(viewer=v, case=case)
    if not allowed:
        return (body(v, lang, case, clock, message), *(no_update,) * len(PARTS))
    names = ca.case_names(case=case)
    pending = ca.pending_deferral_days(case_id=int(case["id"]))
    events = ca.timeline(case_id=int(case["id"]))
    return (
        no_update,
        message,
        c.header(case, names, clock, lang).children,
        c.stage_track(case, lang).children,
        timeline_update(events, shown_event, lang),
        c.case_store_data(case, _last_event(events)),
        c.action_options(allowed, lang),
        allowed[0],
        c.stage_options(case, lang),
        None,
        c.transfer_options(case, ca.departments()),
        None,
        "",
        None,
        None,
        None,
        None,
        bi_text(*c.approve_label(pending), lang, "case-field-label"),
    )


@callback(
    Output(ids.body, "children"),
    *PARTS,
    Input(ids.submit, "n_clicks"),
    State(ids.case_store, "data"),
    State(ids.action, "value"),
    State(ids.note, "value"),
    State(ids.to_stage, "value"),
    State(ids.to_dept, "value"),
    State(ids.days, "value"),
    State(ids.approve, "value"),
    State(ids.satisfaction, "value"),
    State(ids.result, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def submit(
    clicks: object,
    store: object,
    action: object,
    note: object,
    to_stage: object,
    to_dept: object,
    days: object,
    approve: object,
    satisfaction: object,
    result: object,
    params: object,
) -> Any:
    """Take the chosen action. Refused: the form stays as typed (nothing is lost) with the reason under it;
    done: the parts of the case that changed are sent again (changed_parts), with the new row_version."""
    p = PageParams.from_store(params)
    if not clicks:
        return (no_update, no_update, *_KEEP)
    data = inputs.store(store)

    def run(v: Viewer, pp: PageParams) -> Any:
        try:
            done = ca.act(
                audit.Actor.of(v),
                v,
                case_id=data.get("id"),
                action=str(action or ""),
                seen_version=data.get("version"),
                note=note if isinstance(note, str) else None,
                to_stage=to_stage if isinstance(to_stage, str) and to_stage else None,
                to_dept=to_dept,
                days=days,
                approve=None if approve not in ("yes", "no") else approve == "yes",
                satisfaction=satisfaction if isinstance(satisfaction, str) else None,
                result=result if isinstance(result, str) else None,
            )
        except R.CaseRefused as exc:
            return (no_update, _result(exc.zh, exc.en, pp.lang, False), *_KEEP)
        msg = _result(f"{done.zh} (案件 #{done.case_id})", f"{done.en} (case #{done.case_id})", pp.lang, True)

        def after(st: meta.PoolStatus) -> Any:  # read over the versions the action wrote
            case = ca.case_row(scope=v.scope(), case_id=done.case_id)
            if case is None:  # transferred out of the viewer's scope
                gone = (f"{done.zh}; 案件已移出您的范围", f"{done.en}; the case has left your scope")
                return ([_result(*gone, pp.lang, True)], no_update, *_KEEP)
            return changed_parts(v, pp.lang, case, msg, st.case_clock, data.get("last_event"))

        return meta.consistent(after)

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (no_update, out, *_KEEP)


@callback(
    Output(ids.appeal_message, "children"),
    Output(ids.appeals, "children"),
    Input(ids.appeal_submit, "n_clicks"),
    State(ids.case_store, "data"),
    State(ids.appeal_type, "value"),
    State(ids.appeal_reason, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def file_appeal(clicks: object, store: object, kind: object, reason: object, params: object) -> Any:
    p = PageParams.from_store(params)
    if not clicks:
        return no_update, no_update
    data = inputs.store(store)

    def run(v: Viewer, pp: PageParams) -> Any:
        try:
            aid = ap.file_appeal(
                audit.Actor.of(v),
                v,
                case_id=data.get("id"),
                decision_type=str(kind or ""),
                reason=reason if isinstance(reason, str) else None,
            )
        except R.CaseRefused as exc:
            return _result(exc.zh, exc.en, pp.lang, False), no_update
        frame = meta.consistent(  # over the versions the appeal wrote
            lambda st: ap.appeals(scope=v.scope(), now=st.case_clock, case_id=int(str(data.get("id"))))
        )
        due_txt = ap.due_on_of(frame=frame, appeal_id=aid)
        return (
            _result(
                f"申诉 #{aid} 已登记, 答复期限 {due_txt}",
                f"Appeal #{aid} filed; answer due {due_txt}",
                pp.lang,
                True,
            ),
            c.appeals_list(frame, pp.lang),
        )

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (out, no_update)


def probe_submit(v: Viewer, case_id: int) -> tuple[Any, ...]:
    """The bench's probe: what the submit callback sends after an action."""
    case = ca.case_row(scope=v.scope(), case_id=case_id)
    if not case:
        return ()
    events = ca.timeline(case_id=case_id)
    shown = _last_event(events.head(max(events.height - 2, 1)))
    return changed_parts(v, "zh", case, None, meta.pool_status().case_clock, shown)

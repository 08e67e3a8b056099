"""The price page's ledger, from warning to decision to outcome, and the decision form's callback (every
decision through the write door)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import auth, inputs
from dashboard.components import error_panel
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.prices import charts
from dashboard.pages.prices.cards import head_row
from dashboard.pages.prices.ids import ids
from dashboard.view import PageParams
from queries import audit, prices
from queries import price_signals as sig
from queries.errors import PoolError
from queries.scope import Viewer


def ledger_card(v: Viewer, lang: str) -> html.Div:
    form: list[Any] = []
    if v.role in prices.DECIDERS:
        form = [
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.kind,
                        options=[
                            {"label": pick(*w, lang), "value": k} for k, w in prices.DECISION_KINDS.items()
                        ],
                        value="guidance",
                        clearable=False,
                    ),
                    dcc.Input(
                        id=ids.amount,
                        type="number",
                        min=0,
                        placeholder=pick("金额 (元)", "amount (yuan)", lang),
                    ),
                    dcc.Input(
                        id=ids.note, type="text", maxLength=500, placeholder=pick("说明", "note", lang)
                    ),
                    html.Button(
                        both("对当前序列作出决策", "Decide on the series shown", lang, " / "),
                        id=ids.decide,
                        className="btn",
                    ),
                ],
                className="prices-form",
            ),
            html.Div(id=ids.decided, role="status"),
        ]
    return html.Div(
        [
            html.Div(
                bi_text("决策台账: 预警 → 决策 → 结果", "Ledger: warning → decision → outcome", lang),
                className="card-title",
            ),
            *form,
            html.Div(ledger_table(v, lang), id=ids.ledger),
        ],
        className="card",
    )


def _kind_words(kind: str) -> tuple[str, str]:
    return prices.DECISION_KINDS.get(kind, (kind, kind))


def _sold_text(r: dict[str, Any], lang: str) -> str:
    if r["sold_then"] is None:
        return pick("无合作社报告", "no coop reports", lang)
    if r["sold_since"] is None:
        return f"{r['sold_then'] / 1000:,.1f} → " + pick("尚无", "not yet", lang)
    change = f" ({r['sold_change']:+.0%})" if r["sold_change"] is not None else ""
    return f"{r['sold_then'] / 1000:,.1f} → {r['sold_since'] / 1000:,.1f}{change}"


def ledger_table(v: Viewer, lang: str) -> html.Table | html.Div:
    d = prices.decisions(scope=v.scope())
    if not d.height:
        return html.Div(both("尚无决策", "No decisions yet", lang, " / "), className="chart-foot")
    head = head_row(
        (
            ("序列", "Series"),
            ("预警月", "Warning month"),
            ("决策", "Decision"),
            ("金额 (元)", "Amount (yuan)"),
            ("决策人", "By"),
            ("当时价格", "Price then"),
            ("最新价格", "Price since"),
            ("变化", "Change"),
            ("合作社销量 当月 → 此后月均 (吨)", "Coops' sales: that month → monthly mean since (t)"),
        ),
        lang,
    )
    rows = [
        html.Tr(
            [
                html.Td(f"{r['product_code']} · {r['market_code']}"),
                html.Td(
                    f"{sig.month_label(r['month'])} ({pick(*charts.LEVEL_WORDS[int(r['level'])], lang)})"
                ),
                html.Td(pick(*_kind_words(r["kind"]), lang)),
                html.Td(f"{r['amount_yuan']:,.0f}" if r["amount_yuan"] else "—"),
                html.Td(r["decided_by"]),
                html.Td(f"{r['price_then']:.2f}" if r["price_then"] is not None else "—"),
                html.Td(
                    f"{r['price_since']:.2f}"
                    if r["price_since"] is not None
                    else pick("尚无", "not yet", lang)
                ),
                html.Td(f"{r['change']:+.0%}" if r["change"] is not None else "—"),
                html.Td(_sold_text(r, lang)),
            ]
        )
        for r in d.iter_rows(named=True)
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="prices-table")


@callback(
    Output(ids.decided, "children"),
    Output(ids.ledger, "children"),
    Input(ids.decide, "n_clicks"),
    State(ids.product, "value"),
    State(ids.market, "value"),
    State(ids.kind, "value"),
    State(ids.amount, "value"),
    State(ids.note, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def decide(
    n: object, product: object, market: object, kind: object, amount: object, note: object, params: object
) -> Any:
    # a callback is its own request: who may decide is checked again here (and in the query layer)
    p = PageParams.from_store(params)
    lang = p.lang
    if not n:
        return no_update, no_update
    try:
        v = auth.current_viewer()
    except PoolError as exc:
        return error_panel(exc, lang), no_update
    if v is None:
        return both("请先登录", "Please log in", lang, " / "), no_update
    try:
        amt = float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None
        did = prices.record_decision(
            audit.Actor.of(v),
            scope=v.scope(),
            product=inputs.query_value(product) or "",
            market=inputs.query_value(market) or "",
            month=prices.end_month(),
            kind=inputs.one_of(kind, prices.DECISION_KINDS, ""),
            amount_yuan=amt,
            note=note if isinstance(note, str) else "",
        )
    except prices.PriceInputError as exc:
        return html.Div(both(exc.zh, exc.en, lang, " / "), className="alert alert-amber"), no_update
    except PoolError as exc:
        return error_panel(exc, lang), no_update
    msg = html.Div(
        both(f"已记录决策 #{did}", f"Decision #{did} recorded", lang, " / "), className="alert alert-ok"
    )
    return msg, ledger_table(v, lang)

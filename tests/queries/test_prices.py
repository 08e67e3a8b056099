"""The price pool and its queries, on SQLite and PostgreSQL: the generator's injected shocks are found by the
warnings, the failing series say why, the reporting defects are detected as injected, the scope holds,
and decisions go through the write door."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import func, select

from queries import audit, prices
from queries import engine as eng
from queries import price_signals as sig
from queries.scope import CITY_SCOPE, Scope
from queries.tables import price_episode, price_hog_week, price_obs, price_series

MINGJIU = 532503106
CAOBA = 532503102


def test_board_is_worst_first_with_declared_columns(pool: str) -> None:
    month = prices.end_month()
    assert sig.month_label(month) == "2026-11"  # the test pool ends 2026-11-20
    b = prices.board(scope=CITY_SCOPE, month=month)
    assert b.height == 32  # every product x market series of the generator
    assert (
        b.schema["level"] == pl.Int16
        and b.schema["price"] == pl.Float64
        and b.schema["qualifies"] == pl.Boolean
    )
    assert b["level"].to_list() == sorted(b["level"].to_list(), reverse=True)
    # the pork shock of the last four months tops the board on the high side, both methods agreeing
    pork = b.filter(pl.col("product") == "pork")
    assert pork.height == 3 and set(pork["side"]) == {"high"} and pork["agreed"].all()
    assert (pork["level"] == 3).all()


def test_every_injected_episode_is_found_on_its_side(pool: str) -> None:
    ep = eng.read_frame(select(price_episode))
    assert ep.height == 9
    for e in ep.iter_rows(named=True):
        s = eng.read_frame(select(price_series).where(price_series.c.id == e["series_id"])).row(0, named=True)
        prods = prices.products().filter(pl.col("id") == s["product_id"])["code"][0]
        mkts = prices.markets(scope=CITY_SCOPE).filter(pl.col("id") == s["market_id"])["code"][0]
        months = prices.series(scope=CITY_SCOPE, product=prods, market=mkts).months
        inside = months.filter(pl.col("month").is_between(e["first_month"], e["last_month"]))
        hit = inside.filter((pl.col("level") >= 2) & (pl.col("side") == e["side"]))
        assert hit.height >= 1, (prods, mkts, e["note_en"])


def test_tomato_glut_triggers_the_subsidy_at_the_farm_gate(pool: str) -> None:
    s = prices.series(scope=CITY_SCOPE, product="tomato", market="farmgate")
    last = s.months.row(-1, named=True)
    assert last["cost"] is not None and last["below_cost"] > 0 and last["side"] == "low"
    # the wholesale market has no production cost: no subsidy rule there
    assert (
        prices.series(scope=CITY_SCOPE, product="tomato", market="wholesale").months["cost"].null_count() > 0
    )


def test_series_that_fail_wfp_say_which_rule(pool: str) -> None:
    s = eng.read_frame(select(price_series.c.id, price_series.c.qualifies, price_series.c.seed_expect))
    assert s.filter(pl.col("seed_expect") == "ok")["qualifies"].all()
    assert not s.filter(pl.col("seed_expect") != "ok")["qualifies"].any()
    short = prices.series(scope=CITY_SCOPE, product="grape", market="caoba")
    assert not short.qualifies and "less than 3 years" in short.reasons[0][1]
    assert short.months["alps"].null_count() == short.months.height  # never a made-up figure
    sparse = prices.series(scope=CITY_SCOPE, product="loquat", market="mingjiu")
    assert "70%" in sparse.reasons[0][1]
    stale = prices.series(scope=CITY_SCOPE, product="rice", market="wenlan")
    assert "last 6 months" in stale.reasons[0][1]


def test_reporting_defects_are_detected_as_injected(pool: str) -> None:
    o = price_obs
    truth = dict(
        eng.read_frame(select(o.c.seed_flag, func.count().label("n")).group_by(o.c.seed_flag)).iter_rows()
    )
    detected_outliers = eng.read_frame(select(func.count()).where(o.c.outlier.is_(True))).item()
    assert truth["outlier"] > 0 and detected_outliers == truth["outlier"]
    both = eng.read_frame(
        select(func.count()).where(o.c.outlier.is_(True), o.c.seed_flag == "outlier")
    ).item()
    assert both == truth["outlier"]
    q = prices.coop_quality(scope=CITY_SCOPE)
    per_jin = eng.read_frame(
        select(func.count()).where(o.c.seed_flag == "jin", o.c.coop_id.is_not(None))
    ).item()
    assert q["per_jin"].sum() == per_jin > 0
    assert q["late"].sum() > 0 and q["coverage"].max() <= 1.0
    assert set(q.columns) >= {
        "name_zh",
        "product",
        "reports",
        "late_rate",
        "outliers",
        "sold_kg",
        "produced_kg",
    }


def test_hog_grain_levels_follow_the_episodes(pool: str) -> None:
    weeks = prices.hog_grain(first_week=0, last_week=10**6)
    ep = eng.read_frame(select(price_episode).where(price_episode.c.note_en.contains("hog-grain")))
    lo, hi = ep["first_month"].min(), ep["last_month"].max()
    in_ep = weeks.with_columns(
        pl.col("week")
        .map_elements(lambda w: int(sig.month_of_day([w * 7 - 3])[0]), return_dtype=pl.Int64)
        .alias("m")
    ).filter(pl.col("m").is_between(lo, hi))
    assert (in_ep["fall_level"] == 1).any()  # under 5:1 while hog prices slumped
    assert weeks.tail(4)["rise_level"].is_not_null().all()  # pork up 30%+ on a year earlier, these weeks
    raw = eng.read_frame(select(price_hog_week).order_by(price_hog_week.c.week.desc()).limit(1)).row(
        0, named=True
    )
    assert raw["ratio"] == pytest.approx(raw["hog"] / raw["corn"])


def test_a_township_leader_sees_county_markets_and_their_own(pool: str) -> None:
    leader = Scope(MINGJIU, None, 2)
    codes = set(prices.markets(scope=leader)["code"])
    assert codes == {"wholesale", "farmgate", "mingjiu"}
    b = prices.board(scope=leader, month=prices.end_month())
    assert set(b["market"]) == codes and b.height < 32
    with pytest.raises(prices.PriceInputError) as err:
        prices.series(scope=leader, product="tomato", market="caoba")
    assert "outside your scope" in err.value.en
    q = prices.coop_quality(scope=leader)
    assert q.height == 0 or set(q["township_code"]) == {MINGJIU}


def test_unknown_inputs_are_named(pool: str) -> None:
    with pytest.raises(prices.PriceInputError, match="No product"):
        prices.series(scope=CITY_SCOPE, product="durian", market="wholesale")
    with pytest.raises(prices.PriceInputError, match="No market"):
        prices.series(scope=CITY_SCOPE, product="tomato", market="nowhere")
    with pytest.raises(prices.PriceInputError, match="no price series"):
        prices.series(scope=CITY_SCOPE, product="pork", market="wholesale")


def test_report_is_month_by_month(pool: str) -> None:
    r = prices.report(scope=CITY_SCOPE, product="pork", market="wenlan")
    assert r.columns[:4] == ["month", "price", "n_obs", "n_outlier"]
    assert r.height == 72 and r["month"][-1] == "2026-11" and r["qualifies"].all()
    assert r["ifpa"].head(36).null_count() == 36 and r["ifpa"][-1] > 1  # minimum history, then the spike
    assert r["n_obs"].min() >= 1


def test_warnings_explain_themselves(pool: str) -> None:
    w = prices.warnings(scope=CITY_SCOPE, month=prices.end_month())
    pork = w.filter((pl.col("product") == "pork") & (pl.col("market") == "wenlan")).row(0, named=True)
    assert "IFPA" in pork["why_en"] and "ALPS" in pork["why_en"] and "both abnormal" in pork["why_en"]
    assert "above the month's usual level" in pork["why_en"] and "精瘦肉" in pork["why_zh"]
    assert prices.alert_level(scope=CITY_SCOPE) == "red"


def test_warnings_read_each_series_own_history(pool: str) -> None:
    """The warnings read the warned series' prices in one statement: each why is the one its own series
    (`prices.series`) gives, for every month and scope."""
    end = prices.end_month()
    for scope in (CITY_SCOPE, Scope(532503001, None, 2)):
        for month in (end, end - 3):
            w = prices.warnings(scope=scope, month=month)
            assert w.height
            for r in w.iter_rows(named=True):
                hist = prices.series(scope=scope, product=r["product"], market=r["market"]).months
                moves = sig.run_of_moves(hist.filter(pl.col("month") <= r["month"])["price"].to_list())
                zh, en = sig.explain(
                    (r["product_zh"], r["product_en"]), (r["market_zh"], r["market_en"]), r, moves
                )
                assert (r["why_zh"], r["why_en"]) == (zh, en)


def test_decisions_go_through_the_write_door(writable_pool: str) -> None:
    before = audit.verify().entries
    leader = audit.Actor(2, "leader", "leader")
    month = prices.end_month()
    did = prices.record_decision(
        leader,
        scope=CITY_SCOPE,
        product="tomato",
        market="farmgate",
        month=month - 1,
        kind="subsidy",
        amount_yuan=50_000,
        note="每公斤补贴0.3元",
    )
    assert audit.verify().ok and audit.verify().entries == before + 1
    entry = audit.show(limit=1).row(0, named=True)
    assert entry["action"] == "price.decision" and entry["object_id"] == str(did)
    d = prices.decisions(scope=CITY_SCOPE).row(0, named=True)
    assert d["id"] == did and d["kind"] == "subsidy" and d["months_since"] == 1
    assert d["change"] == pytest.approx(d["price_since"] / d["price_then"] - 1)
    for bad, msg in (
        (dict(kind="subsidy", amount_yuan=None), "amount"),
        (dict(kind="bribe", amount_yuan=None), "Unknown decision kind"),
        (dict(kind="none", amount_yuan=None, month=month + 5), "No price"),
    ):
        args = dict(scope=CITY_SCOPE, product="tomato", market="farmgate", month=month, note="")
        with pytest.raises(prices.PriceInputError, match=msg):
            prices.record_decision(leader, **{**args, **bad})  # type: ignore[arg-type]
    with pytest.raises(prices.PriceInputError, match="Only leaders"):
        prices.record_decision(
            audit.Actor(5, "operator", "operator"),
            scope=CITY_SCOPE,
            product="tomato",
            market="farmgate",
            month=month,
            kind="none",
            amount_yuan=None,
            note="",
        )
    assert audit.verify().entries == before + 1  # nothing refused was written or logged


def test_the_command_prints_the_pages_report(
    sqlite_configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    assert (
        main(["--url", sqlite_configured, "prices", "report", "--product", "pork", "--market", "wenlan"]) == 0
    )
    printed = pl.read_csv(capsys.readouterr().out.encode(), infer_schema_length=None)
    frame = prices.report(scope=CITY_SCOPE, product="pork", market="wenlan")
    assert printed.columns == frame.columns and printed.height == frame.height == 72
    assert printed["ifpa"].to_list() == frame["ifpa"].to_list()
    assert main(["--url", sqlite_configured, "prices", "report", "--product", "durian", "--market", "x"]) == 2
    assert "No product 'durian'" in capsys.readouterr().err
    assert main(["--url", sqlite_configured, "prices", "report", "--product", "grape", "--market", "caoba",
                 "--format", "json"]) == 0  # fmt: skip
    rows = pl.read_json(capsys.readouterr().out.encode())
    assert not rows["qualifies"].any() and rows["alps"].null_count() == rows.height


def test_coop_volumes_against_the_farm_gate_price(pool: str) -> None:
    v = prices.coop_volumes(scope=CITY_SCOPE, product="tomato")
    assert v.schema["month"] == pl.Int32 and v.schema["sold_kg"] == pl.Float64
    assert v.height == 72 and (v["produced_kg"] >= v["sold_kg"]).all()  # six years; sold out of produced
    assert v["farm_gate_price"].null_count() == 0
    assert prices.coop_volumes(scope=CITY_SCOPE, product="pork").height == 0  # retail only: no coops
    # a township leader sees only their township's cooperatives
    town = prices.coop_volumes(scope=Scope(MINGJIU, None, 2), product="tomato")
    assert town["coops"].sum() <= v["coops"].sum()


def test_board_summary_and_market_worst(pool: str) -> None:
    month = prices.end_month()
    k = prices.board_summary(scope=CITY_SCOPE, month=month)
    b = prices.board(scope=CITY_SCOPE, month=month)
    assert k["series"] == b.height == 32 and 0 < k["abnormal"] <= k["priced"] <= 32
    assert k["under_cost"] >= 1  # the tomato glut at the farm gate
    w = prices.market_worst(scope=CITY_SCOPE, month=month)
    assert w.height == 5 and int(w.filter(pl.col("code") == "wenlan")["worst"][0]) == 3  # the pork shock

"""queries/factors.py and the generator part behind it, on the SQLite and PostgreSQL test pools."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from queries import factors, meta, overview, stats
from queries.generate.factors import gov_index
from queries.scope import CITY_SCOPE, Scope

WENLAN = 532503001


def test_years_and_township_figures(pool: str) -> None:
    assert factors.years(scope=CITY_SCOPE) == [2026]  # the test pool's 120 days all lie in 2026
    frame = factors.township_figures(scope=CITY_SCOPE, year=2026)
    assert frame.height == 13 and frame["township_code"].n_unique() == 13
    for name in factors.VARIABLES:
        assert frame.schema[name].is_numeric() and frame[name].null_count() == 0
    assert frame.schema["population"] == pl.Int64 and frame.schema["gov_index"] == pl.Float64
    wenlan = frame.filter(pl.col("township_code") == WENLAN).row(0, named=True)
    assert wenlan["unit"] == "文澜街道" and wenlan["population"] == 150000
    assert wenlan["gov_index"] == pytest.approx(
        gov_index(wenlan["on_time_closure"], wenlan["satisfaction"], wenlan["data_index"])
    )
    assert wenlan["platform_per_1k"] == pytest.approx(wenlan["records"] / 150000 * 1000 / wenlan["days"])
    assert (
        frame["broadband"].is_between(30, 99.5).all() and frame["tertiary_share"].is_between(0.2, 0.8).all()
    )
    pooled = factors.township_figures(scope=CITY_SCOPE, year=None)
    assert pooled["unit"].to_list()[0] == "文澜街道 2026"


def test_data_index_is_the_overview_index_over_the_same_days(pool: str) -> None:
    frame = factors.township_figures(scope=CITY_SCOPE, year=2026)
    st = meta.pool_status()
    kpis = overview.township_kpis(scope=CITY_SCOPE, first_day=st.first_day, last_day=st.as_of_day)
    joined = frame.join(kpis.select("township_code", "index", "n"), on="township_code")
    assert joined.height == 13
    assert (joined["records"] == joined["n"]).all()
    assert np.allclose(joined["data_index"].to_numpy(), joined["index"].to_numpy(), atol=1e-9)


def test_township_analysis_matches_the_statistics_on_the_same_rows(pool: str) -> None:
    got = factors.township_analysis(
        scope=CITY_SCOPE, year=2026, y="gov_index", xs=["broadband", "fiscal_ratio"]
    )
    frame = factors.township_figures(scope=CITY_SCOPE, year=2026)
    ref = stats.ols(
        frame["gov_index"].to_numpy(), {c: frame[c].to_numpy() for c in ("broadband", "fiscal_ratio")}
    )
    assert got.n_units == 13 and got.dropped == []
    assert np.allclose(got.models[0].coef, ref.coef, rtol=1e-12)
    assert got.describe["variable"].to_list() == ["gov_index", "broadband", "fiscal_ratio"]
    assert got.vif.height == 2 and got.loo.height == 26
    assert set(got.partial) == {"broadband", "fiscal_ratio"}


def test_default_models_with_all_regressors_warn_about_degrees_of_freedom(pool: str) -> None:
    got = factors.township_analysis(
        scope=CITY_SCOPE, year=2026, y=factors.DEPENDENT, xs=factors.REGRESSORS, models=factors.DEFAULT_MODELS
    )
    assert [m.df_resid for m in got.models] == [10, 9, 7, 5]
    assert [m.few_df for m in got.models] == [False, True, True, True]


def test_a_township_leader_cannot_fit_a_county_model(pool: str) -> None:
    scope = Scope(WENLAN, None, 2)
    assert factors.township_figures(scope=scope, year=2026).height == 1
    with pytest.raises(stats.StatsInputError, match="too few"):
        factors.township_analysis(scope=scope, year=2026, y="gov_index", xs=["broadband"])


def test_unknown_variables_and_models_outside_the_regressors_are_refused(pool: str) -> None:
    with pytest.raises(stats.StatsInputError, match="No such variables: nope"):
        factors.township_analysis(scope=CITY_SCOPE, year=2026, y="gov_index", xs=["nope"])
    with pytest.raises(stats.StatsInputError, match="not chosen regressors: rnd_ratio"):
        factors.township_analysis(
            scope=CITY_SCOPE, year=2026, y="gov_index", xs=["broadband"], models=[["broadband", "rnd_ratio"]]
        )


def test_every_variable_is_documented() -> None:
    for name, v in factors.VARIABLES.items():
        assert all(v.label) and all(v.unit) and all(v.formula) and all(v.source), name
    assert factors.VARIABLES[factors.DEPENDENT].role == "dependent"
    assert all(set(m) <= set(factors.REGRESSORS) for m in factors.DEFAULT_MODELS)


def test_import_through_the_door_round_trips_and_is_logged(writable_pool: str) -> None:
    from queries import audit

    frame = pl.DataFrame(
        {
            "province": ["Sichuan", "Yunnan", "Guizhou", "Shaanxi", "Gansu", "Qinghai"],
            "index": [68.6, 55.2, 60.7, 51.0, 45.3, 39.6],
            "broadband": [30.8, 25.3, 28.9, 24.1, 22.0, 20.4],
            "rnd": [0.02, None, 0.01, 0.02, 0.01, 0.004],
        }
    )
    before = audit.verify().entries
    ds = factors.import_dataset(
        audit.Actor.cli(), frame, name="provinces", label="province", filename="p.csv"
    )
    back = factors.dataset_frame(dataset_id=ds)
    assert back.columns == ["unit", "broadband", "index", "rnd"]
    assert back["unit"].to_list() == frame["province"].to_list()
    assert back["index"].to_list() == frame["index"].to_list() and back["rnd"].null_count() == 1
    assert factors.datasets().row(0, named=True)["name"] == "provinces"
    v = audit.verify()
    assert v.ok and v.entries == before + 1
    assert audit.show(limit=1).row(0, named=True)["action"] == "factors.import"
    got = factors.analyse(back, y="index", xs=["broadband", "rnd"], label="unit")
    assert got.dropped == ["Yunnan"] and got.n_units == 5


def test_an_import_with_a_text_column_writes_nothing(writable_pool: str) -> None:
    from queries import audit

    before = audit.verify().entries
    frame = pl.DataFrame({"u": ["a", "b"], "y": [1.0, 2.0], "note": ["x", "y"]})
    with pytest.raises(stats.StatsInputError, match="not numeric; nothing was imported: note"):
        factors.import_dataset(audit.Actor.cli(), frame, name="bad", label="u", filename=None)
    assert factors.datasets().height == 0 and audit.verify().entries == before
    with pytest.raises(stats.StatsInputError, match="No dataset 999"):
        factors.dataset_frame(dataset_id=999)

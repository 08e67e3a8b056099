"""queries/factors.py and the generator part behind it, on the SQLite and PostgreSQL test pools."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from queries import factors, meta, overview, stats
from queries.generate.factors import gov_index
from queries.scope import CITY_SCOPE, Scope
from tests.pools import sqlite_pool_at

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
    # what the page reads off the tables is worked out with them
    flips = got.loo.filter(pl.col("sign_flip"))
    assert got.fragile == sorted(set(flips["unit"].to_list())) and flips.height > 0
    assert got.loo_hits.height == got.loo.filter(pl.col("sign_flip") | pl.col("star_change")).height
    assert got.vif_serious == [r["variable"] for r in got.vif.iter_rows(named=True) if r["vif"] > 10]
    assert len(got.vif_serious) >= 1


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


PROVINCES = pl.DataFrame(
    {
        "province": ["Sichuan", "Yunnan", "Guizhou", "Shaanxi", "Gansu", "Qinghai"] * 2,
        "year": [2020] * 6 + [2021] * 6,
        "index": [68.6, 55.2, 60.7, 51.0, 45.3, 39.6, 70.1, 56.0, 62.2, 52.4, 47.0, 40.2],
        "broadband": [30.8, 25.3, 28.9, 24.1, 22.0, 20.4, 33.0, 26.1, 29.5, 25.7, 23.3, 21.9],
        "rnd": [0.020, 0.011, 0.010, 0.021, 0.012, 0.004, 0.022, 0.012, 0.011, 0.022, 0.013, 0.005],
    }
)


def test_an_imported_dataset_is_chosen_by_key_and_analysed_by_year(writable_pool: str) -> None:
    from queries import audit

    ds = factors.import_dataset(audit.Actor.cli(), PROVINCES, name="west", label="province", filename=None)
    assert factors.parse_dataset("township") is None and factors.parse_dataset(str(ds)) == ds
    for bad in ("x1", "-3", "9" * 12, "1; drop table"):
        with pytest.raises(stats.StatsInputError, match="Not a dataset"):
            factors.parse_dataset(bad)
    info = factors.dataset_info(dataset_id=ds, scope=CITY_SCOPE)
    assert info.key == str(ds) and info.name == "west"
    assert info.variables == ["broadband", "index", "rnd"] and info.years == [2021, 2020]
    town = factors.dataset_info(dataset_id=None, scope=CITY_SCOPE)
    assert town.key == "township" and town.variables == list(factors.VARIABLES) and town.years == [2026]
    with pytest.raises(stats.StatsInputError, match="No dataset 999"):
        factors.dataset_info(dataset_id=999, scope=CITY_SCOPE)

    one = factors.dataset_analysis(dataset_id=ds, year=2021, y="index", xs=["broadband", "rnd"])
    rows = PROVINCES.filter(pl.col("year") == 2021)
    ref = stats.ols(rows["index"].to_numpy(), {c: rows[c].to_numpy() for c in ("broadband", "rnd")})
    assert one.n_units == 6 and one.labels == rows["province"].to_list()
    assert np.allclose(one.models[0].coef, ref.coef, rtol=1e-10)
    pooled = factors.dataset_analysis(dataset_id=ds, year=None, y="index", xs=["broadband"])
    assert pooled.n_units == 12 and pooled.labels[0] == "Sichuan 2020"
    with pytest.raises(stats.StatsInputError, match="no such variables: gov_index, year"):
        factors.dataset_analysis(dataset_id=ds, year=None, y="gov_index", xs=["year"])


def test_the_likely_dependent_variable_of_an_imported_table() -> None:
    assert factors.likely_dependent(["broadband", "gov_index", "x"]) == "gov_index"
    assert factors.likely_dependent(["bigdata", "fiscal", "gov", "rnd"]) == "gov"
    assert factors.likely_dependent(["a", "治理指数"]) == "治理指数"
    assert factors.likely_dependent(["a", "b"]) == "a" and factors.likely_dependent([]) == ""


def test_models_are_read_as_people_type_them() -> None:
    text = (
        "M1: tertiary_share, platform_per_1k\n\n m2：broadband，fiscal_ratio rnd_ratio\nbroadband, broadband"
    )
    got = factors.parse_models(text)
    assert got == [
        ["tertiary_share", "platform_per_1k"],
        ["broadband", "fiscal_ratio", "rnd_ratio"],
        ["broadband"],
    ]
    assert factors.parse_models(factors.models_text(got)) == got
    assert factors.parse_models("") == [] and factors.parse_models(None) == []
    with pytest.raises(stats.StatsInputError, match="At most 8 models"):
        factors.parse_models("\n".join(["a"] * 9))
    with pytest.raises(stats.StatsInputError, match="longer than 64"):
        factors.parse_models("x" * 65)


def test_a_model_set_is_saved_through_the_door_listed_and_reloaded(writable_pool: str) -> None:
    from queries import audit

    before = audit.verify().entries
    models = [["tertiary_share"], ["broadband", "rnd_ratio"]]
    sid = factors.save_model_set(
        audit.Actor.cli(),
        scope=CITY_SCOPE,
        name=" 基建 vs 研发 ",
        dataset="township",
        y="gov_index",
        models=models,
    )
    got = factors.model_set(set_id=sid)
    assert (got.name, got.dataset, got.y, got.models) == ("基建 vs 研发", "township", "gov_index", models)
    listed = factors.model_sets()
    assert listed.row(0, named=True)["name"] == "基建 vs 研发" and listed.schema["id"] == pl.Int64
    v = audit.verify()
    assert v.ok and v.entries == before + 1
    assert audit.show(limit=1).row(0, named=True)["action"] == "factors.modelset.save"
    refused = [
        (dict(name="基建 vs 研发"), "exists"),
        (dict(name=" "), "1-96 characters"),
        (dict(models=[]), "Give 1-8 models"),
        (dict(models=[["nope"]]), "no such variables: nope"),
        (dict(models=[["gov_index"]]), "cannot be a regressor"),
        (dict(dataset="777"), "No dataset 777"),
    ]
    for change, expected in refused:
        kw: dict[str, object] = dict(name="other", dataset="township", y="gov_index", models=models) | change
        with pytest.raises(stats.StatsInputError, match=expected):
            factors.save_model_set(audit.Actor.cli(), scope=CITY_SCOPE, **kw)  # type: ignore[arg-type]
    assert factors.model_sets().height == 1 and audit.verify().entries == before + 1
    with pytest.raises(stats.StatsInputError, match="No model set 999"):
        factors.model_set(set_id=999)


def test_paper_tables_print_stars_and_bracketed_errors(pool: str) -> None:
    a = factors.township_analysis(
        scope=CITY_SCOPE,
        year=2026,
        y="gov_index",
        xs=["broadband", "fiscal_ratio"],
        models=[["broadband"], ["broadband", "fiscal_ratio"]],
    )
    t = factors.paper_tables(a)
    assert set(t) == {"table2", "table3", "vif", "table4"}
    t4 = t["table4"]
    assert t4.columns == ["变量 Variable", "M1", "M2"]
    m2 = a.models[1]
    i = m2.names.index("broadband")
    label = factors.var_name("broadband")
    row = t4["变量 Variable"].to_list().index(label)
    assert t4["M2"][row] == f"{factors.fmt(m2.coef[i])}{stats.stars(float(m2.p[i]))}"
    assert t4["M2"][row + 1] == f"({factors.fmt(m2.se[i])})"
    assert t4["M1"][t4["变量 Variable"].to_list().index(factors.var_name("fiscal_ratio"))] == ""
    t3 = t["table3"]
    r = float(a.corr.r[1, 0])
    assert t3["(1)"][1] == f"{r:.3f}{stats.stars(float(a.corr.p[1, 0]))}" and t3["(2)"][0] == ""
    assert t["vif"]["变量 Variable"][-1] == "均值 Mean VIF" and t["table2"]["N"][0] == "13"
    assert factors.fmt(0.00001234) == "1.23e-05" and factors.fmt(float("nan")) == ""


def test_model_sets_and_imported_tables_survive_a_rebuild(tmp_path: Path) -> None:
    from queries import audit, engine
    from queries.generate.build import build_pool
    from tests.conftest import END, SEED

    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    sqlite_pool_at(tmp_path / "pool.sqlite")  # a copy of the run's one build
    engine.configure(url)
    ds = factors.import_dataset(audit.Actor.cli(), PROVINCES, name="west", label="province", filename=None)
    sid = factors.save_model_set(
        audit.Actor.cli(), scope=CITY_SCOPE, name="kept", dataset=str(ds), y="index", models=[["rnd"]]
    )
    build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=True)
    engine.configure(url)
    assert factors.model_set(set_id=sid).models == [["rnd"]]
    assert factors.dataset_frame(dataset_id=ds).height == 12
    assert audit.verify().ok


def test_an_upload_is_read_and_checked_without_writing() -> None:
    frame = factors.read_upload(PROVINCES.write_csv().encode(), "west.CSV")
    assert factors.guess_label(frame) == "province"
    chk = factors.check_import(frame, label="province")
    assert (chk.rows, chk.numeric, chk.missing) == (12, ["year", "index", "broadband", "rnd"], 0)
    gaps = factors.read_upload(b"u,y,x\na,1,\nb,2,3\nc,,4\n", "g.csv")
    assert factors.check_import(gaps, label="u").missing == 2
    with pytest.raises(stats.StatsInputError, match="No label column nope"):
        factors.check_import(frame, label="nope")
    with pytest.raises(stats.StatsInputError, match=r"Cannot read the table w\.xlsx"):
        factors.read_upload(b"PK\x03\x04 broken", "w.xlsx")

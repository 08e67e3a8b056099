"""Reads of the factor analysis (issue 12): township figures per year, their variables' definitions, and
the whole analysis (Tables 2-4 of the second source paper plus the checks it lacks) in one cached call."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import insert, select

from queries import audit, meta, stats
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope
from queries.tables import factor_dataset, factor_township_year, factor_value


@dataclass(frozen=True)
class Variable:
    """One column of the township dataset: names, unit, how it is computed and where it comes from."""

    label: tuple[str, str]
    unit: tuple[str, str]
    formula: tuple[str, str]
    source: tuple[str, str]
    role: str  # dependent | part | regressor | control
    paper: str = ""  # the paper's Table 1 variable it stands for


_SYNTH = ("合成数据, 待闭环工单数据接入", "synthetic until the closed-loop case data lands")
_YEARBOOK = ("合成数据, 待乡镇统计年鉴接入", "synthetic until the township yearbook is imported")
VARIABLES: dict[str, Variable] = {
    "gov_index": Variable(
        ("乡镇治理指数", "Township governance index"),
        ("分 (0-100)", "points, 0-100"),
        (
            "(按时办结率% + 满意率% + 数据治理指数) / 3",
            "(on-time closure % + satisfaction % + data index) / 3",
        ),
        ("本表三项", "the three parts below"),
        "dependent",
        "Var1",
    ),
    "on_time_closure": Variable(
        ("按时办结率", "On-time closure"),
        ("比例", "share"),
        ("时限内办结工单 / 办结工单", "cases closed within their time limit / cases closed"),
        _SYNTH,
        "part",
    ),
    "satisfaction": Variable(
        ("群众满意率", "Satisfaction"),
        ("比例", "share"),
        ("回访满意 / 回访总数", "satisfied follow-up answers / follow-up answers"),
        _SYNTH,
        "part",
    ),
    "data_index": Variable(
        ("数据治理指数", "Data-governance index"),
        ("分 (0-100)", "points, 0-100"),
        (
            "(及时率 + 完整率 + 编码规范率 + 不重复率) / 4 × 100",
            "(on-time + complete + code-conforming + unique rates) / 4 × 100",
        ),
        ("数据池记录 (同总览)", "the pool's records (as on the overview)"),
        "part",
    ),
    "tertiary_share": Variable(
        ("第三产业占比", "Tertiary share of GDP"),
        ("比例", "share"),
        ("第三产业增加值 / GDP", "tertiary value added / GDP"),
        _YEARBOOK,
        "regressor",
        "Var2",
    ),
    "platform_per_1k": Variable(
        ("平台使用强度 (大数据发展)", "Platform use (big-data development)"),
        ("条/千人/日", "records per 1,000 residents per day"),
        ("数据池记录数 / 常住人口 × 1000 / 天数", "pool records / residents × 1000 / days"),
        ("数据池记录", "the pool's records"),
        "regressor",
        "Var3",
    ),
    "broadband": Variable(
        ("宽带/5G覆盖率 (信息基础设施)", "Broadband/5G coverage (infrastructure)"),
        ("%", "% of households"),
        ("覆盖户数 / 总户数 × 100", "households covered / households × 100"),
        _YEARBOOK,
        "regressor",
        "Var4",
    ),
    "fiscal_ratio": Variable(
        ("财政支出/GDP (财力供给)", "Budget expenditure / GDP (fiscal supply)"),
        ("比例", "ratio"),
        ("一般公共预算支出 / GDP", "general budget expenditure / GDP"),
        _YEARBOOK,
        "regressor",
        "Var5",
    ),
    "rnd_ratio": Variable(
        ("研发支出/GDP", "R&D expenditure / GDP"),
        ("比例", "ratio"),
        ("R&D 经费 / GDP", "R&D expenditure / GDP"),
        _YEARBOOK,
        "regressor",
        "Var6",
    ),
    "population": Variable(
        ("常住人口", "Population"),
        ("人", "residents"),
        ("年末常住人口", "residents at year end"),
        _YEARBOOK,
        "control",
        "Var7",
    ),
    "gdp_pc": Variable(
        ("人均GDP", "GDP per capita"),
        ("元", "yuan"),
        ("GDP / 常住人口", "GDP / residents"),
        _YEARBOOK,
        "control",
        "Var8",
    ),
}
DEPENDENT = "gov_index"
REGRESSORS = [k for k, v in VARIABLES.items() if v.role in ("regressor", "control")]
# The paper's nested models, on our variables: M1 transformation + big data; M2 infrastructure, fiscal,
# R&D; M3 all five; M4 all five plus the two controls.
DEFAULT_MODELS: list[list[str]] = [
    ["tertiary_share", "platform_per_1k"],
    ["broadband", "fiscal_ratio", "rnd_ratio"],
    ["tertiary_share", "platform_per_1k", "broadband", "fiscal_ratio", "rnd_ratio"],
    REGRESSORS,
]

SCHEMA = {
    "township_code": pl.Int64,
    "year": pl.Int64,
    **{k: pl.Float64 for k in VARIABLES},
    "population": pl.Int64,
    "records": pl.Int64,
    "days": pl.Int64,
}


@cached
def years(*, scope: Scope) -> list[int]:
    """Years with township figures in the viewer's scope, newest first."""
    t = factor_township_year
    q = select(t.c.year).distinct().order_by(t.c.year.desc())
    if scope.township_code is not None:
        q = q.where(t.c.township_code == scope.township_code)
    return [int(y) for y in eng.read_frame(q)["year"].to_list()]


@cached
def township_figures(*, scope: Scope, year: int | None) -> pl.DataFrame:
    """One row per township (and year; `year` None pools every year): codes, names, `unit` (the label
    the tables name an observation by) and every variable of VARIABLES. A township-scoped viewer gets
    only their township's rows."""
    t = factor_township_year
    q = select(t).order_by(t.c.year, t.c.township_code)
    if year is not None:
        q = q.where(t.c.year == year)
    if scope.township_code is not None:
        q = q.where(t.c.township_code == scope.township_code)
    frame = eng.read_frame(q, schema=SCHEMA)
    towns = meta.townships().select(pl.col("code").alias("township_code"), "name_zh", "name_en")
    frame = frame.join(towns, on="township_code", how="left")
    unit = (
        pl.col("name_zh")
        if year is not None
        else pl.concat_str([pl.col("name_zh"), pl.col("year").cast(pl.String)], separator=" ")
    )
    return frame.with_columns(unit.alias("unit")).sort("year", "township_code")


@dataclass(frozen=True)
class Analysis:
    """Everything the page and the CLI show for one choice of data, y, regressors and models."""

    y: str
    xs: list[str]
    n_units: int
    dropped: list[str]
    describe: pl.DataFrame
    corr: stats.Correlations
    vif: pl.DataFrame
    models: list[stats.Ols]
    model_xs: list[list[str]]
    loo: pl.DataFrame
    labels: list[str]
    partial: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)


def analyse(
    frame: pl.DataFrame,
    *,
    y: str,
    xs: Sequence[str],
    models: Sequence[Sequence[str]] | None = None,
    robust: bool = False,
    label: str | None = None,
) -> Analysis:
    """The analysis of any frame (the pool's figures or an imported table): raises StatsInputError
    with a message in both languages for input it cannot take. Models default to one with all `xs`;
    every model's regressors must be among `xs`, and all models use the same complete cases."""
    xs = list(xs)
    wanted = [list(m) for m in models] if models else [xs]
    outside = sorted({v for m in wanted for v in m} - set(xs))
    if outside:
        raise stats.StatsInputError(
            f"模型中的变量未被选为自变量: {', '.join(outside)}",
            f"Models use variables that are not chosen regressors: {', '.join(outside)}",
        )
    p = stats.prepare(frame, y=y, xs=xs, label=label)
    fits = stats.nested(p.y, p.x, wanted, robust=robust)
    full = {y: p.y, **p.x}
    return Analysis(
        y=y,
        xs=xs,
        n_units=len(p.labels),
        dropped=p.dropped,
        describe=stats.describe(full),
        corr=stats.correlations(full),
        vif=stats.vif(p.x),
        models=fits,
        model_xs=wanted,
        loo=stats.leave_one_out(p.y, p.x, p.labels, robust=robust),
        labels=p.labels,
        partial={n: tuple(a.tolist() for a in stats.partial_regression(p.y, p.x, n)) for n in xs},
    )


@cached
def township_analysis(
    *,
    scope: Scope,
    year: int | None,
    y: str,
    xs: list[str],
    models: list[list[str]] | None = None,
    robust: bool = False,
) -> Analysis:
    """analyse() on the pool's township figures within the viewer's scope."""
    unknown = sorted(set([y, *xs]) - set(VARIABLES))
    if unknown:
        raise stats.StatsInputError(
            f"没有这些变量: {', '.join(unknown)}", f"No such variables: {', '.join(unknown)}"
        )
    frame = township_figures(scope=scope, year=year)
    return analyse(frame, y=y, xs=xs, models=models, robust=robust, label="unit")


def read_table(path: str) -> pl.DataFrame:
    """A CSV or Excel (.xlsx) table as sent, one row per observation (the paper's provincial table, or
    any other of the same shape). An unreadable file raises StatsInputError naming the file."""
    try:
        if path.lower().endswith((".xlsx", ".xlsm")):
            return pl.read_excel(path, engine="openpyxl")
        return pl.read_csv(path, infer_schema_length=None)
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise stats.StatsInputError(
            f"无法读取表格 {path}: {exc}".splitlines()[0],
            f"Cannot read the table {path}: {exc}".splitlines()[0],
        ) from None


def report_frames(a: Analysis) -> dict[str, pl.DataFrame]:
    """The page's tables as frames, for `command-center factors report` and exports."""
    coefs = pl.concat(
        [m.table().with_columns(pl.lit(f"M{i + 1}").alias("model")) for i, m in enumerate(a.models)]
    ).select("model", pl.exclude("model"))
    fits = pl.DataFrame(
        {
            "model": [f"M{i + 1}" for i in range(len(a.models))],
            "n": [m.n for m in a.models],
            "df_model": [m.df_model for m in a.models],
            "df_resid": [m.df_resid for m in a.models],
            "r2": [m.r2 for m in a.models],
            "adj_r2": [m.adj_r2 for m in a.models],
            "f": [m.f for m in a.models],
            "f_p": [m.f_p for m in a.models],
            "cov_type": [m.cov_type for m in a.models],
            "few_df": [m.few_df for m in a.models],
        }
    )
    return {
        "describe": a.describe,
        "correlations": a.corr.long(),
        "vif": a.vif,
        "coefficients": coefs,
        "models": fits,
    }


# --- imported datasets (user data, through the write door) -------------------------------------


def import_dataset(
    actor: audit.Actor, frame: pl.DataFrame, *, name: str, label: str | None, filename: str | None
) -> int:
    """Store a table as a dataset: every column but the label must be numeric (a text column is refused
    by name, never dropped). One transaction with its responsibility-log entry; returns the dataset id."""
    name = name.strip()[:128]
    if not name:
        raise stats.StatsInputError("请给数据集命名", "Give the dataset a name")
    if label is not None and label not in frame.columns:
        raise stats.StatsInputError(f"没有标签列 {label}", f"No label column {label}")
    numeric = [c for c in frame.columns if c != label]
    text = [c for c in numeric if not frame.schema[c].is_numeric()]
    if text:
        raise stats.StatsInputError(
            f"这些列不是数值, 未导入任何内容: {', '.join(text)}",
            f"These columns are not numeric; nothing was imported: {', '.join(text)}",
        )
    too_long = [c for c in frame.columns if len(c) > 64]
    if not numeric or frame.height == 0 or too_long:
        raise stats.StatsInputError(
            "表格没有数值列或没有行, 或列名超过 64 个字符",
            "The table has no numeric column or no rows, or a column name is longer than 64 characters",
        )
    labels = frame[label].cast(pl.String).to_list() if label else [str(i + 1) for i in range(frame.height)]
    values = [
        {"row_no": i, "variable": c, "value": _finite(v), "label": (labels[i] or "")[:128]}
        for c in numeric
        for i, v in enumerate(frame[c].cast(pl.Float64).to_list())
    ]
    with audit.write(actor) as tx:
        made = tx.conn.execute(
            insert(factor_dataset).values(
                name=name,
                filename=(filename or "")[:255] or None,
                label_column=label,
                n_rows=frame.height,
                imported_at=int(time.time()),
                imported_by=actor.username[:96],
            )
        ).inserted_primary_key
        assert made is not None
        ds = int(made[0])
        tx.conn.execute(insert(factor_value), [{"dataset_id": ds, **v} for v in values])
        tx.log(
            "factors.import",
            "factor_dataset",
            ds,
            after={"name": name, "rows": frame.height, "columns": numeric},
            detail={"name": name, "rows": frame.height, "columns": len(numeric)},
        )
    return ds


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def datasets() -> pl.DataFrame:
    """Imported datasets, newest first. Not cached: user writes do not move the data version."""
    d = factor_dataset
    return eng.read_frame(select(d).order_by(d.c.id.desc()), schema={"id": pl.Int64, "n_rows": pl.Int64})


def dataset_frame(*, dataset_id: int) -> pl.DataFrame:
    """An imported dataset back as a wide table: `unit` (its labels) and one Float64 column per variable."""
    v = factor_value
    long = eng.read_frame(
        select(v.c.row_no, v.c.variable, v.c.value, v.c.label).where(v.c.dataset_id == dataset_id),
        schema={"row_no": pl.Int64, "variable": pl.String, "value": pl.Float64, "label": pl.String},
    )
    if long.height == 0:
        raise stats.StatsInputError(f"没有数据集 {dataset_id}", f"No dataset {dataset_id}")
    order = sorted(set(long["variable"].to_list()))
    wide = long.pivot(on="variable", index=["row_no", "label"], values="value").sort("row_no")
    return wide.select(pl.col("label").alias("unit"), *order)

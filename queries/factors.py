"""Reads of the factor analysis (issue 12): township figures per year, their variables' definitions, and
the whole analysis (Tables 2-4 of the second source paper plus the checks it lacks) in one cached call."""

from __future__ import annotations

import json
import math
import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import insert, select

from queries import audit, meta, stats
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope
from queries.tables import factor_dataset, factor_model_set, factor_township_year, factor_value


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


@cached(domains=())
def years(*, scope: Scope) -> list[int]:
    """Years with township figures in the viewer's scope, newest first."""
    t = factor_township_year
    q = select(t.c.year).distinct().order_by(t.c.year.desc())
    if scope.township_code is not None:
        q = q.where(t.c.township_code == scope.township_code)
    return [int(y) for y in eng.read_frame(q)["year"].to_list()]


@cached(domains=())
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
    # what the page reads off the tables, worked out once here (and cached with the rest)
    loo_hits: pl.DataFrame = field(default_factory=pl.DataFrame)  # rows of `loo` with a flip or a star change
    fragile: list[str] = field(default_factory=list)  # units whose removal flips a sign, sorted
    vif_serious: list[str] = field(default_factory=list)  # regressors with VIF above stats.VIF_SERIOUS


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
    loo = stats.leave_one_out(p.y, p.x, p.labels, robust=robust)
    vifs = stats.vif(p.x)
    return Analysis(
        y=y,
        xs=xs,
        n_units=len(p.labels),
        dropped=p.dropped,
        describe=stats.describe(full),
        corr=stats.correlations(full),
        vif=vifs,
        models=fits,
        model_xs=wanted,
        loo=loo,
        labels=p.labels,
        partial={n: tuple(a.tolist() for a in stats.partial_regression(p.y, p.x, n)) for n in xs},
        loo_hits=loo.filter(pl.col("sign_flip") | pl.col("star_change")),
        fragile=sorted(set(loo.filter(pl.col("sign_flip"))["unit"].to_list())),
        vif_serious=vifs.filter(pl.col("vif") > stats.VIF_SERIOUS)["variable"].to_list(),
    )


@cached(domains=())
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
    except (OSError, pl.exceptions.PolarsError, ValueError, KeyError, zipfile.BadZipFile) as exc:
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


MAX_UPLOAD_BYTES = 2_000_000  # a factor table is a few hundred rows; a larger upload is a mistake


@dataclass(frozen=True)
class ImportCheck:
    """What an import would store (the dry run): rows, the label column, the numeric columns and how many
    of their cells are missing (left out of an analysis, and named, when used)."""

    rows: int
    label: str | None
    numeric: list[str]
    missing: int


def check_import(frame: pl.DataFrame, *, label: str | None) -> ImportCheck:
    """The checks an import makes, without writing: every column but the label numeric (a text column is
    refused by name, never dropped), at least one numeric column and one row, names up to 64 characters."""
    if label is not None and label not in frame.columns:
        raise stats.StatsInputError(f"没有标签列 {label}", f"No label column {label}")
    if frame.height == 0:  # before the types: a header without rows reads as all text
        raise stats.StatsInputError("表格没有数据行", "The table has no rows")
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
    missing = sum(frame[c].null_count() + int(frame[c].cast(pl.Float64).is_nan().sum() or 0) for c in numeric)
    return ImportCheck(frame.height, label, numeric, int(missing))


def guess_label(frame: pl.DataFrame) -> str | None:
    """The column that names the observations: the first text column, if there is one."""
    return next((c for c in frame.columns if frame.schema[c] == pl.String), None)


def read_upload(data: bytes, filename: str) -> pl.DataFrame:
    """A table sent from the page (CSV or .xlsx bytes), as read_table reads a file; a file too large or
    unreadable raises StatsInputError."""
    import io

    if len(data) > MAX_UPLOAD_BYTES:
        raise stats.StatsInputError(
            f"文件超过 {MAX_UPLOAD_BYTES // 1_000_000} MB",
            f"The file is over {MAX_UPLOAD_BYTES // 1_000_000} MB",
        )
    try:
        if filename.lower().endswith((".xlsx", ".xlsm")):
            return pl.read_excel(io.BytesIO(data), engine="openpyxl")
        if not filename.lower().endswith((".csv", ".txt")):
            raise ValueError("only .csv and .xlsx files are read")
        return pl.read_csv(io.BytesIO(data), infer_schema_length=None)
    # a file from a browser can be anything; openpyxl alone raises a zoo of types (BadZipFile, KeyError,
    # InvalidFileException, ...) for a broken workbook, and every one of them means "cannot read it"
    except Exception as exc:
        raise stats.StatsInputError(
            f"无法读取表格 {filename[:80]}: {exc}".splitlines()[0][:300],
            f"Cannot read the table {filename[:80]}: {exc}".splitlines()[0][:300],
        ) from None


def import_dataset(
    actor: audit.Actor, frame: pl.DataFrame, *, name: str, label: str | None, filename: str | None
) -> int:
    """Store a table as a dataset: every column but the label must be numeric (a text column is refused
    by name, never dropped). One transaction with its responsibility-log entry; returns the dataset id."""
    name = name.strip()[:128]
    if not name:
        raise stats.StatsInputError("请给数据集命名", "Give the dataset a name")
    numeric = check_import(frame, label=label).numeric
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
        meta.move_now(tx.conn, domain="staff")  # the page's kept answers key on it
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
    """Imported datasets, newest first (staff data: an import moves the "staff" version)."""
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


# --- choosing a dataset: the township figures or an imported table ------------------------------

TOWNSHIP = "township"  # the dataset key of the pool's own township figures; imported ones are their id
YEAR_COLUMN = "year"  # an imported table with this column can be analysed one year at a time or pooled


def parse_dataset(value: object) -> int | None:
    """A dataset key as a page or URL sends it: None for the township figures, else an imported
    dataset's id. Anything else raises StatsInputError."""
    text = str(value if value is not None else TOWNSHIP).strip()
    if text == TOWNSHIP:
        return None
    if not text.isdigit() or len(text) > 9:
        raise stats.StatsInputError(f"数据集无效: {text[:40]}", f"Not a dataset: {text[:40]}")
    return int(text)


@dataclass(frozen=True)
class DatasetInfo:
    """What the page offers for one dataset: its variables (numeric columns) and years."""

    key: str
    name: str
    variables: list[str]
    years: list[int]  # empty: the dataset has no year column, every row is one observation


def dataset_info(*, dataset_id: int | None, scope: Scope) -> DatasetInfo:
    """The township figures' variables and years, or an imported dataset's (StatsInputError if unknown)."""
    if dataset_id is None:
        return DatasetInfo(TOWNSHIP, "乡镇指标 / Township figures", list(VARIABLES), years(scope=scope))
    d, v = factor_dataset, factor_value
    head = eng.read_frame(select(d.c.name).where(d.c.id == dataset_id))
    if head.height == 0:
        raise stats.StatsInputError(f"没有数据集 {dataset_id}", f"No dataset {dataset_id}")
    names = eng.read_frame(
        select(v.c.variable).distinct().where(v.c.dataset_id == dataset_id), schema={"variable": pl.String}
    )["variable"].to_list()
    yrs: list[int] = []
    if YEAR_COLUMN in names:
        got = eng.read_frame(
            select(v.c.value)
            .distinct()
            .where(v.c.dataset_id == dataset_id, v.c.variable == YEAR_COLUMN, v.c.value.is_not(None)),
            schema={"value": pl.Float64},
        )["value"].to_list()
        yrs = sorted({int(y) for y in got if float(y).is_integer()}, reverse=True)
    return DatasetInfo(
        str(dataset_id), str(head["name"][0]), sorted(n for n in names if n != YEAR_COLUMN), yrs
    )


_INDEX_NAME = re.compile(r"gov|index|指数|治理|^y$", re.IGNORECASE)


def likely_dependent(variables: Sequence[str]) -> str:
    """The column an imported table most likely explains: the township index's name, else the first
    whose name says index or governance, else the first."""
    if DEPENDENT in variables:
        return DEPENDENT
    return next((n for n in variables if _INDEX_NAME.search(n)), variables[0] if variables else "")


def dataset_analysis(
    *,
    dataset_id: int,
    year: int | None,
    y: str,
    xs: list[str],
    models: list[list[str]] | None = None,
    robust: bool = False,
) -> Analysis:
    """analyse() on an imported dataset, one year of it (when it has a year column) or all its rows.
    Not cached: imports do not move the pool's data version, and the tables are small."""
    frame = dataset_frame(dataset_id=dataset_id)
    unknown = sorted(set([y, *xs]) - (set(frame.columns) - {"unit", YEAR_COLUMN}))
    if unknown:
        raise stats.StatsInputError(
            f"数据集中没有这些变量: {', '.join(unknown)}",
            f"The dataset has no such variables: {', '.join(unknown)}",
        )
    if YEAR_COLUMN in frame.columns:
        if year is not None:
            frame = frame.filter(pl.col(YEAR_COLUMN) == year)
        else:
            yr = pl.col(YEAR_COLUMN).cast(pl.Int64, strict=False).cast(pl.String).fill_null("?")
            frame = frame.with_columns(pl.concat_str([pl.col("unit"), yr], separator=" ").alias("unit"))
    return analyse(frame, y=y, xs=xs, models=models, robust=robust, label="unit")


# --- user-defined nested-model sets (user data, through the write door) -------------------------

MAX_MODELS = 8
_MODEL_PREFIX = re.compile(r"^\s*M\d+\s*[:：]\s*", re.IGNORECASE)
_SPLIT = re.compile(r"[,，;；\s]+")


def parse_models(text: object) -> list[list[str]]:
    """Models as people type them, one a line, regressors comma-separated, an optional "M1:" prefix.
    Blank lines are skipped; an empty text is no models (the defaults)."""
    if not isinstance(text, str):
        return []
    if len(text) > 4000:
        raise stats.StatsInputError("模型设定过长", "The model set is too long")
    out: list[list[str]] = []
    for line in text.splitlines():
        names = [n for n in _SPLIT.split(_MODEL_PREFIX.sub("", line)) if n]
        if not names:
            continue
        if any(len(n) > 64 for n in names):
            raise stats.StatsInputError(
                "变量名超过 64 个字符", "A variable name is longer than 64 characters"
            )
        out.append(list(dict.fromkeys(names)))
    if len(out) > MAX_MODELS:
        raise stats.StatsInputError(f"最多 {MAX_MODELS} 个模型", f"At most {MAX_MODELS} models")
    return out


def models_text(models: Sequence[Sequence[str]]) -> str:
    """The text parse_models reads back."""
    return "\n".join(f"M{i + 1}: {', '.join(m)}" for i, m in enumerate(models))


@dataclass(frozen=True)
class ModelSet:
    id: int
    name: str
    dataset: str
    y: str
    models: list[list[str]]


def save_model_set(
    actor: audit.Actor, *, scope: Scope, name: str, dataset: str, y: str, models: list[list[str]]
) -> int:
    """Save a named model set through the write door, its log entry in the same transaction. Refused,
    with nothing written, for a blank or taken name, an unknown dataset, or variables it does not have."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 96:
        raise stats.StatsInputError(
            "模型组名称须为 1-96 个字符", "A model set needs a name of 1-96 characters"
        )
    if not models or not all(models) or len(models) > MAX_MODELS:
        raise stats.StatsInputError(
            f"请给出 1-{MAX_MODELS} 个模型, 每个至少一个自变量",
            f"Give 1-{MAX_MODELS} models, each with at least one regressor",
        )
    info = dataset_info(dataset_id=parse_dataset(dataset), scope=scope)
    unknown = sorted({y, *(x for m in models for x in m)} - set(info.variables))
    if unknown:
        raise stats.StatsInputError(
            f"数据集中没有这些变量: {', '.join(unknown)}",
            f"The dataset has no such variables: {', '.join(unknown)}",
        )
    if y in {x for m in models for x in m}:
        raise stats.StatsInputError("因变量不能作为自变量", "The dependent variable cannot be a regressor")
    spec = json.dumps(models, ensure_ascii=False)
    t = factor_model_set
    with audit.write(actor) as tx:
        if tx.conn.execute(select(t.c.id).where(t.c.name == name)).first() is not None:
            raise stats.StatsInputError(f"已有名为 {name!r} 的模型组", f"A model set named {name!r} exists")
        new_id = tx.conn.execute(
            insert(t)
            .values(
                name=name,
                dataset=info.key,
                y=y,
                models=spec,
                created_by=actor.username[:96],
                created_at=int(time.time()),
            )
            .returning(t.c.id)
        ).scalar_one()
        meta.move_now(tx.conn, domain="staff")
        tx.log(
            "factors.modelset.save",
            "factor_model_set",
            new_id,
            after={"name": name, "dataset": info.key, "y": y, "models": models},
            detail={"name": name, "models": len(models)},
        )
    return int(new_id)


def model_sets() -> pl.DataFrame:
    """Saved model sets, newest first (staff data: a save moves the "staff" version)."""
    t = factor_model_set
    return eng.read_frame(
        select(t.c.id, t.c.name, t.c.dataset, t.c.y, t.c.created_by, t.c.created_at).order_by(t.c.id.desc()),
        schema={"id": pl.Int64, "created_at": pl.Int64},
    )


def model_set(*, set_id: int) -> ModelSet:
    """One saved model set (StatsInputError when there is none)."""
    t = factor_model_set
    got = eng.read_frame(select(t).where(t.c.id == set_id), schema={"id": pl.Int64})
    if got.height == 0:
        raise stats.StatsInputError(f"没有模型组 {set_id}", f"No model set {set_id}")
    r = got.row(0, named=True)
    models = [[str(x) for x in m] for m in json.loads(r["models"])]
    return ModelSet(int(r["id"]), str(r["name"]), str(r["dataset"]), str(r["y"]), models)


# --- the tables as the paper prints them (exports) ----------------------------------------------


def fmt(v: float | None, digits: int = 3) -> str:
    """A figure as the paper prints it: fixed decimals, scientific for tiny per-unit coefficients."""
    if v is None or not math.isfinite(v):
        return ""
    if 0 < abs(v) < 10**-digits:
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


def var_name(name: str) -> str:
    """A variable's label in both languages for tables people read; an imported column keeps its name."""
    v = VARIABLES.get(name)
    if name == stats.CONST:
        return "常数项 Constant"
    return f"{v.label[0]} {v.label[1]}" if v else name


def paper_tables(a: Analysis) -> dict[str, pl.DataFrame]:
    """Tables 2-4 and the VIF as text cells laid out like the paper: coefficients with stars, standard
    errors in brackets on the row below, correlations with stars in the lower triangle."""
    d = a.describe
    t2 = pl.DataFrame(
        {
            "变量 Variable": [var_name(n) for n in d["variable"].to_list()],
            "均值 Mean": [fmt(v) for v in d["mean"].to_list()],
            "标准差 SD": [fmt(v) for v in d["sd"].to_list()],
            "最小值 Min": [fmt(v) for v in d["min"].to_list()],
            "最大值 Max": [fmt(v) for v in d["max"].to_list()],
            "N": [str(v) for v in d["n"].to_list()],
        }
    )
    names = a.corr.names
    k = len(names)
    cols: dict[str, list[str]] = {"变量 Variable": [f"({i + 1}) {var_name(n)}" for i, n in enumerate(names)]}
    for j in range(k):
        cols[f"({j + 1})"] = [
            "1"
            if i == j
            else f"{fmt(float(a.corr.r[i, j]))}{stats.stars(float(a.corr.p[i, j]))}"
            if j < i
            else ""
            for i in range(k)
        ]
    t3 = pl.DataFrame(cols)
    vifs = a.vif["vif"].to_list()
    vif = pl.DataFrame(
        {
            "变量 Variable": [*(var_name(n) for n in a.vif["variable"].to_list()), "均值 Mean VIF"],
            "VIF": [*(fmt(v, 2) for v in vifs), fmt(sum(vifs) / len(vifs), 2)],
            "1/VIF": [*(fmt(1 / v) for v in vifs), ""],
        }
    )
    order = [*dict.fromkeys(v for m in a.model_xs for v in m), stats.CONST]
    heads = [f"M{i + 1}" for i in range(len(a.models))]
    rows: list[list[str]] = []
    for name in order:
        coef, se = [var_name(name)], [""]
        for m in a.models:
            if name in m.names:
                i = m.names.index(name)
                coef.append(f"{fmt(m.coef[i])}{stats.stars(float(m.p[i]))}")
                se.append(f"({fmt(m.se[i])})")
            else:
                coef.append("")
                se.append("")
        rows += [coef, se]
    rows.append(["N", *(str(m.n) for m in a.models)])
    rows.append(["F", *(f"{fmt(m.f)}{stats.stars(m.f_p)}" for m in a.models)])
    rows.append(["F p", *(fmt(m.f_p, 4) for m in a.models)])
    rows.append(["R²", *(fmt(m.r2) for m in a.models)])
    rows.append(["调整后 Adjusted R²", *(fmt(m.adj_r2) for m in a.models)])
    t4 = pl.DataFrame(rows, schema=["变量 Variable", *heads], orient="row")
    return {"table2": t2, "table3": t3, "vif": vif, "table4": t4}

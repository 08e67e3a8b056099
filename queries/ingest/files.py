"""Files a sub-platform hands over (CSV, Excel .xlsx, Parquet) read as chunks of rows for land().

Each reader yields polars frames of at most `chunk_rows` rows, in file order, so a million-row file is
never a million Python objects; a file that cannot be read at all raises FileRefused with a zh and an
en message naming what is wrong (the column, the cell range, the type), before any chunk is yielded.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from queries.ingest.validate import REQUIRED

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


class FileRefused(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh}\n{en}")
        self.zh = zh
        self.en = en


@dataclass
class Opened:
    """A readable file: its format, the encoding it was read in, and its chunks."""

    format: str
    encoding: str
    chunks: Iterator[pl.DataFrame]


def open_file(path: Path, *, chunk_rows: int = 50_000) -> Opened:
    if not path.is_file():
        raise FileRefused(f"文件不存在: {path}", f"No such file: {path}")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise FileRefused(
            f"不支持的文件类型 {path.suffix!r}: 请用 .csv, .xlsx 或 .parquet",
            f"Unsupported file type {path.suffix!r}: use .csv, .xlsx or .parquet",
        )
    if kind == "csv":
        return _csv(path, chunk_rows)
    if kind == "xlsx":
        return Opened("xlsx", "-", _xlsx(path, chunk_rows))
    return Opened("parquet", "-", _parquet(path, chunk_rows))


def _require(columns: list[str], where: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FileRefused(
            f"{where}缺少必需的列: {', '.join(missing)}; 表头为: {', '.join(columns) or '(空)'}",
            f"{where} lacks required columns: {', '.join(missing)}; its header: {', '.join(columns) or '(empty)'}",
        )


# --- CSV: UTF-8 (with or without BOM), else GB18030 ---------------------------------------------------


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        try:
            while block := f.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _csv(path: Path, chunk_rows: int) -> Opened:
    encoding = "utf-8"
    source = path
    if not _is_utf8(path):
        # GB18030 (a superset of GBK and GB2312, what Excel in a Chinese locale writes): transcoded
        # once into a temporary UTF-8 copy, block by block, which polars then reads as any other
        encoding = "gb18030"
        tmp = tempfile.NamedTemporaryFile(prefix="cc-import-", suffix=".csv", delete=False)  # noqa: SIM115
        try:
            with path.open("rb") as src, tmp:
                decoder = codecs.getincrementaldecoder("gb18030")()
                while block := src.read(1 << 20):
                    tmp.write(decoder.decode(block).encode("utf-8"))
                tmp.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            Path(tmp.name).unlink(missing_ok=True)
            raise FileRefused(
                f"无法识别文件编码 (既不是 UTF-8 也不是 GB18030): {exc.reason}",
                f"Cannot tell the file's encoding (neither UTF-8 nor GB18030): {exc.reason}",
            ) from None
        source = Path(tmp.name)
    try:
        header = pl.read_csv(source, infer_schema=False, n_rows=0).columns
    except pl.exceptions.NoDataError:
        header = []
    except pl.exceptions.PolarsError as exc:
        raise FileRefused(
            f"CSV 无法读取: {str(exc).splitlines()[0]}", f"The CSV cannot be read: {str(exc).splitlines()[0]}"
        ) from None
    header = [h.strip() for h in header]
    _require(header, "CSV ")

    def chunks() -> Iterator[pl.DataFrame]:
        try:
            lazy = pl.scan_csv(source, infer_schema=False, new_columns=header)
            yield from lazy.collect_batches(chunk_size=chunk_rows)
        except pl.exceptions.PolarsError as exc:
            line = str(exc).splitlines()[0]
            raise FileRefused(f"CSV 读取中断: {line}", f"Reading the CSV failed: {line}") from None
        finally:
            if source != path:
                source.unlink(missing_ok=True)

    return Opened("csv", encoding, chunks())


# --- Excel -------------------------------------------------------------------------------------------


def _merged_header(path: Path, sheet_path: str) -> list[str]:
    """Merged ranges that touch the header row (read from the sheet's XML: a read-only workbook does
    not expose them, and a merged header shifts every column name)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as z, z.open(sheet_path.lstrip("/")) as f:
        tail = b""
        while block := f.read(1 << 20):
            data = tail + block
            for m in _MERGE.finditer(data):
                if int(m.group(2)) == 1:
                    found.append(f"{m.group(1).decode()}1:{m.group(3).decode()}{m.group(4).decode()}")
            tail = data[-200:]
    return sorted(set(found))


def _text(v: Any) -> str | None:
    """A cell as text: dates as local ISO times (validation reads a time without offset as Mengzi time),
    whole floats without ".0" stay as Excel shows them (validation accepts both)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v)


def _xlsx(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileRefused(
            f"不是有效的 Excel (.xlsx) 文件: {exc}", f"Not a valid Excel (.xlsx) file: {exc}"
        ) from None
    ws = wb.worksheets[0]
    merged = _merged_header(path, getattr(ws, "_worksheet_path", "xl/worksheets/sheet1.xml"))
    if merged:
        wb.close()
        raise FileRefused(
            f"工作表 {ws.title!r} 的表头含合并单元格 {', '.join(merged)}: 请取消合并, 第一行每列写一个列名",
            f"Sheet {ws.title!r} has a merged-cell header ({', '.join(merged)}): unmerge it, one column name "
            "per cell in the first row",
        )
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    header = [str(h).strip() if h is not None else "" for h in (first or ())]
    while header and header[-1] == "":
        header.pop()
    blank = [get_column_letter(i + 1) for i, h in enumerate(header) if h == ""]
    if blank:
        wb.close()
        raise FileRefused(
            f"工作表 {ws.title!r} 第一行的列 {', '.join(blank)} 没有列名",
            f"Sheet {ws.title!r}: header cells {', '.join(blank)} of the first row are empty",
        )
    try:
        _require(header, f"工作表 {ws.title!r} / sheet {ws.title!r} ")
    except FileRefused:
        wb.close()
        raise
    width = len(header)

    def frame(buf: list[list[str | None]]) -> pl.DataFrame:
        return pl.DataFrame(buf, schema={h: pl.String for h in header}, orient="row")

    def chunks() -> Iterator[pl.DataFrame]:
        try:
            buf: list[list[str | None]] = []
            for row in rows:
                cells = [_text(v) for v in row[:width]]
                if all(c is None for c in cells):
                    continue  # Excel's trailing formatted-but-empty rows
                buf.append(cells + [None] * (width - len(cells)))
                if len(buf) >= chunk_rows:
                    yield frame(buf)
                    buf = []
            if buf:
                yield frame(buf)
        finally:
            wb.close()

    return chunks()


# --- Parquet -----------------------------------------------------------------------------------------


def _parquet_type_ok(name: str, dtype: pl.DataType) -> bool:
    """Types a column may have; anything else (a list, a struct, a boolean quantity ...) is refused."""
    if dtype == pl.String or dtype == pl.Null:
        return True
    if name in ("occurred_at", "received_at"):
        return dtype.is_integer() or isinstance(dtype, pl.Datetime)
    if name in ("qty", "amount"):
        return dtype.is_numeric()
    if name in ("record_key", "community_code", "grid_id", "classification", "module", "record_type"):
        return dtype.is_integer()
    if name == "area_code":
        return dtype.is_integer()
    return name not in (*REQUIRED, "source")  # other columns are ignored by validation


def _parquet(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as exc:
        raise FileRefused(f"不是有效的 Parquet 文件: {exc}", f"Not a valid Parquet file: {exc}") from None
    _require(list(schema), "Parquet ")
    wrong = [f"{n} ({t})" for n, t in schema.items() if not _parquet_type_ok(n, t)]
    if wrong:
        raise FileRefused(
            f"Parquet 列类型不对: {', '.join(wrong)}; 时间应为整数秒或日期时间, 数量/金额为数值, 代码为整数或文本",
            f"Parquet columns of the wrong type: {', '.join(wrong)}; times must be epoch seconds or datetimes, "
            "qty/amount numbers, codes integers or text",
        )
    return pl.scan_parquet(path).collect_batches(chunk_size=chunk_rows)


# --- a whole file through the writer -----------------------------------------------------------------


@dataclass
class ImportSummary:
    """What an import did: counts over every chunk, and the reasons rows were not accepted."""

    format: str = "-"
    encoding: str = "-"
    rows: int = 0
    accepted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    batches: int = 0
    reason_parts: list[pl.DataFrame] = field(default_factory=list)

    def reasons(self) -> pl.DataFrame:
        """reason, zh, en, n over the whole file, most frequent first."""
        if not self.reason_parts:
            return pl.DataFrame(
                schema={"reason": pl.String, "zh": pl.String, "en": pl.String, "n": pl.UInt32}
            )
        return (
            pl.concat(self.reason_parts)
            .group_by("reason", "zh", "en")
            .agg(pl.col("n").sum())
            .sort(["n", "reason"], descending=[True, False])
        )


def import_file(
    path: Path,
    *,
    source_code: str,
    actor: Any,
    chunk_rows: int = 50_000,
    dry_run: bool = False,
    on_chunk: Callable[[int, ImportSummary], None] = lambda n, s: None,
) -> ImportSummary:
    """Every chunk of `path` through land() (one transaction each: a crash loses at most the chunk in
    flight, and a rerun finds the landed ones as duplicates), or through dry_run(). Raises FileRefused
    or MalformedBatch; `summary` keeps what landed before such an error."""
    from queries import audit
    from queries.ingest import write

    opened = open_file(path, chunk_rows=chunk_rows)
    summary = ImportSummary(format=opened.format, encoding=opened.encoding)
    for chunk in opened.chunks:
        if chunk.height == 0:
            continue
        if dry_run:
            result = write.dry_run(source_code=source_code, rows=chunk)
        else:
            with audit.write(actor) as tx:
                result = write.land(
                    tx, source_code=source_code, rows=chunk, channel="file", filename=path.name
                )
            summary.batches += result.batch_id is not None
        summary.rows += result.n_rows
        summary.accepted += result.n_accepted
        summary.duplicate += result.n_duplicate
        summary.quarantined += result.n_quarantined
        summary.reason_parts.append(result.reason_counts())
        on_chunk(chunk.height, summary)
    return summary

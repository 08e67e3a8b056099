"""`command-center factors report`: the page's tables from a CSV or Excel file, from the same code, and
clear messages (exit 2, no traceback) for files it cannot take."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from dashboard.cli import main
from tests.queries.test_stats import LONGLEY, NIST, rel

XS = "GNPDEFL,GNP,UNEMP,ARMED,POP,YEAR"


def test_csv_report_prints_every_table_with_nist_longley_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "longley.csv"
    path.write_text(LONGLEY)
    assert main(["factors", "report", str(path), "--y", "TOTEMP", "--x", XS, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"describe", "correlations", "vif", "coefficients", "models"}
    coefs = [r["coef"] for r in out["coefficients"]]
    assert rel(coefs, [c for c, _ in NIST]) < 1e-8
    assert out["models"][0]["n"] == 16 and out["models"][0]["few_df"] is True
    assert len(out["correlations"]) == 28 and len(out["vif"]) == 6
    assert main(["factors", "report", str(path), "--y", "TOTEMP", "--x", "GNP,UNEMP"]) == 0
    text = capsys.readouterr().out
    assert "# describe" in text and "# models" in text and "M1,GNP," in text


def test_excel_report_and_a_non_numeric_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["province", "index", "broadband", "note"])
    for i, (a, b) in enumerate(
        [(40.1, 20.5), (45.3, 22.0), (51.0, 24.1), (55.2, 25.3), (60.7, 28.9), (68.6, 30.8)]
    ):
        ws.append([f"p{i}", a, b, "n/a" if i == 2 else str(i)])
    path = tmp_path / "provinces.xlsx"
    wb.save(path)
    assert (
        main(["factors", "report", str(path), "--y", "index", "--x", "broadband", "--label", "province"]) == 0
    )
    assert "M1,broadband," in capsys.readouterr().out
    assert main(["factors", "report", str(path), "--y", "index", "--x", "broadband,note"]) == 2
    assert "not numeric: note" in capsys.readouterr().err


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["factors", "report", str(tmp_path / "nope.csv"), "--y", "a", "--x", "b"]) == 2
    assert "Cannot read the table" in capsys.readouterr().err


def test_import_stores_the_table_through_the_door(
    writable_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from queries import audit, factors

    path = tmp_path / "longley.csv"
    path.write_text(LONGLEY)
    assert main(["--url", writable_pool, "factors", "import", str(path)]) == 0
    assert "16 rows imported" in capsys.readouterr().out
    row = factors.datasets().row(0, named=True)
    assert (row["name"], row["n_rows"], row["label_column"]) == ("longley", 16, None)
    back = factors.dataset_frame(dataset_id=row["id"])
    got = factors.analyse(back, y="TOTEMP", xs=XS.split(","), label="unit")
    assert rel(got.models[0].coef, [c for c, _ in NIST]) < 1e-8
    assert audit.show(limit=1).row(0, named=True)["action"] == "factors.import"


def test_import_from_the_command_line_stores_the_dataset_in_the_pool(
    writable_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from queries import factors

    path = tmp_path / "longley.csv"
    path.write_text(LONGLEY)
    assert main(["--url", writable_pool, "factors", "import", str(path), "--name", "Longley"]) == 0
    assert "16 rows imported" in capsys.readouterr().out
    got = factors.datasets().row(0, named=True)
    assert got["name"] == "Longley" and got["n_rows"] == 16

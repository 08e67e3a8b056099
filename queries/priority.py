"""The cases' priority model, disclosed in full (seed 5.2.2: notification - explanation - appeal -
correction): its features, weights, decision threshold, version and change log, and for any one case
the contribution of each feature to its score.

The score is a weighted sum of features that each lie in [0, 1], so the weights are points out of 100 and
a case's score reads as "points earned". A score at or above THRESHOLD is handled first (优先处置).
Every case stores the score and the version that made it (case_item.priority, priority_model), so a
later model change never silently rewrites what a resident was told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

# How urgent each case class is by itself (the class also sets the closing time limit).
CLASS_URGENCY = {"alarm": 1.0, "complaint": 0.7, "report": 0.6, "help": 0.5, "enquiry": 0.1}


@dataclass(frozen=True)
class Feature:
    key: str
    weight: float  # points out of 100
    zh: str
    en: str
    how_zh: str
    how_en: str


FEATURES: tuple[Feature, ...] = (
    Feature(
        "severity", 30, "问题严重程度", "Problem severity",
        "问题清单的严重等级: 低 0, 中 0.5, 高 1", "Severity of the problem type in the problem list: low 0, medium 0.5, high 1",
    ),
    Feature(
        "emergency", 25, "紧急事件", "Emergency",
        "标记为紧急 (可越级处置) 为 1, 否则 0", "1 when the case is flagged an emergency (may skip stages), else 0",
    ),
    Feature(
        "case_class", 20, "诉求类别", "Case class",
        "报警 1, 投诉 0.7, 举报 0.6, 求助 0.5, 咨询 0.1", "alarm 1, complaint 0.7, report 0.6, help 0.5, enquiry 0.1",
    ),
    Feature(
        "reopened", 15, "重办次数", "Reopenings",
        "重新办理次数 / 3, 最多 1", "times reopened / 3, at most 1",
    ),
    Feature(
        "transfers", 10, "转办次数", "Transfers",
        "部门间转办次数 / 3, 最多 1", "transfers between departments / 3, at most 1",
    ),
)  # fmt: skip

THRESHOLD = 60.0
MODEL_VERSION = "prio-2"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    date: str
    weights: Mapping[str, float]
    threshold: float
    change_zh: str
    change_en: str


# The change log, oldest first; the last entry is the model in use.
MODEL_LOG: tuple[ModelVersion, ...] = (
    ModelVersion(
        "prio-1",
        "2026-03-01",
        {"severity": 40, "emergency": 30, "case_class": 30, "reopened": 0, "transfers": 0},
        65.0,
        "首版: 严重程度, 紧急标记, 诉求类别",
        "First version: severity, emergency flag, case class",
    ),
    ModelVersion(
        "prio-2",
        "2026-09-15",
        {f.key: f.weight for f in FEATURES},
        THRESHOLD,
        "申诉复核发现反复重办和多次转办的案件得分偏低: 新增重办与转办两项, 阈值 65 降至 60",
        "Appeals showed reopened and bounced cases scored too low: added reopenings and transfers, "
        "threshold lowered from 65 to 60",
    ),
)


def features(case: Mapping[str, Any], *, severity: int) -> dict[str, float]:
    """Each feature's value in [0, 1] for one case (a case_item row) and its problem type's severity."""
    return {
        "severity": min(max((int(severity) - 1) / 2, 0.0), 1.0),
        "emergency": 1.0 if case.get("emergency") else 0.0,
        "case_class": CLASS_URGENCY.get(str(case.get("case_class")), 0.5),
        "reopened": min(int(case.get("reopen_count") or 0) / 3, 1.0),
        "transfers": min(int(case.get("transfer_count") or 0) / 3, 1.0),
    }


def score(case: Mapping[str, Any], *, severity: int, version: str = MODEL_VERSION) -> float:
    """The case's score (0-100) under a model version of the log."""
    weights = model(version).weights
    values = features(case, severity=severity)
    return round(sum(weights.get(k, 0.0) * v for k, v in values.items()), 1)


def score_arrays(
    *,
    severity: np.ndarray,
    emergency: np.ndarray,
    case_class: np.ndarray,
    reopen_count: np.ndarray,
    transfer_count: np.ndarray,
) -> np.ndarray:
    """`score` for many cases at once (the generator's), same features and weights as the current model."""
    w = model(MODEL_VERSION).weights
    urgency = np.array([CLASS_URGENCY.get(str(c), 0.5) for c in case_class], dtype=float)
    total = (
        w["severity"] * np.clip((np.asarray(severity, dtype=float) - 1) / 2, 0, 1)
        + w["emergency"] * np.asarray(emergency, dtype=bool)
        + w["case_class"] * urgency
        + w["reopened"] * np.minimum(np.asarray(reopen_count, dtype=float) / 3, 1)
        + w["transfers"] * np.minimum(np.asarray(transfer_count, dtype=float) / 3, 1)
    )
    return np.round(total, 1)


def model(version: str) -> ModelVersion:
    for m in MODEL_LOG:
        if m.version == version:
            return m
    raise KeyError(version)


def explain(case: Mapping[str, Any], *, severity: int) -> pl.DataFrame:
    """Why the current model scores the case as it does: one row a feature, with its value, weight and
    the points it contributes (the points add up to the score)."""
    values = features(case, severity=severity)
    rows = [
        {
            "feature": f.key,
            "name_zh": f.zh,
            "name_en": f.en,
            "how_zh": f.how_zh,
            "how_en": f.how_en,
            "value": values[f.key],
            "weight": float(f.weight),
            "points": round(values[f.key] * f.weight, 1),
        }
        for f in FEATURES
    ]
    return pl.DataFrame(rows)


def model_log() -> pl.DataFrame:
    """The change log as a table, newest first (weights as text, in the order of FEATURES)."""
    rows = [
        {
            "version": m.version,
            "date": m.date,
            "threshold": m.threshold,
            "weights": ", ".join(f"{f.key} {m.weights.get(f.key, 0):g}" for f in FEATURES),
            "change_zh": m.change_zh,
            "change_en": m.change_en,
            "current": m.version == MODEL_VERSION,
        }
        for m in reversed(MODEL_LOG)
    ]
    return pl.DataFrame(rows)

"""What the factor page analyses: the choice of dataset, year, variables and models, and the one call
that runs it. A plain module (not the Dash page) so dataclasses, the bench and tests can import it."""

from __future__ import annotations

from dataclasses import dataclass

from queries import factors
from queries.scope import Viewer

POOLED = "all"


@dataclass(frozen=True)
class Choice:
    """What the analysis runs on: a dataset (None = the township figures), a year (None = pooled or
    every row), the dependent variable, the regressors and the models (None = the paper's defaults)."""

    dataset_id: int | None
    year: int | None
    y: str
    xs: list[str]
    models: list[list[str]] | None = None
    robust: bool = False

    @property
    def dataset_key(self) -> str:
        return factors.TOWNSHIP if self.dataset_id is None else str(self.dataset_id)


def default_models(xs: list[str]) -> list[list[str]]:
    """The paper's nested models restricted to the chosen regressors, the full set last."""
    out: list[list[str]] = []
    for m in factors.DEFAULT_MODELS:
        kept = [x for x in m if x in xs]
        if kept and kept not in out:
            out.append(kept)
    if xs and sorted(xs) not in [sorted(m) for m in out]:
        out.append(list(xs))
    return out


def run(v: Viewer, c: Choice) -> factors.Analysis:
    models = c.models or default_models(list(c.xs))
    if c.dataset_id is None:
        return factors.township_analysis(
            scope=v.scope(), year=c.year, y=c.y, xs=list(c.xs), models=models, robust=c.robust
        )
    return factors.dataset_analysis(
        dataset_id=c.dataset_id, year=c.year, y=c.y, xs=list(c.xs), models=models, robust=c.robust
    )

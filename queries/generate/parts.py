"""Generator parts: how later capabilities (three lists, cases, prices, ...) add their own synthetic
tables to the pool without changing the core builder.

A part is a `Part` object in a module of its capability; it is switched on by being named in `PARTS`
below, the one list the builder reads (nothing else registers a part). A part declares the tables it
fills (emptied on every rebuild) and a `build` function that runs inside the same load transaction as
the records, after the records and rollups are in. If any part fails, the whole load fails and the
previous pool stays as it was.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sqlalchemy import Connection, Table

# "package.module:ATTRIBUTE" of every generator part, in build order (a part may read the tables of
# the parts before it). A capability adds its line here in the same change that adds its tables.
PARTS: tuple[str, ...] = (
    "queries.generate.lists:PART",
    "queries.generate.prices:PART",
    "queries.generate.divide:PART",
    "queries.generate.twin:PART",
    "queries.generate.factors:PART",
    "queries.generate.cases:PART",
)


@dataclass
class BuildContext:
    """What a part may build on: the seed's random stream, the scale, the time window, the records."""

    rng: np.random.Generator
    scale: str
    end_ts: int
    first_day: int
    last_day: int
    records: pl.DataFrame  # every loaded record (id, module_id, township_code, occurred_at, ...)
    meta: dict[str, str] = field(default_factory=dict)  # a part may add pool_meta entries here


@dataclass(frozen=True)
class Part:
    name: str
    tables: tuple[Table, ...]
    build: Callable[[Connection, BuildContext], None]


class PartError(RuntimeError):
    pass


def load(spec: str) -> Part:
    """The Part named by "module:ATTRIBUTE"; a wrong entry says which one and why."""
    mod_name, _, attr = spec.partition(":")
    try:
        part = getattr(importlib.import_module(mod_name), attr or "PART")
    except (ImportError, AttributeError) as exc:
        raise PartError(
            f"generator part {spec!r} in queries/generate/parts.py cannot be loaded: {exc}"
        ) from exc
    if not isinstance(part, Part):
        raise PartError(f"generator part {spec!r} is a {type(part).__name__}, not a parts.Part")
    return part


def registered() -> list[Part]:
    """The parts named in PARTS, in order; two parts with one name are refused."""
    out = [load(spec) for spec in PARTS]
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise PartError(f"two generator parts share a name: {names}")
    return out


def tables() -> tuple[Table, ...]:
    """Every table a generator part fills (emptied and rebuilt by each load)."""
    return tuple(t for p in registered() for t in p.tables)

"""Generator parts: how later capabilities (three lists, cases, prices, ...) add their own synthetic
tables to the pool without changing the core builder.

A part declares the tables it fills (cleared on every rebuild) and a `build` function that runs inside
the same load transaction as the records, after the records and rollups are in. If any part fails,
the whole load fails and the previous pool stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sqlalchemy import Connection, Table


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


_PARTS: dict[str, Part] = {}


def register(part: Part) -> Part:
    """Register (or replace, by name) a generator part. Parts run in registration order."""
    _PARTS[part.name] = part
    return part


def unregister(name: str) -> None:
    _PARTS.pop(name, None)


def registered() -> list[Part]:
    return list(_PARTS.values())

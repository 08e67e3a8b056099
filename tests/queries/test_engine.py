"""The one door to the pool: statement time limits become QueryTimeout in reads and in transactions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from queries import engine as eng
from queries.errors import QueryTimeout

SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(5)",
}


@pytest.fixture
def short_limit(pool_url: str) -> Iterator[str]:
    eng.configure(pool_url, timeout_ms=200)
    yield "postgresql" if pool_url.startswith("postgresql") else "sqlite"
    eng.configure(pool_url)


def test_a_slow_read_is_stopped_as_query_timeout(short_limit: str) -> None:
    with pytest.raises(QueryTimeout) as err, eng.connect() as conn:
        conn.execute(text(SLOW[short_limit]))
    assert "CC_QUERY_TIMEOUT_MS" in err.value.hint


def test_a_slow_statement_in_a_transaction_is_stopped_as_query_timeout(short_limit: str) -> None:
    with pytest.raises(QueryTimeout), eng.begin() as conn:
        conn.execute(text(SLOW[short_limit]))
    with pytest.raises(QueryTimeout), eng.write() as conn:
        conn.execute(text(SLOW[short_limit]))

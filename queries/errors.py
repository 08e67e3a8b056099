"""Errors the pool raises, each with a message fit for an operator (zh first, then en)."""


class PoolError(Exception):
    """Base: the pool cannot answer. `zh`/`en` are shown to people; `hint` says what to do."""

    def __init__(self, zh: str, en: str, hint: str = "") -> None:
        super().__init__(f"{zh} / {en}" + (f" ({hint})" if hint else ""))
        self.zh = zh
        self.en = en
        self.hint = hint


class PoolUnavailable(PoolError):
    pass


class PoolMissing(PoolError):
    pass


class SchemaOutdated(PoolError):
    pass


class QueryTimeout(PoolError):
    pass


class PoolSwitching(PoolError):
    """A write reached a pool file that a rebuild has just replaced; nothing was saved."""


class PoolChanged(PoolError):
    """The pool was rebuilt while a set of reads that must agree (an export) was being made."""

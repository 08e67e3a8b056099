"""Who is looking, and what they may see. Row rules live here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, literal, true

ROLE_LABELS = {
    "operator": ("值班员", "Operator"),
    "leader": ("领导", "Leader"),
    "department_head": ("部门负责人", "Department head"),
    "admin": ("管理员", "Administrator"),
}


@dataclass(frozen=True)
class Scope:
    """Row filter: township (None = whole county), department (None = all), highest classification seen."""

    township_code: int | None
    department_id: int | None
    max_class: int  # 0 public, 1 sensitive, 2 core

    def cache_key(self) -> str:
        return f"t{self.township_code}-d{self.department_id}-c{self.max_class}"

    def where(self, table: Table) -> ColumnElement[bool]:
        """Row filter for any table with township_code, dept_id and classification (records, rollups)."""
        cond: ColumnElement[bool] = true()
        if self.township_code is not None:
            cond = cond & (table.c.township_code == self.township_code)
        if self.department_id is not None:
            cond = cond & (table.c.dept_id == self.department_id)
        if self.max_class < 2:
            cond = cond & (table.c.classification <= literal(self.max_class))
        return cond


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    display_name: str
    role: str
    department_id: int | None = None
    township_code: int | None = None

    def scope(self) -> Scope:
        if self.role == "admin":
            return Scope(None, None, 2)
        if self.role == "leader":
            return Scope(self.township_code, None, 2)
        if self.role == "department_head":
            return Scope(None, self.department_id, 2)
        # operators watch the whole county, but core-classified data stays out of their counts
        return Scope(None, None, 1)

    def cache_key(self) -> str:
        return self.scope().cache_key()


CITY_SCOPE = Scope(None, None, 2)

"""The loop's state machine and the priority model, as pure code (no pool needed)."""

from __future__ import annotations

import pytest

from queries import case_rules as R
from queries import priority as P

CIVIL, HOUSING = 2, 5
HEAD = R.Who("department_head", CIVIL)
OTHER_HEAD = R.Who("department_head", HOUSING)
ADMIN = R.Who("admin", None)
LEADER = R.Who("leader", None)


def case(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 1,
        "dept_id": CIVIL,
        "stage": "monitoring",
        "signed_at": None,
        "emergency": False,
        "case_class": "help",
        "reopen_count": 0,
        "transfer_count": 0,
    }
    base.update(kw)
    return base


def test_owner_head_and_admin_may_act_others_not() -> None:
    assert R.allowed_actions(HEAD, case()) == ["sign", "defer_request", "transfer", "escalate"]
    assert R.allowed_actions(ADMIN, case()) == ["sign", "defer_request", "transfer", "escalate"]
    assert R.allowed_actions(OTHER_HEAD, case()) == []
    assert R.allowed_actions(LEADER, case()) == []
    with pytest.raises(R.CaseRefused, match="responsible department"):
        R.check(OTHER_HEAD, case(), "sign")


def test_evaluation_and_feedback_cannot_be_skipped_by_advancing() -> None:
    signed = {"signed_at": 100}
    assert "advance" in R.allowed_actions(HEAD, case(stage="response", **signed))
    for stage in ("evaluation", "feedback"):
        with pytest.raises(R.CaseRefused, match="not by advancing"):
            R.check(HEAD, case(stage=stage, **signed), "advance")
    assert R.allowed_actions(HEAD, case(stage="evaluation", **signed)) == [
        "evaluate",
        "defer_request",
        "reopen",
        "escalate",
    ]
    with pytest.raises(R.CaseRefused, match="not in feedback"):
        R.check(HEAD, case(stage="evaluation", **signed), "feedback")


def test_only_an_emergency_may_skip_stages() -> None:
    c = case(stage="analysis", signed_at=1)
    with pytest.raises(R.CaseRefused, match="Only an emergency"):
        R.check(HEAD, c, "advance", to_stage="evaluation")
    R.check(HEAD, {**c, "emergency": True}, "advance", to_stage="evaluation")
    with pytest.raises(R.CaseRefused, match="Cannot advance"):
        R.check(HEAD, {**c, "emergency": True}, "advance", to_stage="monitoring")


def test_closed_case_only_reopens_and_unsigned_case_cannot_advance() -> None:
    assert R.allowed_actions(HEAD, case(stage="closed", signed_at=1)) == ["reopen"]
    with pytest.raises(R.CaseRefused, match="closed"):
        R.check(HEAD, case(stage="closed", signed_at=1), "transfer")
    with pytest.raises(R.CaseRefused, match="Sign for"):
        R.check(HEAD, case(stage="analysis"), "advance")
    with pytest.raises(R.CaseRefused, match="Unknown action"):
        R.check(ADMIN, case(), "delete")


def test_deferral_is_decided_by_the_command_center_only() -> None:
    with pytest.raises(R.CaseRefused, match="administrators decide"):
        R.check(HEAD, case(), "defer_decision", pending_deferral=True)
    with pytest.raises(R.CaseRefused, match="no deferral request"):
        R.check(ADMIN, case(), "defer_decision")
    R.check(ADMIN, case(), "defer_decision", pending_deferral=True)
    with pytest.raises(R.CaseRefused, match="already waiting"):
        R.check(HEAD, case(), "defer_request", pending_deferral=True)


def test_deferral_limit_rule() -> None:
    assert R.defer_limit_days(class_limit_days=1, approved_days=0, requests=0) == 1  # enquiry
    assert R.defer_limit_days(class_limit_days=10, approved_days=4, requests=1) == 6
    assert R.defer_limit_days(class_limit_days=10, approved_days=4, requests=2) == 0
    assert R.defer_limit_days(class_limit_days=30, approved_days=0, requests=0) == R.DEFER_MAX_DAYS
    assert R.check_defer_days("3", limit=5) == 3
    with pytest.raises(R.CaseRefused, match="at most 5 more"):
        R.check_defer_days(6, limit=5)
    with pytest.raises(R.CaseRefused, match="used up"):
        R.check_defer_days(1, limit=0)
    with pytest.raises(R.CaseRefused, match="whole number"):
        R.check_defer_days("two", limit=5)


def test_note_limit() -> None:
    assert R.check_note("  ok ", required=True) == "ok"
    with pytest.raises(R.CaseRefused, match="too long"):
        R.check_note("x" * 100_000, required=False)
    with pytest.raises(R.CaseRefused, match="write a note"):
        R.check_note("   ", required=True)


def test_escalation_rule() -> None:
    assert R.needs_escalation(reopen_count=3, departments=1, has_lead=True)
    assert R.needs_escalation(reopen_count=0, departments=3, has_lead=False)
    assert not R.needs_escalation(reopen_count=0, departments=3, has_lead=True)
    assert not R.needs_escalation(reopen_count=2, departments=2, has_lead=False)


def test_priority_score_is_the_sum_of_its_explained_points() -> None:
    c = case(case_class="complaint", emergency=True, reopen_count=1, transfer_count=6)
    # severity 3 -> 1 * 30; emergency 25; complaint 0.7 * 20 = 14; reopen 1/3 * 15 = 5; transfers capped 10
    assert P.score(c, severity=3) == 84.0
    ex = P.explain(c, severity=3)
    assert ex["points"].sum() == pytest.approx(84.0)
    assert ex["weight"].sum() == 100.0
    assert P.score(c, severity=3, version="prio-1") == pytest.approx(40 + 30 + 21)
    assert P.score(case(case_class="enquiry"), severity=1) == 2.0


def test_model_log_names_the_current_version_first() -> None:
    log = P.model_log()
    assert log["version"].to_list()[0] == P.MODEL_VERSION
    assert log["current"].to_list() == [True] + [False] * (log.height - 1)
    assert P.model(P.MODEL_VERSION).threshold == P.THRESHOLD

"""Component ids of the pool page (`<page>-<thing>-<kind>`), shared by its parts and the tests."""

from __future__ import annotations


class ids:
    root = "pool-root"
    params = "pool-params-store"
    content = "pool-content"
    grid = "pool-source-grid"
    export = "pool-export-button"
    heatmap = "pool-heatmap-graph"
    classes = "pool-class-graph"
    truth = "pool-truth-table"
    kpis = "pool-kpis"
    # the data owners' scorecards
    scorecards = "pool-scorecards"
    # the quarantine
    quarantine = "pool-quarantine"
    q_params = "pool-quarantine-params-store"
    q_row = "pool-quarantine-row-store"
    q_counts = "pool-quarantine-counts-table"
    q_source = "pool-quarantine-source-dropdown"
    q_reason = "pool-quarantine-reason-dropdown"
    q_grid_box = "pool-quarantine-grid-box"
    q_grid = "pool-quarantine-grid"
    q_export = "pool-quarantine-export-button"
    q_download = "pool-quarantine-download"
    q_detail = "pool-quarantine-detail"
    q_field = "pool-quarantine-field-input"  # pattern-matched: {"type": q_field, "key": <raw row key>}
    q_release = "pool-quarantine-release-button"
    q_discard = "pool-quarantine-discard-button"
    q_note = "pool-quarantine-note-input"
    q_answer = "pool-quarantine-answer"
    q_counts_only = "pool-quarantine-counts-only"

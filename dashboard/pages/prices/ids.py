"""The price page's component ids (its modules and tests share them)."""

from __future__ import annotations


class ids:
    root = "prices-root"
    params = "prices-params-store"
    content = "prices-content"
    board = "prices-board-graph"
    warnings = "prices-warnings-table"
    product = "prices-product-dropdown"
    market = "prices-market-dropdown"
    detail = "prices-detail-panel"
    series = "prices-series-graph"
    ifpa = "prices-ifpa-graph"
    alps = "prices-alps-graph"
    hog = "prices-hog-graph"
    volumes = "prices-volumes-graph"
    coops = "prices-coop-table"
    map = "prices-market-map"
    ledger = "prices-ledger-table"
    kind = "prices-decision-kind-dropdown"
    amount = "prices-decision-amount-input"
    note = "prices-decision-note-input"
    decide = "prices-decision-button"
    decided = "prices-decision-status"
    kpis = "prices-kpis"
    url_notice = "prices-url-notice"

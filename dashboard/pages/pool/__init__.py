"""The data-pool page in parts: `page` (registration, layout, refresh), `sources` (delivery and quality
per source system, with drill-down links to the record browser), `scorecards` (the data owners' quality
scorecards) and `quarantine` (held rows per source: counts by reason, a paged grid, export, release).
`names` holds the component ids every part and the tests share."""

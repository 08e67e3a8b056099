"""The closed loop (issue 8): funnel, SLA clocks, KPIs, rankings, hotspots and a map of open cases."""

"""One case: `page` (registration, layout, callbacks), `components` (timeline, process, priority, actions)."""

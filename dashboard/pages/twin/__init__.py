"""The 3D community twin page: `page` (registration, layout, callbacks), `scene` (the 3D figure), `card` (panels),
`choice` (the main view's choices)."""

"""Appeals and optimization (`/appeals`): `page` (registration, layout, callbacks), `components` (tables)."""

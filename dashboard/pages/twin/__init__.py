"""The 3D community twin page: `page` (registration, layout, the main view's callbacks), `scene` (the 3D
figure), `card` (panels), `choice` (the main view's choices), `controls` (labelled choices, checked values),
`drawing` (hazards drawn on the plan), `scenarios` (renovation before and after), `ids`."""

"""The main view's choices as one value: the key of its kept answer (in a module of its own: Dash runs the
page module outside `sys.modules`, where a dataclass cannot be made)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dashboard.pages.twin.scene import CAMERAS


@dataclass(frozen=True)
class ViewArgs:
    """`view`'s choices, as the key of its kept answer (a dataclass prints the same in every worker)."""

    community: int
    color: str
    layer: str
    kind: str
    hazard: str
    camera: str

    def essential(self) -> ViewArgs:
        """The same view with what it does not use set to one value (more answers shared): the facility
        kind matters on the coverage layer only, the hazard on the evacuation layer only, and an unknown
        camera is the overview (as `view` takes it)."""
        return dataclasses.replace(
            self,
            kind=self.kind if self.layer == "coverage" else "elderly_care",
            hazard=self.hazard if self.layer == "evacuation" else "none",
            camera=self.camera if self.camera in CAMERAS else "overview",
        )

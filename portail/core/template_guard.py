"""Tests only: an unknown variable in one of our templates fails the test instead of rendering "".

Installed as TEMPLATES' `string_if_invalid` by the test settings. Django formats it with `%` when a
variable cannot be resolved; we then find the template node being rendered and raise if that
template is ours. Third-party templates (DSFR, admin) rely on missing variables on purpose and are
left alone.
"""

import sys
from pathlib import Path
from types import FrameType

from django.template import TemplateSyntaxError

_OURS = (
    str(Path(__file__).resolve().parents[2] / "portail"),
    str(Path(__file__).resolve().parents[2] / "ceres"),
)


class InvalidTemplateVariable(str):
    def __mod__(self, variable: object) -> str:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            node = frame.f_locals.get("self")
            origin = getattr(node, "origin", None)
            if origin is not None and getattr(node, "token", None) is not None:
                name = str(origin.name)
                if name.startswith(_OURS):
                    raise TemplateSyntaxError(f"Unknown template variable {variable!r} in {name}")
                return ""
            frame = frame.f_back
        return ""

    def __contains__(self, item: object) -> bool:
        # Django only calls `%` when the string contains "%s".
        return item == "%s" or (isinstance(item, str) and super().__contains__(item))

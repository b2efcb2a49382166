"""Reports and the model card are rendered from the jinja2 templates in `models/templates/`.

HTML templates (`*.html.j2`) are autoescaped; markdown ones (`*.md.j2`) are not, so a model card
shows `"` and `<` as written.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("exclusion_risk.models", "templates"),
        autoescape=lambda name: name is not None and name.endswith((".html", ".html.j2")),
    )


def render(template: str, **context: Any) -> str:
    """`templates/<template>` filled in with `context`."""
    return _environment().get_template(template).render(**context)

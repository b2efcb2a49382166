"""Reports and the model card are rendered from the jinja2 templates in `models/templates/`.

HTML templates (`*.html.j2`) are autoescaped; markdown ones (`*.md.j2`) are not, so a model card
shows `"` and `<` as written.
"""

from __future__ import annotations

import numbers
from functools import cache
from typing import Any

import jinja2


def count(value: Any) -> Any:
    """A count as people write it, with thousands separators (62,509; en-GB); a withheld one ("<10",
    "x") or anything not a whole number as it is. Templates use it as the `count` filter."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    return value


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("exclusion_risk.models", "templates"),
        autoescape=lambda name: name is not None and name.endswith((".html", ".html.j2")),
    )
    environment.filters["count"] = count
    return environment


def render(template: str, **context: Any) -> str:
    """`templates/<template>` filled in with `context`."""
    return _environment().get_template(template).render(**context)

"""The page's template is served only filled in: GET /static/index.html (no key needed) served it with a
literal {{NOTICE}} where the decision-support notice goes; only GET / filled it."""

from __future__ import annotations

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from tests.serving.test_limits import call, service  # noqa: F401 (fixture)


def test_the_raw_template_is_not_served(service):  # noqa: F811
    assert call(service, "GET", "/static/index.html").status_code == 404
    page = call(service, "GET", "/")
    assert page.status_code == 200 and "{{" not in page.text
    assert DECISION_SUPPORT_NOTICE[:35] in page.text  # before its apostrophe, which is escaped
    assert call(service, "GET", "/static/app.js").status_code == 200

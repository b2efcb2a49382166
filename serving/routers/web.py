"""GET /: the inclusion officer's page (plain HTML, one stylesheet, one script, all served from here)."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# The page's template, outside STATIC_DIR: the mount served it as it is, {{NOTICE}} unfilled, without a key
PAGE_TEMPLATE = Path(__file__).resolve().parents[1] / "index.html"

router = APIRouter(include_in_schema=False)


@cache
def _page() -> str:
    # The notice is filled in from the one definition in exclusion_risk.privacy, so it cannot drift.
    return PAGE_TEMPLATE.read_text(encoding="utf-8").replace(
        "{{NOTICE}}", html.escape(DECISION_SUPPORT_NOTICE)
    )


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse(_page())

"""One router per resource: health, model (and risk matrix), score, admin, web page."""

"""Serving stage: the FastAPI risk-matrix service and its web page."""

"""Linkage stage: read, validate and standardise extracts; link them into one pupil history."""

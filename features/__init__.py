"""Features stage: point-in-time pupil features and labels, one registry of feature definitions."""

"""Synthetic authorities for tests: generated once per session and shared by pytest-xdist workers.

Filled in by the synthetic-generator work (see synth/)."""

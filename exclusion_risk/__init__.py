"""Shared foundations of exclusion-risk: identifiers, reference tables, privacy rules, the CLI shell.

Kept free of imports from the stages so every stage (linkage -> features -> models -> serving)
and the synthetic generator can import from here without cycles.
"""

__version__ = "0.1.0"

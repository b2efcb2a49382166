"""exclusion-risk: one import package. Its own modules are the foundation every stage builds on.

Foundation (this folder): calendar, contract, values, privacy, upn, reference; they import no stage, so
every stage (linkage -> features -> models -> serving) and the synthetic generator can use them.
The stages are sub-packages (`exclusion_risk.linkage`, ...; their folders sit at the repo top), and
`exclusion_risk.cli`, the command line, is the one module above them all.
"""

__version__ = "0.1.0"

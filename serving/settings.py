"""Service settings, read from the environment (prefix EXCLUSION_RISK_) so a deployment needs no code."""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.linkage.engines.splink_backends import DUCKDB_MEMORY_VARIABLE
from exclusion_risk.models.tracking import CHAMPION
from exclusion_risk.reference import IDACI_VARIABLE, POSTCODES_VARIABLE
from exclusion_risk.serving.security import AUTH_FAILURES_PER_MINUTE

MIB = 1024 * 1024
# What `make demo` writes, relative to the folder `serve` starts in (the repo root in the quick start):
# a service started there with no history settings scores against the demo authority's history.
DEMO_EXTRACTS = Path("data/demo/extracts")
LINKAGE_FOLDER = "linkage"  # `exclusion-risk link --out` beside the extracts, as `make demo` writes it
PREFIX = "EXCLUSION_RISK_"
# uvicorn's levels (trace below debug): anything else crashed `serve` in logging.basicConfig
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# Variables of the prefix that other stages read, not ServiceSettings (a service's environment may hold
# them): DuckDB's memory cap for linkage, the postcode and IDACI lookups (exclusion_risk/reference.py).
OTHER_VARIABLES = (DUCKDB_MEMORY_VARIABLE, POSTCODES_VARIABLE, IDACI_VARIABLE)
# The port of each scheme a browser leaves out of an Origin header (CORS compares origins exactly).
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_as_sent(text: str) -> str:
    """`text` as a browser sends it in Origin (scheme://host[:port], lower case, no default port), which is
    what CORS compares exactly; anything a browser never sends is refused, naming what is wrong."""
    def refuse(why: str) -> ValueError:
        return ValueError(f"{text!r} is not an origin: {why} (give scheme://host[:port], e.g. "
                          "https://intranet.example.gov.uk)")

    if text == "*":  # any web site's script could call the service from a browser that holds a key
        raise ValueError("'*' would let any web site call the service: name the origins")
    parts = urlsplit(text)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in DEFAULT_PORTS or not host:
        raise refuse("no http:// or https:// and host")
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text or parts.username:
        raise refuse("a browser sends no path, query, fragment or user name")
    if "*" in host or host.endswith(".") or not host.isascii():
        raise refuse("no wildcard or trailing dot, and a non-ASCII host written as punycode (xn--)")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise refuse("its port is not 1-65535")
    if port == DEFAULT_PORTS[scheme]:
        raise refuse(f"a browser leaves out the default port {port}")
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


class ServiceSettings(BaseSettings):
    """Everything the service can be told. Defaults are the safe ones: loopback, no CORS, no docs UI.

    The model registry is MLflow's own setting, MLFLOW_TRACKING_URI (as for every other stage).
    """

    model_config = SettingsConfigDict(env_prefix="EXCLUSION_RISK_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to bind; loopback unless deliberately exposed.")
    port: int = Field(8000, ge=1, le=65535)
    database: Path = Field(
        Path("data/service/service.db"),
        description="SQLite file holding the hashed API keys and the audit log.",
    )
    registry_alias: str = Field(CHAMPION, description="Alias of the registered model to serve.")
    data_dir: Path | None = Field(
        None,
        description="Folder of the authority's extracts (census, exclusions, social care). Census uploads "
        "are scored with each pupil's linked history from these extracts and the links in `links_dir` "
        "(default: the `linkage` folder beside this one). Unset: data/demo/extracts when it and "
        "data/demo/linkage/links.csv exist (after `make demo`); otherwise no history, and census scoring "
        "is refused.",
    )
    extracts_dir: Path | None = Field(None, description="Older name for `data_dir` (used when it is unset).")
    links_dir: Path | None = Field(
        None,
        description="Output folder of `exclusion-risk link` (links.csv); default `linkage` beside data_dir.",
    )
    max_request_bytes: int = Field(64 * MIB, ge=1024, description="Largest request body accepted.")
    max_rows: int = Field(200_000, ge=1, description="Most pupils (rows) scored in one request.")
    min_upload_bytes_per_s: int = Field(
        16 * 1024,
        ge=0,
        description="Slowest average rate a request body may arrive at once `upload_grace_s` have passed; a "
        "slower one is cut off with 408, so that it does not hold a job slot (a census scoring takes its "
        "slot before its upload is read). 16 KB a second sends a 10 MB census in under 11 minutes. 0: no "
        "floor.",
    )
    upload_grace_s: float = Field(
        15.0, gt=0, description="Seconds a request body may take before `min_upload_bytes_per_s` applies, "
        "and the longest pause in it.",
    )
    max_concurrent_jobs: int = Field(
        2,
        ge=1,
        description="Scoring jobs (anything beyond a few feature records) run at once; more are refused "
        "with 503 and Retry-After, so CPU-bound work cannot queue up behind itself.",
    )
    auth_failures_per_minute: int = Field(
        AUTH_FAILURES_PER_MINUTE,
        ge=1,
        description="Failed key checks one client address may make in a minute before it is answered 429.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of the reverse proxies whose X-Forwarded-For/-Proto headers are believed "
        "(comma-separated, e.g. `127.0.0.1` for a proxy on this machine). Empty: the headers are ignored "
        "and the client is the connection's peer, so no caller can claim another address.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed cross-site (comma-separated). Empty: CORS off."
    )
    keep_runs_days: int | None = Field(
        None,
        ge=1,
        description="Days a recorded census scoring (each pupil's UPN, school, probability, band, RAG and "
        "need level) is kept: older runs are deleted when the service starts and once a day while it runs "
        "(serving/retention.py). Unset: every run is kept until `exclusion-risk runs delete`.",
    )
    docs: bool = Field(False, description="Serve the Swagger UI at /docs (it loads assets from a CDN).")
    log_level: str = Field("info", description=f"One of {', '.join(LOG_LEVELS)} (any case).")

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, proxies: list[str]) -> list[str]:
        # uvicorn reads an entry that is no address or network as a literal that never matches, unsaid,
        # and "*" as every caller: any client could then claim any address and dodge the key throttle.
        for proxy in proxies:
            try:  # strict: 10.0.0.1/8 (host bits set) is a typo
                every = proxy == "*" or ipaddress.ip_network(proxy).prefixlen == 0  # 0.0.0.0/0, ::/0
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network (e.g. 127.0.0.1, "
                                 "10.0.0.0/8)") from None
            if every:
                raise ValueError(f"{proxy!r} would believe every caller's claimed address: name the proxies")
        return proxies

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        # each as a browser sends it, or refused: anything else is never matched, and "*" matches any site
        return [origin_as_sent(origin) for origin in origins]

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().lower()
            if level not in LOG_LEVELS:
                raise ValueError(f"{value!r} is not a log level: give one of {', '.join(LOG_LEVELS)}")
            return level
        return value

    @model_validator(mode="after")
    def _history_folders(self) -> ServiceSettings:
        """One rule for where the history is: data_dir (or the older extracts_dir), else the demo's
        extracts when `make demo` has written them and their links; links_dir defaults to `linkage`
        beside the extracts. Only a setting left out falls back to the demo: `data_dir=None` given
        explicitly means no history (in-process tests run from the repo root)."""
        given = self.model_fields_set & {"data_dir", "extracts_dir"}
        extracts = self.data_dir or self.extracts_dir
        if extracts is None and not given:
            demo_links = DEMO_EXTRACTS.parent / LINKAGE_FOLDER / LINKS_FILE
            if DEMO_EXTRACTS.is_dir() and demo_links.is_file():
                # Absolute (not resolved: a symlinked extracts folder keeps `linkage` as its sibling), so
                # the history stays the demo's whatever the process's folder later.
                extracts = Path(os.path.abspath(DEMO_EXTRACTS))
        if extracts is not None and self.links_dir is None:
            self.links_dir = extracts.parent / LINKAGE_FOLDER
        self.data_dir = self.extracts_dir = extracts
        return self


def variable(field: str) -> str:
    """The environment variable that sets `field` (max_rows: EXCLUSION_RISK_MAX_ROWS)."""
    return f"{PREFIX}{field.upper()}"


def unknown_variable(environ: Mapping[str, str] | None = None) -> str | None:
    """What to say about the first EXCLUSION_RISK_ variable no part of the project reads (a misspelt
    setting: KEEP_RUN_DAYS left retention off without a word), naming the closest known one; None when
    every one is known. pydantic-settings ignores such variables whatever its `extra`, so this is the
    check. Names are compared in capitals, as the settings read them (case-insensitive)."""
    environ = os.environ if environ is None else environ
    known = {variable(name) for name in ServiceSettings.model_fields} | set(OTHER_VARIABLES)
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(PREFIX) and upper not in known:
            close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.6)
            meant = f" (did you mean {close[0]}?)" if close else ""
            return (f"unknown setting {name}{meant}: the service would ignore it; correct or unset it "
                    "(settings: serving/README.md)")
    return None


def history_refusal(settings: ServiceSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """What `serve` says, before it starts, of history folders that cannot be (the service ran on with
    /health 503 for as long as it ran): DATA_DIR (or EXTRACTS_DIR) not a folder, LINKS_DIR set without
    either (links with no extracts) or not a folder. None when the paths are folders (their contents are
    HistoryState's to check, in the background)."""
    given = {name.upper(): value for name, value in (os.environ if environ is None else environ).items()}
    data_name = next((variable(f) for f in ("data_dir", "extracts_dir") if given.get(variable(f))), None)
    links = given.get(variable("links_dir"))
    if links and data_name is None:
        return (f"{variable('links_dir')} is set without {variable('data_dir')}: set {variable('data_dir')} "
                "to the extracts folder whose `exclusion-risk link` output it names")
    if data_name is not None and settings.data_dir is not None and not settings.data_dir.is_dir():
        return (f"{data_name} {settings.data_dir} is not a folder: give the authority's extracts folder "
                "(census, exclusions, social care)")
    if links and not Path(links).is_dir():
        return f"{variable('links_dir')} {links} is not a folder: give `exclusion-risk link`'s output folder"
    return None

"""Service settings, read from the environment (prefix EXCLUSION_RISK_) so a deployment needs no code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from exclusion_risk.models.tracking import CHAMPION
from exclusion_risk.serving.security import AUTH_FAILURES_PER_MINUTE

MIB = 1024 * 1024


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
    extracts_dir: Path | None = Field(
        None,
        description="Folder of the authority's extracts (census, exclusions, social care). With links_dir, "
        "uploads are scored with each pupil's linked history (prior exclusions, social care).",
    )
    links_dir: Path | None = Field(None, description="Output folder of `exclusion-risk link` (links.csv).")
    max_request_bytes: int = Field(64 * MIB, ge=1024, description="Largest request body accepted.")
    max_rows: int = Field(200_000, ge=1, description="Most pupils (rows) scored in one request.")
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
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed cross-site (comma-separated). Empty: CORS off."
    )
    docs: bool = Field(False, description="Serve the Swagger UI at /docs (it loads assets from a CDN).")
    log_level: str = Field("info")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

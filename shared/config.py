"""Settings every liangdi process reads from `LIANGDI_*` environment variables.

Operators and scripts rely on these names (`LIANGDI_PLACE`, `LIANGDI_DATABASE_URL`,
`LIANGDI_NATS_URL`, ...): keep them stable.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "liangdi-dev-only-secret-change-me-0000"

# Only production refuses development secrets and missing keys (shared/security/deployment.py).
Environment = Literal["development", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def revealed(secret: SecretStr | str | None) -> str:
    """The text of a secret setting, for the one call that needs it (a key, a password).

    Settings keep secrets as `SecretStr` so a settings object in a log line, a traceback or a
    repr shows `**********`; a plain string (a hand-made settings object) passes through.
    """
    if isinstance(secret, SecretStr):
        return secret.get_secret_value()
    return secret or ""


class ProcessSettings(BaseSettings):
    """What every liangdi process reads about itself: where it runs and how it logs
    (shared/logging.py)."""

    model_config = SettingsConfigDict(env_prefix="LIANGDI_", extra="ignore")

    environment: Environment = Field(
        "development", description="development | production (production refuses dev secrets)"
    )
    log_level: LogLevel = Field("INFO", description="DEBUG | INFO | WARNING | ERROR | CRITICAL")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto",
        description="json lines; console for people; auto: console in development on a "
        "terminal, json otherwise",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class LogSettings(ProcessSettings):
    """Read by shared/logging.py when a process starts, before its service reads its own
    settings: the place its first lines name (none for the exchange's sync service)."""

    place: str | None = Field(None, description="LIANGDI_PLACE, as the service reads it")


class OperatorSettings(BaseSettings):
    """What the `liangdi` command reads for itself: the secret it signs operators' tokens with."""

    model_config = SettingsConfigDict(env_prefix="LIANGDI_", extra="ignore")

    jwt_secret: SecretStr = Field(SecretStr(""), description="HS256 secret for bearer tokens")


class ExchangeSettings(BaseSettings):
    """The JetStream topology and browser policy: the same for every process of one exchange.

    Read where the streams and consumers are declared (shared/messaging/topology.py), which has
    no service settings at hand; still only ever read here, typed and bounded.
    """

    model_config = SettingsConfigDict(env_prefix="LIANGDI_", extra="ignore")

    nats_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas (3 on a cluster)")
    stream_max_age_days: float = Field(365, gt=0, le=36500, description="events kept this long")
    duplicate_window_seconds: float = Field(
        600, gt=0, le=86400, description="JetStream drops a re-published message id this long"
    )
    receiver_ack_wait_seconds: float = Field(
        10, gt=0, le=3600, description="a delivered, unacknowledged fact is redelivered after"
    )
    receiver_max_ack_pending: int = Field(
        512, ge=1, le=100_000, description="facts delivered and not yet acknowledged, at most"
    )
    cors_origins: str = Field(
        "", description="comma-separated origins allowed to call the API from a browser"
    )


class ServiceSettings(ExchangeSettings, ProcessSettings):
    """What all three services share."""

    model_config = SettingsConfigDict(env_prefix="LIANGDI_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/liangdi.db",
        description="postgresql://user:pass@host:port/db[?schema=name] or sqlite:///path",
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4223", description="NATS server URL(s), comma separated"
    )
    poll_interval: float = Field(0.2, description="seconds between polls of the event store")
    sync_enabled: bool = Field(True, description="run the relay and receiver with the service")
    follow_read_models: bool = Field(
        True,
        description="keep the read models current in the background; an instance that serves "
        "no offices (a link process of its own) leaves it to those that do, and still brings "
        "them up to date before it reads one",
    )
    checks_apart: bool = Field(
        True,
        description="check a backlog's facts (signatures, sealed fields, contracts) in a process "
        "of its own beside the receiver, while the receiver applies the batch before",
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEV_SECRET), description="HS256 secret(s) for bearer tokens"
    )
    cipher_key: SecretStr = Field(
        SecretStr(""),
        description="base64 AES key for personal data at rest (16, 24 or 32 bytes)",
    )
    signing_key: SecretStr = Field(
        SecretStr(""), description="base64 Ed25519 private key this place signs with"
    )
    trusted_keys: str = Field(
        "",
        description="origin:place=base64pub[,host:place=base64pub...]: keys trusted for "
        "incoming events, each bound to the role it may speak in",
    )
    topology_file: str = Field(
        "",
        description="TOML file of the exchange's places and their public keys, re-read when it "
        "changes; its keys are trusted besides LIANGDI_TRUSTED_KEYS (docs/operations.md)",
    )
    sealing_key: SecretStr = Field(
        SecretStr(""),
        description="base64 X25519 private key(s) sealing personal fields on the wire; comma "
        "separated while rotating (the first seals, all open)",
    )
    sealing_peers: str = Field(
        "",
        description="place=base64pub[,place=base64pub...]: other places' public sealing keys "
        "(per place the first is sealed to)",
    )
    max_body_bytes: int = 1_000_000
    identity_key: SecretStr = Field(
        SecretStr(""),
        description="secret keying member ids derived from ID numbers (HMAC); set in production",
    )
    # NATS authentication and TLS (docs/security.md, "NATS"): each service connects as its own
    # user, `place-<code>` for a place's outflow/inflow, `sync` for the exchange.
    nats_user: str = Field("", description="NATS user: place-<code>, or sync for the exchange")
    nats_password: SecretStr = Field(SecretStr(""), description="password of LIANGDI_NATS_USER")
    nats_tls_ca: str = Field(
        "", description="PEM file of the CA that signed the NATS server's certificate: TLS on"
    )
    nats_tls_cert: str = Field("", description="PEM client certificate (mutual TLS), optional")
    nats_tls_key: str = Field("", description="PEM private key of LIANGDI_NATS_TLS_CERT")

    @field_validator("jwt_secret")
    @classmethod
    def _not_placeholder_in_production(cls, value: SecretStr, info) -> SecretStr:  # type: ignore[no-untyped-def]
        if info.data.get("environment") == "production" and revealed(value) == DEV_SECRET:
            raise ValueError("LIANGDI_JWT_SECRET must be set to a real secret in production")
        return value

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]


class PlaceServiceSettings(ServiceSettings):
    """An outflow (origin county) or inflow (host district) instance serves one place."""

    place: str = Field(..., description="6-digit GB/T 2260 code of the place this instance serves")
    park_timeout_seconds: float = Field(
        3600.0, description="how long an out-of-order fact waits for its predecessor"
    )
    duty_interval_seconds: float = Field(
        3600.0,
        ge=0,
        le=86400,
        description="how often the place's scheduled duties run (e.g. flagging overdue "
        "reporting); 0 turns them off",
    )
    # The event store's sessions (eventsourcing's POSTGRES_POOL_SIZE / POSTGRES_MAX_OVERFLOW):
    # kept open, and opened besides under load. Every session counts against PostgreSQL's
    # max_connections with those of the read models, the link and the other services.
    event_store_pool_size: int = Field(
        5, ge=1, le=100, description="PostgreSQL sessions the event store keeps open"
    )
    event_store_max_overflow: int = Field(
        10, ge=0, le=100, description="more event store sessions opened under load, at most"
    )
    max_amount_fen: int = Field(
        100_000_000,
        ge=1,
        le=2**53 - 1,
        description="ceiling per transaction in fen (分): contributions, applications, requests",
    )

    @field_validator("place")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        if len(value) != 6 or not value.isdigit():
            raise ValueError("LIANGDI_PLACE must be a 6-digit place code")
        return value


class OutflowSettings(PlaceServiceSettings):
    transfer_letter_validity_days: int = 90
    receipt_due_days: int = 30
    mobile_after_months: int = 6
    verification_interval_days: int = 92
    lost_contact_after_days: int = 183
    removal_after_suspension_days: int = 730
    public_notice_working_days: int = 5
    ineligible_after_inactive_days: int = 183
    ineligible_grade_years: int = 3
    # How long an activity certificate (流动党员活动证) is valid from its issue (docs/practices.md)
    certificate_validity_months: int = Field(12, ge=1, le=120)


class InflowSettings(PlaceServiceSettings):
    reporting_deadline_days: int = 30
    branch_minimum: int = 3
    branch_maximum: int = 50
    # Fixed days (固定党日, 党员服务日, 议事会) missed in a row before a member shows on the
    # branch's to-do list as drifting away (docs/practices.md, "Fixed days")
    fixed_days_missed_in_a_row: int = Field(3, ge=1, le=36)
    # When the host's organisation grows a general branch (党总支) and a committee (党委) above
    # its branches (docs/practices.md, "Organisations that grow")
    general_branch_min_branches: int = Field(3, ge=2, le=100)
    general_branch_min_members: int = Field(51, ge=2, le=10_000)
    committee_min_members: int = Field(100, ge=3, le=100_000)


class SyncSettings(ServiceSettings):
    evaluation_deadline: str = Field(
        "03-31", description="MM-DD of the year after the one assessed"
    )
    divergence_steps: int = 2
    not_competent_diverges: bool = Field(
        True, description="one side not_competent and the other not is a divergence"
    )
    reporting_deadline_days: int = Field(30, description="days after departure to report")
    receipt_due_days: int = Field(30, description="days after a transfer letter for its receipt")
    anti_entropy_interval: float = 0.0
    park_timeout_seconds: float = 3600.0
    # The places of the exchange (docs/sync.md, "Places"): the admin API acts on these only.
    places: str = Field(
        "",
        description="origin:371326,host:310115 (or bare codes): the places of the exchange, "
        "besides those named by LIANGDI_TRUSTED_KEYS and those reporting status",
    )
    status_stale_seconds: float = Field(
        3.0, description="a place's status older than this shows its links as unknown"
    )
    error_hold_seconds: float = Field(
        10.0,
        description="a place's last error shows on its links for this long, unless it "
        "reports success since",
    )

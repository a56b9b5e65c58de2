"""Configuration: TOML read into frozen pydantic models that refuse unknown keys."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
_ORIGIN_PATTERN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


class ConfigError(Exception):
    """A config file that cannot be used; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8787
    max_body_bytes: Annotated[int, Field(ge=64)] = 1_048_576
    max_batch: Annotated[int, Field(ge=1)] = 100


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///wallet.db"

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url


class WalletConfig(_Section):
    accounts: Annotated[tuple[str, ...], Field(min_length=1)] = (DEFAULT_ACCOUNT,)

    @field_validator("accounts", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("accounts")
    @classmethod
    def _valid_addresses(cls, accounts: tuple[str, ...]) -> tuple[str, ...]:
        from wallet_rpc.mina.keys import InvalidPublicKey, decode_public_key

        for account in accounts:
            try:
                decode_public_key(account)
            except InvalidPublicKey as error:
                raise ValueError(f"{account!r} is not a B62 public key ({error})") from None
        return accounts


class SecurityConfig(_Section):
    allowed_origins: tuple[str, ...] = (
        "http://localhost",
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    )
    default_origin: str | None = None
    max_credential_bytes: Annotated[int, Field(ge=1)] = 102_400
    rate_limit_per_minute: Annotated[int, Field(ge=0)] = 0
    require_owner_account: bool = False

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("allowed_origins")
    @classmethod
    def _well_formed_patterns(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not _ORIGIN_PATTERN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin (scheme://host[:port],"
                    " optionally with one leading '*.' label)"
                )
        return origins


class VerificationConfig(_Section):
    native: bool = True
    trusted_issuers: tuple[str, ...] = ()
    reject_expired: bool = False
    imported: Literal["store-unverified", "reject"] = "store-unverified"

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value


class CompatConfig(_Section):
    messages: Literal["docs", "extension"] = "docs"


class ApprovalConfig(_Section):
    mode: Literal["auto", "reject", "prompt"] = "auto"
    timeout_seconds: Annotated[float, Field(gt=0)] = 60

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _int_is_float(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Config(_Section):
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    wallet: WalletConfig = WalletConfig()
    security: SecurityConfig = SecurityConfig()
    verification: VerificationConfig = VerificationConfig()
    compat: CompatConfig = CompatConfig()
    approval: ApprovalConfig = ApprovalConfig()

    @property
    def current_account(self) -> str:
        return self.wallet.accounts[0]


def builtin_defaults() -> Config:
    """What serves with no --config: the settings of config.example.toml."""
    return Config(security=SecurityConfig(default_origin="http://localhost"))


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"bad value for '{key}': {first['msg']}"


def config_from_mapping(data: dict[str, object]) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8"
        raise ConfigError(f"cannot read config file {path}: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    return config_from_mapping(data)

"""Configuration: a TOML file and WALLET_RPC_* variables read into frozen pydantic models.

pydantic-settings reads both sources; the models refuse unknown keys and bad
values with one line naming the key (and the variable, when one set it).
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

DEFAULT_ACCOUNT = "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"
ENCRYPTION_KEY_BYTES = 32
_ORIGIN_PATTERN = re.compile(r"^https?://(\*\.)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$")


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
    # How long a write waits for SQLite's lock held by another process before
    # it answers -32001 (docs/operations.md, "Storage faults").
    busy_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0

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


def decode_encryption_key(text: str) -> bytes:
    """The 32 key bytes of `[storage] encryption_key`: base64url (or base64), padding optional."""
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != ENCRYPTION_KEY_BYTES:
        # Never quote the value: it is a secret, and the message goes to logs.
        raise ValueError(f"must be {ENCRYPTION_KEY_BYTES} bytes in base64url (43 characters)")
    return key


class StorageConfig(_Section):
    # Unset: credential bodies are stored in clear. Kept out of repr: it is a secret.
    encryption_key: str | None = Field(default=None, repr=False)
    # Audit rows older than this many days are deleted; 0 keeps every row.
    audit_retention_days: int = Field(default=0, ge=0)

    @field_validator("encryption_key")
    @classmethod
    def _key_of_32_bytes(cls, key: str | None) -> str | None:
        if key is not None:
            decode_encryption_key(key)
        return key

    @property
    def encryption_key_bytes(self) -> bytes | None:
        return None if self.encryption_key is None else decode_encryption_key(self.encryption_key)


class ObservabilityConfig(_Section):
    metrics: bool = True
    # False: GET /metrics answers loopback peers only (403 for others).
    metrics_remote: bool = False
    access_log: Literal["stdout", "stderr", "off"] = "stdout"


class Config(_Section):
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    wallet: WalletConfig = WalletConfig()
    security: SecurityConfig = SecurityConfig()
    verification: VerificationConfig = VerificationConfig()
    compat: CompatConfig = CompatConfig()
    approval: ApprovalConfig = ApprovalConfig()
    storage: StorageConfig = StorageConfig()
    observability: ObservabilityConfig = ObservabilityConfig()

    @property
    def current_account(self) -> str:
        return self.wallet.accounts[0]


def builtin_defaults() -> Config:
    """What serves with no --config: the settings of config.example.toml."""
    return Config(security=SecurityConfig(default_origin="http://localhost"))


def _describe(error: ValidationError, sources: Mapping[str, str] | None = None) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    # A value from the environment names its variable too: the file may not have the key.
    section_key = ".".join(str(part) for part in first["loc"][:2])
    section = str(first["loc"][0]) if first["loc"] else ""
    variable = (sources or {}).get(section_key) or (sources or {}).get(section)
    origin = f" (from {variable})" if variable else ""
    if first["type"] == "extra_forbidden":
        return f"unknown key '{key}'{origin}"
    return f"bad value for '{key}'{origin}: {first['msg']}"


def config_from_mapping(
    data: Mapping[str, object], sources: Mapping[str, str] | None = None
) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, sources)) from None


ENV_PREFIX = "WALLET_RPC_"
# Names the config file when --config is not given (a file mounted into a container).
CONFIG_PATH_VARIABLE = "WALLET_RPC_CONFIG"
ENCRYPTION_KEY_VARIABLE = "WALLET_RPC_ENCRYPTION_KEY"


class _Sources(Config, BaseSettings):
    """Where a Config's values come from, for pydantic-settings' sources to read.

    `WALLET_RPC_<SECTION>_<KEY>`: the first `_` after the section splits it
    from the key (`WALLET_RPC_SERVER_MAX_BODY_BYTES` is `server.max_body_bytes`).
    Never instantiated: `Config` validates, strictly, what the sources found.
    Not strict here: for a strict model pydantic-settings would convert a
    variable's text leniently (`yes` to true, `"80"` to 80) before `Config` sees it.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="_", env_nested_max_split=1, strict=False
    )


def _takes_text(annotation: object) -> bool:
    """Whether an environment value for this field is the string itself rather than JSON."""
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return all(isinstance(choice, str) for choice in get_args(annotation))
    if origin in (Union, types.UnionType):
        return any(_takes_text(member) for member in get_args(annotation))
    return False


class _Environment(EnvSettingsSource):
    """`WALLET_RPC_<SECTION>_<KEY>` variables of a given environment, as config sections.

    Text fields take the value as it is; numbers, booleans and lists are JSON
    (`8787`, `true`, `["http://localhost"]`), checked by the same models as the
    file. Names whose first word after the prefix is not a config section
    (WALLET_RPC_CONFIG among them) are not settings and are left alone; an
    unknown key inside a section is an error.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(_Sources)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Names match whatever their case, as pydantic-settings matches os.environ's.
        return {name.lower(): value for name, value in self._environ.items()}

    def field_is_complex(self, field: FieldInfo) -> bool:
        return not _takes_text(field.annotation)

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:  # not JSON: left as text, for the model to refuse with its message
            return value

    def __call__(self) -> dict[str, Any]:
        found = super().__call__()
        # The key's short name; WALLET_RPC_STORAGE_ENCRYPTION_KEY wins when both are set.
        short = self.env_vars.get(ENCRYPTION_KEY_VARIABLE.lower())
        storage = found.get("storage", {})
        if short is not None and isinstance(storage, dict) and "encryption_key" not in storage:
            found["storage"] = {**storage, "encryption_key": short}
        return found

    def variables(self, found: Mapping[str, object]) -> dict[str, str]:
        """Which variable set each key (`section.key`) or whole section of `found`."""
        names = {name.lower(): name for name in self._environ}
        named: dict[str, str] = {}
        for section, values in found.items():
            whole = names.get(f"{ENV_PREFIX}{section}".lower())
            if whole is not None:
                named[section] = whole
            if not isinstance(values, dict):
                continue
            for key in values:
                name = names.get(f"{ENV_PREFIX}{section}_{key}".lower())
                if name is None and f"{section}.{key}" == "storage.encryption_key":
                    name = ENCRYPTION_KEY_VARIABLE
                if name is not None:
                    named[f"{section}.{key}"] = name
        return named


def _read_toml(path: Path) -> dict[str, Any]:
    """The config file's tables, through pydantic-settings' TOML source."""
    reason = None if path.is_file() else "not a file" if path.exists() else "no such file"
    try:
        if reason is None:
            return TomlConfigSettingsSource(_Sources, toml_file=path)()
    except OSError as error:
        reason = error.strerror or str(error)
    except UnicodeDecodeError:
        reason = "not UTF-8"
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    raise ConfigError(f"cannot read config file {path}: {reason}")


def load_config(path: Path) -> Config:
    return config_from_mapping(_read_toml(path))


def resolve_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """The config file (or the built-in defaults), with the environment's settings on top."""
    if path is None and environ.get(CONFIG_PATH_VARIABLE):
        path = Path(environ[CONFIG_PATH_VARIABLE])
    data: dict[str, Any] = (
        builtin_defaults().model_dump(include={"security": {"default_origin"}})
        if path is None
        else _read_toml(path)
    )
    environment = _Environment(environ)
    try:
        overrides = environment()
    except SettingsError as error:
        raise ConfigError(str(error)) from None
    for section, values in overrides.items():
        current = data.get(section, {})
        if isinstance(current, dict) and isinstance(values, dict):
            data[section] = {**current, **values}
        elif isinstance(current, dict):
            data[section] = values
        else:
            raise ConfigError(f"bad value for '{section}': not a table")
    return config_from_mapping(data, environment.variables(overrides))

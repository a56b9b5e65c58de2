"""`wallet-rpc audit`, `wallet-rpc rekey` and `wallet-rpc new-key`: running the store."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from wallet_rpc.config import ENCRYPTION_KEY_BYTES, Config, decode_encryption_key
from wallet_rpc.service.rekey import DEFAULT_BATCH_SIZE, rekey
from wallet_rpc.storage.audit import list_audit
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import Sealer, StorageKeyError, sealer_for

EXIT_USAGE = 2
NEW_KEY_VARIABLE = "WALLET_RPC_NEW_ENCRYPTION_KEY"
COMMANDS = ("audit", "rekey", "new-key")


def _moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or time: {text!r} (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def add_operations_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_config_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    audit = commands.add_parser("audit", help="print the audit trail of wallet method calls")
    audit.description = (
        "Print the audit trail: one entry per wallet method call (time, origin, method,"
        " outcome, credential id), oldest first."
    )
    add_config_option(audit)
    audit.add_argument("--origin", help="only calls from this origin")
    audit.add_argument(
        "--since", type=_moment, metavar="TIME", help="only calls at or after this ISO 8601 time"
    )
    audit.add_argument("--limit", type=_positive, metavar="N", help="only the last N entries")
    audit.add_argument("--json", action="store_true", help="print a JSON array")

    rekey_parser = commands.add_parser(
        "rekey", help="re-encrypt every stored credential under a new key"
    )
    rekey_parser.description = (
        "Re-encrypt every credential body under a new key (or store them in clear with"
        " --decrypt). The current key is the configured one ([storage] encryption_key or"
        f" WALLET_RPC_ENCRYPTION_KEY); the new one comes from --new-key-file or"
        f" {NEW_KEY_VARIABLE}. Stop every server on the database first. Safe to"
        " interrupt: run it again with the same keys to finish."
    )
    add_config_option(rekey_parser)
    target = rekey_parser.add_mutually_exclusive_group()
    target.add_argument(
        "--new-key-file", type=Path, metavar="PATH", help="a file holding the new key (base64url)"
    )
    target.add_argument(
        "--decrypt", action="store_true", help="store the bodies in clear (turn encryption off)"
    )
    rekey_parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
    )

    new_key = commands.add_parser(
        "new-key", help="print a new random encryption key for [storage] encryption_key"
    )
    new_key.description = f"Print {ENCRYPTION_KEY_BYTES} random bytes in base64url."
    add_config_option(new_key)


def _new_key(arguments: argparse.Namespace) -> bytes | None:
    """The rekey's target key; None for --decrypt. Raises ValueError with a one-line reason."""
    if arguments.decrypt:
        return None
    if arguments.new_key_file is not None:
        path: Path = arguments.new_key_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise ValueError(f"cannot read the new key from {path}") from None
        source = str(path)
    elif os.environ.get(NEW_KEY_VARIABLE):
        text, source = os.environ[NEW_KEY_VARIABLE], NEW_KEY_VARIABLE
    else:
        raise ValueError(
            f"give the new key with --new-key-file or {NEW_KEY_VARIABLE}, or --decrypt"
        )
    try:
        return decode_encryption_key(text)
    except ValueError as error:
        raise ValueError(f"the new key from {source} {error}") from None


async def _run_rekey(config: Config, old: Sealer, new: Sealer, batch_size: int) -> int:
    database = Database(config.database.url)
    try:
        await database.migrate()
        await database.open()

        def progress(count: int) -> None:
            print(f"re-encrypted {count} credentials", flush=True)

        report = await rekey(database, old, new, batch_size=batch_size, progress=progress)
    finally:
        await database.close()
    if report.rekeyed == 0:
        print("every credential is already stored under the new key")
    else:
        target = "in clear" if new.key_id is None else "under the new key"
        print(f"done: {report.rekeyed} credentials now stored {target}")
    if not report.purged and not config.database.url.startswith("sqlite"):
        print("run VACUUM FULL credentials on the database to drop the old copies from disk")
    return 0


async def _read_audit(config: Config, arguments: argparse.Namespace) -> list[dict[str, object]]:
    database = Database(config.database.url)
    try:
        await database.migrate()
        records = await list_audit(
            database, origin=arguments.origin, since=arguments.since, limit=arguments.limit
        )
    finally:
        await database.close()
    return [record.as_json() for record in records]


def _print_audit(entries: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    for entry in entries:
        outcome = "ok" if entry["code"] is None else f"error {entry['code']}"
        detail = "" if entry["result"] is None else json.dumps(entry["result"], ensure_ascii=False)
        if entry["credential_id"] is not None:
            detail = f"{detail} credential {entry['credential_id']}"
        fields = (entry["at"], entry["origin"] or "-", entry["method"], outcome, detail)
        print("\t".join(str(field) for field in fields).rstrip())


def run_operations(config: Config, arguments: argparse.Namespace) -> int:
    command: str = arguments.command
    if command == "new-key":
        print(
            base64.urlsafe_b64encode(secrets.token_bytes(ENCRYPTION_KEY_BYTES)).decode().rstrip("=")
        )
        return 0
    if command == "audit":
        _print_audit(asyncio.run(_read_audit(config, arguments)), arguments.json)
        return 0
    try:
        new_key = _new_key(arguments)
    except ValueError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE
    old = sealer_for(config.storage.encryption_key_bytes)
    try:
        return asyncio.run(_run_rekey(config, old, sealer_for(new_key), arguments.batch_size))
    except StorageKeyError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE

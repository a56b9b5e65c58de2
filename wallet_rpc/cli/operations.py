"""`wallet-rpc audit`, `wallet-rpc rekey` and `wallet-rpc new-key`: running the store."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wallet_rpc.cli.store import AddParser, CannotProceed, open_store, run_command
from wallet_rpc.cli.terminal import fields_line, json_text

if TYPE_CHECKING:
    from wallet_rpc.config import Config
    from wallet_rpc.storage.sealing import Sealer

NEW_KEY_VARIABLE = "WALLET_RPC_NEW_ENCRYPTION_KEY"


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


def add_parsers(add: AddParser, config: argparse.ArgumentParser) -> None:
    audit_parser = add(
        "audit",
        parents=[config],
        help="print the audit trail of wallet method calls",
        description=(
            "Print the audit trail: one entry per wallet method call (time, origin, method,"
            " outcome, credential id), oldest first."
        ),
    )
    audit_parser.add_argument("--origin", help="only calls from this origin")
    audit_parser.add_argument(
        "--since", type=_moment, metavar="TIME", help="only calls at or after this ISO 8601 time"
    )
    audit_parser.add_argument(
        "--limit", type=_positive, metavar="N", help="only the last N entries"
    )
    audit_parser.add_argument("--json", action="store_true", help="print a JSON array")
    audit_parser.set_defaults(func=audit)

    rekey_parser = add(
        "rekey",
        parents=[config],
        help="re-encrypt every stored credential under a new key",
        description=(
            "Re-encrypt every credential body under a new key (or store them in clear with"
            " --decrypt). The current key is the configured one ([storage] encryption_key or"
            f" WALLET_RPC_ENCRYPTION_KEY); the new one comes from --new-key-file or"
            f" {NEW_KEY_VARIABLE}. Stop every server on the database first. Safe to"
            " interrupt: run it again with the same keys to finish."
        ),
    )
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
        metavar="N",
        help="rows per transaction (default: the rekey's own batch size)",
    )
    rekey_parser.set_defaults(func=rekey)

    new_key_parser = add(
        "new-key",
        parents=[config],
        help="print a new random encryption key for [storage] encryption_key",
        description="Print a new random 256-bit key in base64url.",
    )
    new_key_parser.set_defaults(func=new_key)


def audit(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.storage.audit import list_audit

    async def read() -> list[dict[str, Any]]:
        async with open_store(config, check_key=False) as store:
            records = await list_audit(
                store.database,
                origin=arguments.origin,
                since=arguments.since,
                limit=arguments.limit,
            )
        return [record.as_json() for record in records]

    entries = run_command(read())
    if arguments.json:
        print(json_text(entries))
        return 0
    for entry in entries:
        outcome = "ok" if entry["code"] is None else f"error {entry['code']}"
        detail = "" if entry["result"] is None else json_text(entry["result"]).replace("\n", " ")
        if entry["credential_id"] is not None:
            detail = f"{detail} credential {entry['credential_id']}"
        print(
            fields_line(
                entry["at"], entry["origin"] or "-", entry["method"], outcome, detail
            ).rstrip()
        )
    return 0


def new_key(config: Config, arguments: argparse.Namespace) -> int:
    import base64
    import secrets

    from wallet_rpc.config import ENCRYPTION_KEY_BYTES

    print(base64.urlsafe_b64encode(secrets.token_bytes(ENCRYPTION_KEY_BYTES)).decode().rstrip("="))
    return 0


def _new_key(arguments: argparse.Namespace) -> bytes | None:
    """The rekey's target key; None for --decrypt."""
    from wallet_rpc.config import decode_encryption_key

    if arguments.decrypt:
        return None
    if arguments.new_key_file is not None:
        path: Path = arguments.new_key_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise CannotProceed(f"cannot read the new key from {path}") from None
        source = str(path)
    elif os.environ.get(NEW_KEY_VARIABLE):
        text, source = os.environ[NEW_KEY_VARIABLE], NEW_KEY_VARIABLE
    else:
        raise CannotProceed(
            f"give the new key with --new-key-file or {NEW_KEY_VARIABLE}, or --decrypt"
        )
    try:
        return decode_encryption_key(text)
    except ValueError as error:
        raise CannotProceed(f"the new key from {source} {error}") from None


def rekey(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.service.rekey import DEFAULT_BATCH_SIZE
    from wallet_rpc.storage.sealing import StorageKeyError, sealer_for

    old = sealer_for(config.storage.encryption_key_bytes)
    new = sealer_for(_new_key(arguments))
    batch_size: int = arguments.batch_size or DEFAULT_BATCH_SIZE
    try:
        return run_command(_rekey(config, old, new, batch_size))
    except StorageKeyError as error:
        raise CannotProceed(str(error)) from None


async def _rekey(config: Config, old: Sealer, new: Sealer, batch_size: int) -> int:
    from wallet_rpc.service.rekey import rekey as rekey_store

    def progress(count: int) -> None:
        print(f"re-encrypted {count} credentials", flush=True)

    async with open_store(config, writes=True, check_key=False) as store:
        report = await rekey_store(
            store.database, old, new, batch_size=batch_size, progress=progress
        )
    if report.rekeyed == 0:
        print("every credential is already stored under the new key")
    else:
        shown = "in clear" if new.key_id is None else "under the new key"
        print(f"done: {report.rekeyed} credentials now stored {shown}")
    if not report.purged and not config.database.url.startswith("sqlite"):
        print("run VACUUM FULL credentials on the database to drop the old copies from disk")
    return 0

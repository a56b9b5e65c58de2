"""`wallet-rpc credentials list|show ID|delete ID`: the stored credentials."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from wallet_rpc.cli.store import EXIT_NOT_FOUND, AddParser, open_store, run_command
from wallet_rpc.cli.terminal import fields_line, json_text

if TYPE_CHECKING:
    from wallet_rpc.config import Config


def add_parsers(add: AddParser, config: argparse.ArgumentParser) -> None:
    credentials = add(
        "credentials",
        help="list, show or delete stored credentials",
        description="Read or delete the credentials in the configured database.",
    )
    actions = credentials.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[config], help="list every stored credential")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=list_credentials)
    show = actions.add_parser("show", parents=[config], help="print one credential as JSON")
    show.add_argument("id", type=int, help="the credential's id (see `credentials list`)")
    show.set_defaults(func=show_credential)
    delete = actions.add_parser("delete", parents=[config], help="delete one credential")
    delete.add_argument("id", type=int, help="the credential's id (see `credentials list`)")
    delete.set_defaults(func=delete_credential)


def list_credentials(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.storage import credentials as stored

    async def read() -> list[dict[str, Any]]:
        async with open_store(config) as store:
            entries = await stored.list_credentials(store.database, store.sealer)
        return [entry.as_json() for entry in entries]

    entries = run_command(read())
    if arguments.json:
        print(json_text(entries))
        return 0
    for entry in entries:
        print(fields_line(entry["id"], entry["stored_at"], entry["origin"], entry["owner"]))
    return 0


def _not_found(credential_id: int) -> int:
    print(f"wallet-rpc: no credential with id {credential_id}", file=sys.stderr)
    return EXIT_NOT_FOUND


def show_credential(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.storage import credentials as stored

    credential_id: int = arguments.id

    async def read() -> dict[str, Any] | None:
        async with open_store(config) as store:
            entry = await stored.get_credential(store.database, credential_id, store.sealer)
        return None if entry is None else entry.as_json()

    shown = run_command(read())
    if shown is None:
        return _not_found(credential_id)
    print(json_text(shown))
    return 0


def delete_credential(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.storage import credentials as stored

    credential_id: int = arguments.id

    async def delete() -> bool:
        async with open_store(config, writes=True) as store:
            return bool(await store.database.write(stored.delete_credential(credential_id)))

    if not run_command(delete()):
        return _not_found(credential_id)
    print(f"deleted credential {credential_id}")
    return 0

"""`wallet-rpc approvals list|approve ID|reject ID`: deciding waiting requests from a script.

Works on the database of the running server(s): a decision written here is
picked up by whichever process holds the request. As on the approval page, a
decision names the origin it was shown for (the request's own, unless
`--origin` says otherwise); a different origin answers the request with 23001.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from wallet_rpc.config import Config
from wallet_rpc.service import prompt
from wallet_rpc.service.prompt import PendingRequest
from wallet_rpc.storage.approvals import Decision, Recorded
from wallet_rpc.storage.database import Database
from wallet_rpc.storage.sealing import StorageKeyError, check_storage_key, sealer_for

EXIT_NOT_PENDING = 1
EXIT_USAGE = 2


def add_approvals_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_config_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    approvals = commands.add_parser(
        "approvals", help="list, approve or reject requests waiting for consent (prompt mode)"
    )
    approvals.description = (
        "Decide the requests that wait for a person in approval mode 'prompt', in the"
        " database the server uses."
    )
    actions = approvals.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list the waiting requests")
    add_config_option(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    for action, verb in (("approve", "approve"), ("reject", "reject")):
        decide = actions.add_parser(action, help=f"{verb} one waiting request")
        add_config_option(decide)
        decide.add_argument("id", help="the request's id (see `approvals list`)")
        decide.add_argument(
            "--origin",
            help="the origin this decision is for (default: the request's own origin)",
        )


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_listing(pending: list[PendingRequest], as_json: bool) -> None:
    if as_json:
        print(json.dumps([entry.as_json() for entry in pending], ensure_ascii=False, indent=2))
        return
    if not pending:
        print("No requests are waiting.")
        return
    for entry in pending:
        print(f"{entry.id}\t{entry.method}\t{entry.origin}")
        print(f"  {entry.title}")
        print(f"  arrived {_clock(entry.requested_at)}; 1002 at {_clock(entry.expires_at)}")
        if entry.view is not None:
            for line in entry.view.lines():
                print(f"  {line}")
        print()


async def _run(config: Config, arguments: argparse.Namespace) -> int:
    database = Database(config.database.url)
    sealer = sealer_for(config.storage.encryption_key_bytes)
    try:
        await database.migrate()
        # The key that opens stored credentials opens waiting ones too.
        await check_storage_key(database, sealer, register=False)
        if arguments.action == "list":
            _print_listing(await prompt.pending_requests(database, sealer), arguments.json)
            return 0
        approval_id: str = arguments.id
        entry = await prompt.pending_request(database, sealer, approval_id)
        if entry is None:
            print(
                f"wallet-rpc: no request {approval_id} is waiting"
                " (never was, or answered, withdrawn or timed out)",
                file=sys.stderr,
            )
            return EXIT_NOT_PENDING
        shown_origin: str = arguments.origin or entry.origin
        await database.open()
        decision = Decision(arguments.action)
        recorded = await prompt.record_decision(database, approval_id, decision, shown_origin)
    finally:
        await database.close()
    if recorded is Recorded.RECORDED:
        verb = "approved" if decision is Decision.APPROVE else "rejected"
        print(f"{verb} {approval_id} ({entry.method} from {entry.origin}) for {shown_origin}")
        return 0
    if recorded is Recorded.ALREADY_DECIDED:
        print(f"wallet-rpc: request {approval_id} was already decided", file=sys.stderr)
    else:
        print(
            f"wallet-rpc: request {approval_id} stopped waiting before the decision",
            file=sys.stderr,
        )
    return EXIT_NOT_PENDING


def run_approvals(config: Config, arguments: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(config, arguments))
    except StorageKeyError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE

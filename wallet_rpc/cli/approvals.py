"""`wallet-rpc approvals list|approve ID|reject ID`: deciding waiting requests from a script.

Works on the database of the running server(s): a decision written here is
picked up by whichever process holds the request. As on the approval page, a
decision names the origin it was shown for (the request's own, unless
`--origin` says otherwise); a different origin answers the request with 23001.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from wallet_rpc.cli.store import EXIT_NOT_FOUND, AddParser, open_store, run_command
from wallet_rpc.cli.terminal import fields_line, json_text
from wallet_rpc.display import for_person

if TYPE_CHECKING:
    from wallet_rpc.config import Config
    from wallet_rpc.service.prompt import PendingRequest


def add_parsers(add: AddParser, config: argparse.ArgumentParser) -> None:
    approvals = add(
        "approvals",
        help="list, approve or reject requests waiting for consent (prompt mode)",
        description=(
            "Decide the requests that wait for a person in approval mode 'prompt', in the"
            " database the server uses."
        ),
    )
    actions = approvals.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[config], help="list the waiting requests")
    listing.add_argument(
        "--json",
        action="store_true",
        help='print {"pending": [...]}, as GET /approvals.json answers',
    )
    listing.set_defaults(func=list_pending)
    for verb in ("approve", "reject"):
        decide = actions.add_parser(verb, parents=[config], help=f"{verb} one waiting request")
        decide.add_argument("id", help="the request's id (see `approvals list`)")
        decide.add_argument(
            "--origin",
            help="the origin this decision is for (default: the request's own origin)",
        )
        decide.set_defaults(func=decide_request)


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_for_person(pending: list[PendingRequest]) -> None:
    if not pending:
        print("No requests are waiting.")
        return
    for entry in pending:
        print(fields_line(entry.id, entry.method, entry.origin))
        print(f"  {for_person(entry.title)}")
        print(f"  arrived {_clock(entry.requested_at)}; 1002 at {_clock(entry.expires_at)}")
        if entry.view is not None:
            for line in entry.view.lines():
                print(f"  {for_person(line)}")
        print()


def list_pending(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.service import prompt

    async def read() -> list[PendingRequest]:
        async with open_store(config) as store:
            return await prompt.pending_requests(store.database, store.sealer)

    pending = run_command(read())
    if arguments.json:
        # The shape of GET /approvals.json.
        print(json_text({"pending": [entry.as_json() for entry in pending]}))
    else:
        _print_for_person(pending)
    return 0


def decide_request(config: Config, arguments: argparse.Namespace) -> int:
    from wallet_rpc.service import prompt
    from wallet_rpc.storage.approvals import Decision, Recorded

    approval_id: str = arguments.id
    decision = Decision(arguments.action)

    async def decide() -> tuple[PendingRequest | None, Recorded | None]:
        async with open_store(config, writes=True) as store:
            entry = await prompt.pending_request(store.database, store.sealer, approval_id)
            if entry is None:
                return None, None
            shown_origin: str = arguments.origin or entry.origin
            recorded = await prompt.record_decision(
                store.database, approval_id, decision, shown_origin
            )
            return entry, recorded

    entry, recorded = run_command(decide())
    shown_id = for_person(approval_id)
    if entry is None:
        print(
            f"wallet-rpc: no request {shown_id} is waiting"
            " (never was, or answered, withdrawn or timed out)",
            file=sys.stderr,
        )
        return EXIT_NOT_FOUND
    if recorded is Recorded.RECORDED:
        verb = "approved" if decision is Decision.APPROVE else "rejected"
        shown_origin = arguments.origin or entry.origin
        print(
            for_person(
                f"{verb} {approval_id} ({entry.method} from {entry.origin}) for {shown_origin}"
            )
        )
        return 0
    if recorded is Recorded.ALREADY_DECIDED:
        print(f"wallet-rpc: request {shown_id} was already decided", file=sys.stderr)
    else:
        print(
            f"wallet-rpc: request {shown_id} stopped waiting before the decision", file=sys.stderr
        )
    return EXIT_NOT_FOUND

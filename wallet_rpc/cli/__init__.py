"""The `wallet-rpc` command line: parse the arguments, load the config, run the command.

Each command family has a module of its own (`serve`, `credentials`,
`approvals`, `operations`) that adds its parsers and names the function each
one runs (`set_defaults(func=...)`). They import what a command needs inside
the command, so that parsing (and `--help`, `--version`) stays light.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from wallet_rpc.cli.parser import build_parser

    arguments = build_parser().parse_args(argv)

    from wallet_rpc.cli.store import EXIT_USAGE, CannotProceed, Command
    from wallet_rpc.config import ConfigError, resolve_config

    try:
        # WALLET_RPC_<SECTION>_<KEY> variables override the file; WALLET_RPC_CONFIG names it.
        config = resolve_config(arguments.config, os.environ)
    except ConfigError as error:
        print(f"wallet-rpc: {error}", file=sys.stderr)
        return EXIT_USAGE
    command: Command = arguments.func
    try:
        return command(config, arguments)
    except CannotProceed as refusal:
        print(f"wallet-rpc: {refusal}", file=sys.stderr)
        return refusal.status

"""The argument parser: the top level, the shared `--config` option, and each family's commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from wallet_rpc import __version__
from wallet_rpc.cli import approvals, credentials, operations, serve


def _config_option() -> argparse.ArgumentParser:
    """A parent parser for every command: the config file."""
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        help=(
            "TOML config file (default: $WALLET_RPC_CONFIG, else built-in settings as in"
            " config.example.toml); WALLET_RPC_<SECTION>_<KEY> variables override it"
        ),
    )
    return option


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallet-rpc",
        description="A Mina wallet for private credentials, served as JSON-RPC 2.0 over HTTP.",
    )
    parser.add_argument("--version", action="version", version=f"wallet-rpc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config = _config_option()
    for family in (serve, credentials, approvals, operations):
        family.add_parsers(commands.add_parser, config)
    return parser

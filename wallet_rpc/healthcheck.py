"""`python -m wallet_rpc.healthcheck`: exit 0 if the server on this host answers /healthz with 200.

The container image's HEALTHCHECK. It reads the same configuration as
`wallet-rpc serve` with no --config (WALLET_RPC_CONFIG and the
WALLET_RPC_<SECTION>_<KEY> variables) to find the port.
"""

from __future__ import annotations

import http.client
import os
import sys

from wallet_rpc.config import ConfigError, resolve_config

TIMEOUT_SECONDS = 4.0
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104 - compared against, never bound


def probe_host(listen_host: str) -> str:
    """Where to reach a server listening on listen_host from the same host."""
    return "127.0.0.1" if listen_host in _ANY_ADDRESS else listen_host


def check(host: str, port: int) -> str | None:
    """None when healthy, else why not."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
    except OSError as error:
        return f"no answer from {host}:{port} ({error.strerror or error})"
    finally:
        connection.close()
    return None if status == 200 else f"/healthz answered {status}"


def main() -> int:
    try:
        config = resolve_config(None, os.environ)
    except ConfigError as error:
        print(f"wallet-rpc healthcheck: {error}", file=sys.stderr)
        return 1
    problem = check(probe_host(config.server.host), config.server.port)
    if problem is not None:
        print(f"wallet-rpc healthcheck: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The entry of a signature-check worker process; it imports nothing beyond wallet_rpc.mina.

The server's pool starts its workers from a process that has loaded only this
module and wallet_rpc.mina.signature (PRELOAD), so that a worker holds the
interpreter, gmpy2 and the Mina tables, and none of the server (aiohttp,
SQLAlchemy, pydantic). The server imports this module to name its functions;
the signature code (the Poseidon constants) loads in the server only if a
check runs there.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

SERVER_CHECK_SECONDS = 1.0
PRELOAD = (__name__, "wallet_rpc.mina.signature")

# The Auro docs' example native credential: checking it once builds the generator
# table and fills the caches that every check uses (the hashes of the usual data
# keys, the prefix states), so that a worker's first real check is as quick as its
# hundredth.
EXAMPLE_CREDENTIAL: Mapping[str, Any] = {
    "version": "v0",
    "witness": {
        "type": "native",
        "issuer": {
            "_type": "PublicKey",
            "value": "B62qp6y93m7HztH5jvn12gHJphzAZrZq3daD792hi8a6WSivDS62M6y",
        },
        "issuerSignature": {
            "_type": "Signature",
            "value": {
                "r": "2048877460578739165228056233953847796686596521109157705064912018021737903"
                "1673",
                "s": "1670881894549088301582989048306557402202321751923425756735876335770361150"
                "6560",
            },
        },
    },
    "credential": {
        "owner": {
            "_type": "PublicKey",
            "value": "B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32",
        },
        "data": {
            "nationality": "KR",
            "name": "zvCICx",
            "birthDate": {
                "_type": "Int64",
                "value": {"magnitude": "215913411073", "sgn": "Negative"},
            },
            "id": {"_type": "Bytes", "size": 16, "value": "2a4dc0212e4c68fff1ae6ffbb2c194fb"},
            "expiresAt": {"_type": "UInt64", "value": "1777182333186"},
        },
    },
}


def warm_up() -> None:
    """Run one check, so that the next does not pay for building tables and caches."""
    if not check(EXAMPLE_CREDENTIAL):
        raise RuntimeError("the example credential does not verify")


def start(server_pid: int) -> None:
    """A worker's initializer: leave with the server, and warm up before the first check."""
    # The server, killed with SIGKILL, cannot stop its workers: they look for it.
    threading.Thread(target=_exit_with_server, args=(server_pid,), daemon=True).start()
    warm_up()


def ready() -> int:
    """Answered once the worker has started: its process id."""
    return os.getpid()


def check(document: Mapping[str, Any]) -> bool:
    """Does the native credential's issuer signature verify?"""
    from wallet_rpc.mina.signature import verify_native_credential

    return verify_native_credential(document)


def _exit_with_server(server_pid: int) -> None:
    # By its process id, not as this process's parent: a worker's parent is the
    # fork server, which lives as long as any worker does.
    while True:
        time.sleep(SERVER_CHECK_SECONDS)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # there, but another user's: the id was reused
            os._exit(0)

"""The user's consent: the one seam where "approve", "reject" and a person plug in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wallet_rpc.errors import UserRejected


def always_present() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    method: str
    origin: str
    # The credential as the person would be shown it, for store requests.
    credential: dict[str, Any] | None = None
    # False once the requesting client has hung up, which withdraws a waiting request.
    requester_present: Callable[[], bool] = always_present


class Approver(Protocol):
    async def decide(self, request: ApprovalRequest) -> None:
        """Return when the user approves; raise UserRejected (or OriginMismatch) otherwise."""


class ApproveAll:
    async def decide(self, request: ApprovalRequest) -> None:
        return None


class RejectAll:
    async def decide(self, request: ApprovalRequest) -> None:
        raise UserRejected()

"""What [verification] asks of a credential before it is stored."""

from __future__ import annotations

import time
from collections.abc import Callable

from wallet_rpc.config import VerificationConfig
from wallet_rpc.errors import InvalidParams
from wallet_rpc.mina.signature import verify_native_credential
from wallet_rpc.service.credential import ValidCredential


class CredentialVerifier:
    def __init__(self, config: VerificationConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock

    async def check(self, credential: ValidCredential) -> bool:
        """Raise InvalidParams for a credential the wallet refuses; else say if it was verified."""
        config = self._config
        if (
            config.reject_expired
            and credential.expires_at_ms is not None
            and credential.expires_at_ms < self._clock() * 1000
        ):
            raise InvalidParams(
                {"field": "credential.credential.data.expiresAt", "reason": "expired"}
            )
        if credential.witness_type == "imported":
            if config.imported == "reject":
                raise InvalidParams(
                    {
                        "field": "credential.witness.type",
                        "reason": "imported credentials are not accepted",
                    }
                )
            return False
        if credential.witness_type != "native":
            return False
        if config.trusted_issuers and credential.issuer not in config.trusted_issuers:
            raise InvalidParams(
                {"field": "credential.witness.issuer", "reason": "issuer is not trusted"}
            )
        if not config.native:
            return False
        if not verify_native_credential(credential.document):
            raise InvalidParams(
                {
                    "field": "credential.witness.issuerSignature",
                    "reason": "signature does not verify",
                }
            )
        return True

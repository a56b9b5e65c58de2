"""Scalar values of a credential (decimal strings, B62 keys, base64, hex) and its strict model.

Numbers inside serialized o1js values are canonical decimal strings: digits only,
no leading zeros, below the bound of their type. Every model of a credential's
parts is `Strict`: no unknown keys, no type coercion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator

from wallet_rpc.mina.field import P, Q
from wallet_rpc.mina.keys import InvalidPublicKey, decode_public_key
from wallet_rpc.service.credential.refusals import refused

_MAX_DYNAMIC_LENGTH = 2**16 - 1
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def decimal_check(bound: int, name: str) -> Callable[[str], str]:
    """A check that text is a canonical decimal (digits only, no leading zero) below bound."""
    max_digits = len(str(bound - 1))
    not_canonical = f"{name} must be a canonical decimal string"
    out_of_range = f"{name} out of range"

    def check(text: str) -> str:
        if not (text.isdigit() and text.isascii()) or (text[0] == "0" and len(text) > 1):
            raise refused(not_canonical)
        # Only a number as long as the bound needs int(); this also keeps int() off huge strings.
        if len(text) >= max_digits and (len(text) > max_digits or int(text) >= bound):
            raise refused(out_of_range)
        return text

    return check


def _decimal(bound: int, name: str) -> AfterValidator:
    return AfterValidator(decimal_check(bound, name))


FieldDecimal = Annotated[str, _decimal(P, "field element")]
ScalarDecimal = Annotated[str, _decimal(Q, "scalar")]
UInt8Decimal = Annotated[str, _decimal(2**8, "UInt8")]
UInt32Decimal = Annotated[str, _decimal(2**32, "UInt32")]
UInt64Decimal = Annotated[str, _decimal(2**64, "UInt64")]


def _check_public_key(text: str) -> str:
    if len(text) != 55:
        raise refused("public key must be 55 characters")
    try:
        decode_public_key(text)
    except InvalidPublicKey as error:
        raise refused(f"invalid public key: {error}") from None
    return text


B62 = Annotated[str, AfterValidator(_check_public_key)]


def _check_base64(text: str) -> str:
    body = text.rstrip("=")
    if len(text) % 4 or len(text) - len(body) > 2 or not _BASE64_ALPHABET.issuperset(body):
        raise refused("must be base64")
    return text


Base64 = Annotated[str, AfterValidator(_check_base64)]


def _true_only(value: object) -> Literal[True]:
    if value is not True:
        raise refused("must be true")
    return True


IsFactory = Annotated[Literal[True], PlainValidator(_true_only)]


def _bool_or_null(value: object) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise refused("must be a boolean or null")


BoolOrNull = Annotated[bool | None, PlainValidator(_bool_or_null)]
NonNegativeInt = Annotated[int, Field(ge=0)]
DynamicLength = Annotated[int, Field(ge=0, le=_MAX_DYNAMIC_LENGTH)]
ProofCount = Annotated[int, Field(ge=0, le=2)]


def is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and _HEX_DIGITS.issuperset(text)

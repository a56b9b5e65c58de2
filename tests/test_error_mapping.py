"""Every error class has a code and both message styles, mapped in one place."""

from __future__ import annotations

import pytest

from wallet_rpc import errors
from wallet_rpc.rpc.errors import MESSAGES, error_object


def all_error_classes() -> list[type[errors.WalletRpcError]]:
    found: list[type[errors.WalletRpcError]] = []
    pending = [errors.WalletRpcError]
    while pending:
        cls = pending.pop()
        for subclass in cls.__subclasses__():
            found.append(subclass)
            pending.append(subclass)
    return found


def test_there_are_error_classes_to_check() -> None:
    assert {errors.OriginMismatch, errors.NotConnected, errors.InvalidParams} <= set(
        all_error_classes()
    )


@pytest.mark.parametrize("error_class", all_error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_class_is_mapped(error_class: type[errors.WalletRpcError]) -> None:
    for style in ("docs", "extension"):
        body = error_object(error_class(), style)
        assert body == {"code": error_class.code, "message": MESSAGES[error_class][style]}
        assert body["message"]


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))


def test_data_is_passed_through_only_when_given() -> None:
    body = error_object(errors.InvalidParams({"field": "credential", "reason": "x"}), "docs")
    assert body["data"] == {"field": "credential", "reason": "x"}
    assert "data" not in error_object(errors.InternalError(), "docs")


def test_auro_codes_and_texts() -> None:
    assert error_object(errors.OriginMismatch(), "docs") == {
        "code": 23001,
        "message": "Origin dismatch.",
    }
    assert error_object(errors.NotConnected(), "extension")["message"] == (
        "User disconnect, please connect first."
    )


def test_storage_faults_say_why_and_bugs_say_nothing() -> None:
    assert error_object(errors.StorageUnavailable("the disk holding it is full"), "docs") == {
        "code": -32001,
        "message": "Storage unavailable",
        "data": {"reason": "the disk holding it is full"},
    }
    assert error_object(errors.InternalError(), "extension") == {
        "code": -32603,
        "message": "Internal error",
    }

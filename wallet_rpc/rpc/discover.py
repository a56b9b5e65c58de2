"""`rpc.discover`: the OpenRPC document of this server.

The credential's schema comes from the pydantic models that validate
`mina_storePrivateCredential` (wallet_rpc.service.credential), and the errors
from the one mapping of codes to messages, so the document cannot drift from
what the server does. Checks that a JSON Schema cannot say (a B62 checksum, a
field element's range, JavaScript key order) are in the descriptions.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter

from wallet_rpc import __version__, errors
from wallet_rpc.errors import InvalidMethodParams, WalletRpcError
from wallet_rpc.methods import CallContext, Method, Params
from wallet_rpc.rpc.errors import MessageStyle, error_object
from wallet_rpc.service.credential import (
    ImportedWitness,
    NativeWitness,
    PlainCredential,
    StoredCredential,
    StructCredential,
    UnsignedWitness,
)

OPENRPC_VERSION = "1.3.2"
DISCOVER = "rpc.discover"
_REF_TEMPLATE = "#/components/schemas/{model}"

_ORIGIN_ERRORS: tuple[type[WalletRpcError], ...] = (errors.RateLimited, errors.OriginMismatch)
_STORE_ERRORS: tuple[type[WalletRpcError], ...] = (
    errors.RateLimited,
    errors.OriginMismatch,
    errors.NotConnected,
    errors.InvalidParams,
    errors.UserRejected,
    errors.Overloaded,
)

_B62_ACCOUNT = {
    "type": "string",
    "pattern": "^B62[1-9A-HJ-NP-Za-km-z]{52}$",
    "description": "A Mina public key (base58check, B62...).",
}


def _schemas_of(*types: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each type's JSON Schema, with every model they use gathered as a shared component."""
    components: dict[str, Any] = {}
    top: list[dict[str, Any]] = []
    for kind in types:
        schema = TypeAdapter(kind).json_schema(ref_template=_REF_TEMPLATE, mode="validation")
        for name, definition in schema.pop("$defs", {}).items():
            if components.setdefault(name, definition) != definition:
                raise ValueError(f"two models named {name} with different schemas")
        top.append(schema)
    return top, components


def _credential_schemas() -> dict[str, Any]:
    witness, credential, stored = (
        NativeWitness | ImportedWitness | UnsignedWitness,
        PlainCredential | StructCredential,
        StoredCredential,
    )
    (witness_schema, credential_schema, stored_schema), components = _schemas_of(
        witness, credential, stored
    )
    # The envelope picks its witness and credential models by hand (for clearer
    # errors), so their own schemas say what the envelope's fields take.
    properties = stored_schema["properties"]
    properties["witness"] = {**witness_schema, "title": "Witness"}
    properties["credential"] = {**credential_schema, "title": "Credential"}
    properties["metadata"] = {
        "title": "Metadata",
        "description": "Any JSON; kept as sent, and ignored when finding duplicates.",
    }
    stored_schema["description"] = (
        "A credential as mina-attestations serializes it. Every serialized value is"
        " checked beyond this schema: public keys by their checksum, numbers as"
        " canonical decimal strings within their type's range, hex of the declared"
        " size. The whole must be at most [security] max_credential_bytes of JSON."
    )
    components["StoredCredential"] = stored_schema
    return components


def _errors(kinds: tuple[type[WalletRpcError], ...], style: MessageStyle) -> list[dict[str, Any]]:
    return [error_object(kind(), style) for kind in kinds]


def _no_params() -> list[dict[str, Any]]:
    return []


def _method(
    name: str,
    summary: str,
    result: dict[str, Any],
    errors_: list[dict[str, Any]],
    *,
    params: list[dict[str, Any]] | None = None,
    description: str | None = None,
    param_structure: str = "either",
) -> dict[str, Any]:
    method: dict[str, Any] = {
        "name": name,
        "summary": summary,
        "paramStructure": param_structure,
        "params": params if params is not None else _no_params(),
        "result": result,
    }
    if description is not None:
        method["description"] = description
    if errors_:
        method["errors"] = errors_
    return method


def openrpc_document(style: MessageStyle) -> dict[str, Any]:
    """The document `rpc.discover` answers, with error messages in the configured style."""
    origin_errors = _errors(_ORIGIN_ERRORS, style)
    account_list = {"type": "array", "items": _B62_ACCOUNT}
    methods = [
        _method(
            "mina_requestAccounts",
            "Connect the calling origin and answer the wallet's current account.",
            {
                "name": "accounts",
                "schema": {**account_list, "minItems": 1, "maxItems": 1},
            },
            [*origin_errors, *_errors((errors.UserRejected,), style)],
            description="Needs the user's approval unless the origin is already connected.",
        ),
        _method(
            "mina_accounts",
            "The current account if the calling origin is connected, else an empty list.",
            {"name": "accounts", "schema": {**account_list, "maxItems": 1}},
            [],
            description="Never an error: a refused origin also gets [].",
        ),
        _method(
            "wallet_revokePermissions",
            "Disconnect the calling origin.",
            {"name": "nothing", "schema": {"type": "array", "maxItems": 0}},
            origin_errors,
        ),
        _method(
            "wallet_info",
            "The wallet's version.",
            {
                "name": "info",
                "schema": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "init": {"const": True},
                    },
                    "required": ["version", "init"],
                    "additionalProperties": False,
                },
            },
            origin_errors,
        ),
        _method(
            "mina_storePrivateCredential",
            "Store a private credential for the calling origin.",
            {
                "name": "stored",
                "schema": {
                    "type": "object",
                    "properties": {
                        "credential": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "description": (
                                "The stored credential as compact JSON, keys in the order"
                                " version, witness, metadata, credential; a duplicate gets"
                                " the first store's text."
                            ),
                        }
                    },
                    "required": ["credential"],
                    "additionalProperties": False,
                },
            },
            _errors(_STORE_ERRORS, style),
            params=[
                {
                    "name": "credential",
                    "required": True,
                    "description": (
                        'By name ({"credential": C}, as Auro Wallet takes it) or by'
                        " position ([C], as Pallad does). C is an object: a JSON string"
                        " is refused."
                    ),
                    "schema": {"$ref": "#/components/schemas/StoredCredential"},
                }
            ],
            description=(
                "Needs a connected origin and the user's approval. Storing the same"
                " credential again (ignoring key order and metadata) answers the first"
                " store's result and changes nothing."
            ),
        ),
        _method(
            DISCOVER,
            "This document.",
            {"name": "document", "schema": {"$ref": "https://meta.open-rpc.org/"}},
            _errors((errors.InvalidMethodParams,), style),
        ),
    ]
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "wallet-rpc",
            "version": __version__,
            "description": (
                "The Mina private-credential provider API of Auro Wallet, as a JSON-RPC 2.0 server."
            ),
        },
        "methods": methods,
        "components": {"schemas": _credential_schemas()},
    }


def discover_method(style: MessageStyle) -> Method:
    """`rpc.discover` for the dispatcher: no origin check, no params."""

    @functools.cache
    def document() -> dict[str, Any]:
        # Built at the first call, not at every start-up (pydantic's schema generation).
        return openrpc_document(style)

    async def rpc_discover(context: CallContext, params: Params) -> dict[str, Any]:
        if params:
            raise InvalidMethodParams({"reason": "rpc.discover takes no params"})
        return document()

    return rpc_discover

"""Free-form JSON in a credential (metadata, o1js constants, Struct records) as JavaScript holds it.

A JavaScript wallet parses the credential with JSON.parse: objects enumerate
integer-like keys first (wallet_rpc.mina.key_order) and numbers are doubles
(js_number). A tree is checked and brought to that form in one walk.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator

from wallet_rpc.mina.key_order import in_javascript_order, is_array_index
from wallet_rpc.service.credential.js_number import (
    SAFE_INTEGER_LIMIT,
    JavaScriptNumber,
    as_javascript_number,
)
from wallet_rpc.service.credential.refusals import Refusal, refused_at

__all__ = ["MAX_NESTING", "JsonTree", "javascript_tree", "nesting_exceeds"]

# Deep enough for any real credential (the docs' example nests 5 objects, an
# imported credential 8), shallow enough that nothing recurses far.
MAX_NESTING = 64


def javascript_tree(node: Any, depth: int = 0) -> Any:
    """Check a free-form JSON value and return it as JavaScript holds it.

    Parts that need no change are returned as the same objects, so a tree that
    comes back as another object is one that changed. Raises Refusal for anything
    that is not plain JSON: other Python types, non-finite floats, numbers beyond
    a double's range, nesting deeper than MAX_NESTING.
    """
    kind = type(node)
    if kind is str or kind is bool or node is None:
        return node
    if kind is int:
        if -SAFE_INTEGER_LIMIT <= node <= SAFE_INTEGER_LIMIT:
            return node
        try:
            return as_javascript_number(node)
        except OverflowError:
            raise Refusal("number out of range") from None
    if kind is float or kind is JavaScriptNumber:
        try:
            return as_javascript_number(node)
        except ValueError:
            raise Refusal("number must be finite") from None
    if depth >= MAX_NESTING:
        raise Refusal("nested too deeply")
    if kind is dict:
        changed: dict[str, Any] | None = None
        has_index_key = False
        for key, value in node.items():
            if type(key) is not str:
                raise Refusal("object keys must be strings")
            if not has_index_key and is_array_index(key):
                has_index_key = True
            try:
                new_value = javascript_tree(value, depth + 1)
            except Refusal as refusal:
                refusal.path.append(key)
                raise
            if new_value is not value:
                if changed is None:
                    changed = {}
                changed[key] = new_value
        if changed is not None:
            node = {key: changed.get(key, value) for key, value in node.items()}
        return in_javascript_order(node) if has_index_key else node
    if kind is list:
        items: list[Any] | None = None
        for index, item in enumerate(node):
            try:
                new_item = javascript_tree(item, depth + 1)
            except Refusal as refusal:
                refusal.path.append(index)
                raise
            if new_item is not item:
                if items is None:
                    items = list(node)
                items[index] = new_item
        return node if items is None else items
    raise Refusal("not a JSON value")


def _checked_tree(node: Any) -> Any:
    """javascript_tree inside a pydantic validator: a refusal becomes a located pydantic error."""
    try:
        return javascript_tree(node)
    except Refusal as refusal:
        raise refused_at(tuple(reversed(refusal.path)), refusal.reason) from None


def nesting_exceeds(node: Any, limit: int) -> bool:
    """Whether node nests objects/arrays deeper than limit (iterative: safe on any input)."""
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if type(current) is dict:
            children: Any = current.values()
        elif type(current) is list:
            children = current
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


JsonTree = Annotated[Any, PlainValidator(_checked_tree)]

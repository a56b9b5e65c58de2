"""Time native-credential signature verification (the Auro docs' example credential).

    .venv/bin/python bench/verify.py [--runs 500] [--cold] [--pure-python] [--parts]
                                     [--credential PATH]

--cold clears every cache (key hashes, decoded keys, key points, owner hashes) before
each run, as for a credential whose keys and issuer were never seen; --pure-python
runs without gmpy2; --parts also times the pieces (one permutation, one credential
hash, the curve arithmetic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "native_credentials.json"


def load_credential(path: Path | None) -> dict[str, Any]:
    """The credential in path, else the Auro docs' example from the test vectors."""
    if path is not None:
        loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return loaded
    vectors = json.loads(VECTORS.read_text("utf-8"))["vectors"]
    example: dict[str, Any] = json.loads(
        next(vector["json"] for vector in vectors if vector["name"] == "seed_auro_docs")
    )
    return example


def percentile(sorted_times: list[float], fraction: float) -> float:
    return sorted_times[min(len(sorted_times) - 1, int(fraction * len(sorted_times)))]


def measure(
    label: str, action: Callable[[], object], runs: int, before: Callable[[], None]
) -> None:
    """Wall-clock median and p99; the CPU-time median too, which other work on the
    machine disturbs less."""
    action()  # builds the generator table and loads constants outside the timings
    times, cpu_times = [], []
    for _ in range(runs):
        before()
        start, cpu_start = time.perf_counter(), time.process_time()
        action()
        cpu_times.append(time.process_time() - cpu_start)
        times.append(time.perf_counter() - start)
    times.sort()
    print(
        f"{label:<36} median {statistics.median(times) * 1e3:7.3f} ms"
        f"   p99 {percentile(times, 0.99) * 1e3:7.3f} ms   min {times[0] * 1e3:7.3f} ms"
        f"   cpu median {statistics.median(cpu_times) * 1e3:7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--cold", action="store_true", help="clear caches before each run")
    parser.add_argument("--pure-python", action="store_true", help="do not use gmpy2")
    parser.add_argument("--parts", action="store_true", help="also time the pieces")
    parser.add_argument("--credential", type=Path, help="a stored native credential (JSON)")
    arguments = parser.parse_args()
    if arguments.pure_python:
        sys.modules["gmpy2"] = None  # type: ignore[assignment]

    from wallet_rpc.mina import credential_hash, curve, field, keys, poseidon
    from wallet_rpc.mina.signature import verify_native_credential

    def clear_caches() -> None:
        credential_hash._cached_key_hash.cache_clear()
        credential_hash.owner_hash.cache_clear()
        keys.decode_public_key.cache_clear()
        keys._point_of.cache_clear()

    before = clear_caches if arguments.cold else (lambda: None)
    credential = load_credential(arguments.credential)
    if not verify_native_credential(credential):
        raise SystemExit("the example credential does not verify")
    backend = "gmpy2" if field.USING_GMPY2 else "pure Python ints"
    print(f"{backend}, {'cold' if arguments.cold else 'warm'} caches, {arguments.runs} runs")
    measure(
        "verify_native_credential",
        lambda: verify_native_credential(credential),
        arguments.runs,
        before,
    )
    if arguments.parts:
        owner = keys.decode_public_key(credential["credential"]["owner"]["value"])
        data = credential["credential"]["data"]
        state = (field.fast(1), field.fast(2), field.fast(3))
        measure(
            "  one Poseidon permutation", lambda: poseidon._permute(*state), arguments.runs, before
        )
        measure(
            "  credential_hash",
            lambda: credential_hash.credential_hash(owner, data),
            arguments.runs,
            before,
        )
        issuer = keys.decode_public_key(credential["witness"]["issuer"]["value"]).point()
        s, e = (
            0x2F6A2C3B8E1D5F7A9C0B4E6D8F1A3C5E7B9D0F2A4C6E8B1D3F5A7C9E0B2D4F68,
            (0x1B3D5F7A9C0E2F4A6C8E0B1D3F5A7C9E1B3D5F7A9C0E2F4A6C8E0B1D3F5A7C9E),
        )
        measure("  s*G (table)", lambda: curve.generator_mul(s), arguments.runs, before)
        measure("  e*PK (GLV, wNAF)", lambda: curve.scalar_mul(e, issuer), arguments.runs, before)
        measure(
            "  s*G + e*PK", lambda: curve.generator_mul_add(s, e, issuer), arguments.runs, before
        )


if __name__ == "__main__":
    main()

"""The Pallas base field Fp and scalar field Fq, and the integer type the hot loops use.

Poseidon and the curve arithmetic spend their time in 255-bit multiplications and
reductions. gmpy2's mpz does those about 2.5 times faster than Python's int (see
docs/decisions.md), so when gmpy2 is importable the hot loops run on mpz values. mpz
supports every operator used here with int semantics, so the code is typed with int;
values leave this package as plain int (`int(...)`) at the public functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

P = 0x40000000000000000000000000000000224698FC094CF91B992D30ED00000001
Q = 0x40000000000000000000000000000000224698FC0994A8DD8C46EB2100000001

_fast_int: Callable[[int], Any]
_invert: Callable[[int, int], Any]
_powmod: Callable[[int, int, int], Any]
power_each_mod: Callable[[Sequence[int], int, int], Sequence[int]]
"""[pow(base, exponent, modulus) for base in bases], in one call with gmpy2."""

try:
    import gmpy2

    _fast_int, _invert, _powmod = gmpy2.mpz, gmpy2.invert, gmpy2.powmod
    power_each_mod = gmpy2.powmod_base_list
    USING_GMPY2 = True
except ImportError:  # pragma: no cover - exercised by the pure-Python test in a subprocess
    _fast_int, _invert, _powmod = int, lambda value, modulus: pow(value, -1, modulus), pow

    def power_each_mod(bases: Sequence[int], exponent: int, modulus: int) -> Sequence[int]:
        return [pow(base, exponent, modulus) for base in bases]

    USING_GMPY2 = False


def fast(value: int) -> int:
    """value as the hot loops' integer type (gmpy2.mpz when available)."""
    converted: int = _fast_int(value)
    return converted


P_FAST = fast(P)


def inverse_mod_p(value: int) -> int:
    """1/value mod P; value must not be 0 mod P."""
    result: int = _invert(value, P_FAST)
    return result


def pow_mod_p(base: int, exponent: int) -> int:
    result: int = _powmod(base, exponent, P_FAST)
    return result


def is_square_mod_p(value: int) -> bool:
    """Euler's criterion: is value a square (0 included) mod P?"""
    value %= P
    return value == 0 or pow_mod_p(fast(value), (P - 1) // 2) == 1


# Tonelli-Shanks for P - 1 = 2^32 * _ODD_PART, with the discrete logarithm in the
# 2^32-element subgroup found 8 bits at a time from tables instead of by repeated
# squaring: about 50 multiplications after one exponentiation.
_TWO_ADICITY = 32
_ODD_PART = (P - 1) >> _TWO_ADICITY
_WINDOW_BITS = 8
_WINDOWS = _TWO_ADICITY // _WINDOW_BITS
_NON_RESIDUE = 5


class _RootsOfUnity:
    """Tables over z = 5^_ODD_PART, a generator of the 2^32-element subgroup."""

    def __init__(self) -> None:
        generator = pow(_NON_RESIDUE, _ODD_PART, P)
        # inverse_powers[i][k] = z^(-k * 2^(8i))
        self.inverse_powers: list[list[int]] = []
        step = pow(generator, -1, P)
        for _ in range(_WINDOWS):
            row = [1]
            for _ in range(1, 1 << _WINDOW_BITS):
                row.append(row[-1] * step % P)
            self.inverse_powers.append([fast(value) for value in row])
            step = pow(step, 1 << _WINDOW_BITS, P)
        # z^(k * 2^24) -> k: the 2^8-th roots of unity and their logarithms
        top = pow(generator, 1 << (_TWO_ADICITY - _WINDOW_BITS), P)
        self.logarithm_of_top: dict[int, int] = {}
        power = 1
        for exponent in range(1 << _WINDOW_BITS):
            self.logarithm_of_top[power] = exponent
            power = power * top % P

    def logarithm(self, unit: int) -> int | None:
        """e with z^e == unit, for unit in the 2^32-element subgroup; None if it is not."""
        exponent = 0
        for window in range(_WINDOWS):
            projected = unit
            for _ in range(_TWO_ADICITY - _WINDOW_BITS * (window + 1)):
                projected = projected * projected % P_FAST
            digit = self.logarithm_of_top.get(int(projected))
            if digit is None:
                return None
            exponent |= digit << (_WINDOW_BITS * window)
            unit = unit * self.inverse_powers[window][digit] % P_FAST
        return exponent

    def inverse_power(self, exponent: int) -> int:
        """z^(-exponent) for 0 <= exponent < 2^32."""
        result = fast(1)
        mask = (1 << _WINDOW_BITS) - 1
        for window in range(_WINDOWS):
            digit = (exponent >> (_WINDOW_BITS * window)) & mask
            if digit:
                result = result * self.inverse_powers[window][digit] % P_FAST
        return result


_roots: _RootsOfUnity | None = None


def sqrt_mod_p(value: int) -> int | None:
    """A square root of value mod P, or None when there is none."""
    global _roots
    value %= P
    if value == 0:
        return 0
    if _roots is None:
        _roots = _RootsOfUnity()
    x = fast(value)
    w = pow_mod_p(x, (_ODD_PART - 1) // 2)  # x^((t-1)/2)
    candidate = x * w % P_FAST  # x^((t+1)/2)
    unit = candidate * w % P_FAST  # x^t, in the 2^32-element subgroup
    exponent = _roots.logarithm(unit)
    if exponent is None or exponent & 1:
        return None
    # x^t = z^e, so (x^((t+1)/2) * z^(-e/2))^2 = x
    return int(candidate * _roots.inverse_power(exponent >> 1) % P_FAST)

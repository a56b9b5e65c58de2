"""The Pallas base field Fp and scalar field Fq."""

from __future__ import annotations

P = 0x40000000000000000000000000000000224698FC094CF91B992D30ED00000001
Q = 0x40000000000000000000000000000000224698FC0994A8DD8C46EB2100000001


def sqrt_mod_p(value: int) -> int | None:
    """A square root of value mod P (Tonelli-Shanks), or None when there is none."""
    value %= P
    if value == 0:
        return 0
    if pow(value, (P - 1) // 2, P) != 1:
        return None
    odd_part, two_adicity = P - 1, 0
    while odd_part % 2 == 0:
        odd_part //= 2
        two_adicity += 1
    non_residue = 5
    while pow(non_residue, (P - 1) // 2, P) != P - 1:
        non_residue += 1
    m = two_adicity
    c = pow(non_residue, odd_part, P)
    t = pow(value, odd_part, P)
    root = pow(value, (odd_part + 1) // 2, P)
    while t != 1:
        i, t_power = 0, t
        while t_power != 1:
            t_power = t_power * t_power % P
            i += 1
        b = pow(c, 1 << (m - i - 1), P)
        m, c = i, b * b % P
        t = t * c % P
        root = root * b % P
    return root

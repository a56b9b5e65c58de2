"""The Pallas curve y^2 = x^3 + 5 over Fp, a group of prime order Q.

Points are affine (x, y) tuples; None is the point at infinity. The loops work in
Jacobian coordinates, adding affine points from precomputed tables, because an
inversion costs about twelve multiplications (docs/decisions.md has the measurements).

Two fast paths serve signature verification:
- multiples of the generator come from a table of precomputed points (32 windows of
  8 bits: 32 additions, no doublings);
- multiples of any other point split the scalar in two 128-bit halves with the curve's
  endomorphism (x, y) -> (BETA x, y) = LAMBDA (x, y) (the GLV method) and walk both
  halves at once in width-5 non-adjacent form: about 128 doublings and 43 additions.
"""

from __future__ import annotations

from collections.abc import Sequence

from wallet_rpc.mina.field import P_FAST, P, Q, fast, inverse_mod_p

AffinePoint = tuple[int, int]

B = 5
GENERATOR: AffinePoint = (
    1,
    12418654782883325593414442427049395787963493412651469444558597405572177144507,
)

# A primitive cube root of unity in Fp and the one in Fq that it matches:
# (BETA * x, y) == LAMBDA * (x, y) for every point (checked by the tests).
BETA = 0x12CCCA834ACDBA712CAAD5DC57AAB1B01D1F8BD237AD31491DAD5EBDFDFE4AB9
LAMBDA = 0x06819A58283E528E511DB4D81CF70F5A0FED467D47C033AF2AA9D2E050AA0E4F
# A reduced basis of the lattice {(a, b) : a + b * LAMBDA == 0 mod Q}.
_V1 = (
    98231058071186745657228807397848383489,
    -98231058071100081932162823354453065728,
)
_V2 = (
    98231058071100081932162823354453065728,
    196462116142286827589391630752301449217,
)

_BETA_FAST = fast(BETA)
_WNAF_WIDTH = 5
_WNAF_TABLE_SIZE = 1 << _WNAF_WIDTH  # odd digits d live at index d, -d at index -d
_GENERATOR_WINDOW_BITS = 8
_GENERATOR_WINDOWS = (Q.bit_length() + _GENERATOR_WINDOW_BITS - 1) // _GENERATOR_WINDOW_BITS


def is_on_curve(point: AffinePoint) -> bool:
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x - B) % P == 0


def negate(point: AffinePoint | None) -> AffinePoint | None:
    if point is None:
        return None
    x, y = point
    return x, (-y) % P


def _public(point: AffinePoint | None) -> AffinePoint | None:
    return None if point is None else (int(point[0]), int(point[1]))


def _fast_point(point: AffinePoint) -> AffinePoint:
    return fast(point[0]), fast(point[1])


def _double(point: AffinePoint | None) -> AffinePoint | None:
    if point is None:
        return None
    x, y = point
    if not y:
        return None
    xx = x * x
    slope = 3 * xx * inverse_mod_p(2 * y) % P_FAST
    x3 = (slope * slope - 2 * x) % P_FAST
    return x3, (slope * (x - x3) - y) % P_FAST


def _add(left: AffinePoint | None, right: AffinePoint | None) -> AffinePoint | None:
    if left is None:
        return right
    if right is None:
        return left
    x1, y1 = left
    x2, y2 = right
    if x1 == x2:
        return _double(left) if y1 == y2 else None
    slope = (y2 - y1) * inverse_mod_p(x2 - x1) % P_FAST
    x3 = (slope * slope - x1 - x2) % P_FAST
    return x3, (slope * (x1 - x3) - y1) % P_FAST


def add(left: AffinePoint | None, right: AffinePoint | None) -> AffinePoint | None:
    return _public(
        _add(
            None if left is None else _fast_point(left),
            None if right is None else _fast_point(right),
        )
    )


def double(point: AffinePoint | None) -> AffinePoint | None:
    return _public(_double(None if point is None else _fast_point(point)))


# Jacobian coordinates (X, Y, Z) stand for (X / Z^2, Y / Z^3); Z == 0 is infinity.
JacobianPoint = tuple[int, int, int]


def _jacobian_double(point: JacobianPoint) -> JacobianPoint:
    x, y, z = point
    if not z:
        return point
    # y == 0 would be a point of order 2, which a curve of prime order does not have
    yy = y * y % P_FAST
    s = (x * yy << 2) % P_FAST
    m = x * x * 3 % P_FAST
    x3 = (m * m - (s << 1)) % P_FAST
    return x3, (m * (s - x3) - (yy * yy << 3)) % P_FAST, (y * z << 1) % P_FAST


def _jacobian_add_affine(left: JacobianPoint, right: AffinePoint | None) -> JacobianPoint:
    if right is None:
        return left
    x1, y1, z1 = left
    if not z1:
        return right[0], right[1], fast(1)
    zz = z1 * z1 % P_FAST
    h = (right[0] * zz - x1) % P_FAST
    r = (right[1] * zz * z1 - y1) % P_FAST
    if not h:
        return _jacobian_double(left) if not r else (x1, y1, fast(0))
    hh = h * h % P_FAST
    hhh = hh * h % P_FAST
    v = x1 * hh % P_FAST
    x3 = (r * r - hhh - (v << 1)) % P_FAST
    return x3, (r * (v - x3) - y1 * hhh) % P_FAST, z1 * h % P_FAST


def _to_affine(point: JacobianPoint) -> AffinePoint | None:
    x, y, z = point
    if not z:
        return None
    z_inverse = inverse_mod_p(z)
    zz_inverse = z_inverse * z_inverse % P_FAST
    return x * zz_inverse % P_FAST, y * zz_inverse * z_inverse % P_FAST


_JACOBIAN_INFINITY: JacobianPoint = (fast(1), fast(1), fast(0))


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer (denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def glv_split(scalar: int) -> tuple[int, int]:
    """(k1, k2) with k1 + k2 * LAMBDA == scalar mod Q and |k1|, |k2| < 2^128."""
    scalar %= Q
    (a1, b1), (a2, b2) = _V1, _V2
    c1 = _round_div(b2 * scalar, Q)
    c2 = _round_div(-b1 * scalar, Q)
    return scalar - c1 * a1 - c2 * a2, -c1 * b1 - c2 * b2


def _wnaf(scalar: int, length: int) -> list[int]:
    """Width-5 non-adjacent form of 0 <= scalar < 2^(length - 1), least significant first.

    Jumps over runs of zero bits instead of visiting every bit: about 25 steps for a
    128-bit scalar.
    """
    digits = [0] * length
    position = 0
    while scalar:
        zeros = (scalar & -scalar).bit_length() - 1
        scalar >>= zeros
        position += zeros
        digit = scalar & (_WNAF_TABLE_SIZE - 1)
        if digit >= _WNAF_TABLE_SIZE >> 1:
            digit -= _WNAF_TABLE_SIZE
        digits[position] = digit
        # scalar - digit is divisible by 2^5, so the next four digits are zero
        scalar = (scalar - digit) >> _WNAF_WIDTH
        position += _WNAF_WIDTH
    return digits


def _odd_multiples(point: AffinePoint) -> list[AffinePoint | None]:
    """A table t with t[d] = d * point and t[-d] = -d * point for odd 0 < d < 16."""
    table: list[AffinePoint | None] = [None] * _WNAF_TABLE_SIZE
    twice = _double(point)
    current: AffinePoint | None = point
    for digit in range(1, _WNAF_TABLE_SIZE >> 1, 2):
        table[digit] = current
        if current is not None:
            table[-digit] = (current[0], P_FAST - current[1] if current[1] else current[1])
        current = _add(current, twice)
    return table


def _endomorphism_table(table: Sequence[AffinePoint | None]) -> list[AffinePoint | None]:
    return [
        None if entry is None else (entry[0] * _BETA_FAST % P_FAST, entry[1]) for entry in table
    ]


def _negated_table(table: Sequence[AffinePoint | None]) -> list[AffinePoint | None]:
    """The table of -point from the table of point: entries d and -d swap places."""
    return [table[-index] if index else None for index in range(_WNAF_TABLE_SIZE)]


def _scalar_mul_fast(scalar: int, point: AffinePoint) -> JacobianPoint:
    k1, k2 = glv_split(scalar)
    table = _odd_multiples(point)
    table1 = table
    table2 = _endomorphism_table(table)
    if k1 < 0:
        k1, table1 = -k1, _negated_table(table1)
    if k2 < 0:
        k2, table2 = -k2, _negated_table(table2)
    length = max(k1.bit_length(), k2.bit_length()) + 1
    digits1, digits2 = _wnaf(k1, length), _wnaf(k2, length)
    # The doubling and the mixed addition of _jacobian_double / _jacobian_add_affine,
    # written out: this loop is most of the time of a signature verification.
    p = P_FAST
    x, y, z = _JACOBIAN_INFINITY
    for index in range(length - 1, -1, -1):
        if z:
            yy = y * y % p
            s = (x * yy << 2) % p
            m = x * x * 3 % p
            z = (y * z << 1) % p
            x = (m * m - (s << 1)) % p
            y = (m * (s - x) - (yy * yy << 3)) % p
        digit = digits1[index]
        if digit:
            x, y, z = _jacobian_add_affine((x, y, z), table1[digit])
        digit = digits2[index]
        if digit:
            x, y, z = _jacobian_add_affine((x, y, z), table2[digit])
    return x, y, z


def scalar_mul(scalar: int, point: AffinePoint | None) -> AffinePoint | None:
    """scalar * point for any integer scalar (taken mod Q)."""
    if point is None or scalar % Q == 0:
        return None
    return _public(_to_affine(_scalar_mul_fast(scalar, _fast_point(point))))


def _batch_to_affine(points: Sequence[JacobianPoint]) -> list[AffinePoint]:
    """Affine forms of finite Jacobian points with one inversion for all of them
    (Montgomery's trick: invert the product, then peel off one factor at a time)."""
    prefix_products = []
    running = fast(1)
    for _, _, z in points:
        prefix_products.append(running)
        running = running * z % P_FAST
    inverse = inverse_mod_p(running)
    affine: list[AffinePoint] = [(fast(0), fast(0))] * len(points)
    for index in range(len(points) - 1, -1, -1):
        x, y, z = points[index]
        z_inverse = inverse * prefix_products[index] % P_FAST
        inverse = inverse * z % P_FAST
        zz_inverse = z_inverse * z_inverse % P_FAST
        affine[index] = (x * zz_inverse % P_FAST, y * zz_inverse * z_inverse % P_FAST)
    return affine


class _GeneratorTable:
    """rows[w][d - 1] = d * 2^(8w) * G for 1 <= d < 256, 0 <= w < 32."""

    def __init__(self) -> None:
        self.rows: list[list[AffinePoint]] = []
        window_base = _fast_point(GENERATOR)
        for _ in range(_GENERATOR_WINDOWS):
            multiples: list[JacobianPoint] = []
            current: JacobianPoint = (window_base[0], window_base[1], fast(1))
            for _ in range(1, 1 << _GENERATOR_WINDOW_BITS):
                multiples.append(current)
                current = _jacobian_add_affine(current, window_base)
            row = _batch_to_affine(multiples)
            self.rows.append(row)
            next_base = _add(row[-1], window_base)  # 256 * window_base
            assert next_base is not None
            window_base = next_base

    def multiply(self, scalar: int) -> JacobianPoint:
        accumulator = _JACOBIAN_INFINITY
        mask = (1 << _GENERATOR_WINDOW_BITS) - 1
        for row in self.rows:
            digit = scalar & mask
            if digit:
                accumulator = _jacobian_add_affine(accumulator, row[digit - 1])
            scalar >>= _GENERATOR_WINDOW_BITS
        return accumulator


_generator_table: _GeneratorTable | None = None


def _generator_mul_fast(scalar: int) -> JacobianPoint:
    global _generator_table
    if _generator_table is None:
        _generator_table = _GeneratorTable()
    return _generator_table.multiply(scalar % Q)


def generator_mul(scalar: int) -> AffinePoint | None:
    """scalar * GENERATOR, from the precomputed table (built on first use)."""
    return _public(_to_affine(_generator_mul_fast(scalar)))


def generator_mul_add_jacobian(
    generator_scalar: int, scalar: int, point: AffinePoint
) -> JacobianPoint:
    """generator_scalar * GENERATOR + scalar * point, left in Jacobian coordinates."""
    from_point = _scalar_mul_fast(scalar, _fast_point(point))
    affine = _to_affine(_generator_mul_fast(generator_scalar))
    return from_point if affine is None else _jacobian_add_affine(from_point, affine)


def generator_mul_add(
    generator_scalar: int, scalar: int, point: AffinePoint | None
) -> AffinePoint | None:
    """generator_scalar * GENERATOR + scalar * point."""
    if point is None:
        return generator_mul(generator_scalar)
    return _public(_to_affine(generator_mul_add_jacobian(generator_scalar, scalar, point)))

"""JSON numbers as JavaScript has them: the double JSON.parse makes, the text JSON.stringify writes.

JavaScript reads every JSON number as a double (12345678901234567890 becomes
12345678901234567168) and writes a double with the shortest digits that read
back to it, in Number.prototype.toString's form: plain digits up to 21 digits
before the point, "0.000001" down to 1e-6, an exponent beyond ("1e+21",
"1e-7"), and -0 as 0. Python's json writes the same digits in another form
(1e-07, 1e+16), so the stored form asks this module how to write a number.
"""

from __future__ import annotations

import math

__all__ = [
    "SAFE_INTEGER_LIMIT",
    "JavaScriptNumber",
    "as_javascript_number",
    "javascript_number_text",
]

# Every integer up to 2^53 is a double whose shortest digits are the integer's own.
SAFE_INTEGER_LIMIT = 2**53
# Number.prototype.toString writes plain digits for decimal exponents below 21, and
# exponents below -6 in exponent form.
_MAX_PLAIN_DIGITS = 21
_MIN_PLAIN_POINT = -5


class JavaScriptNumber(float):
    """A double that JavaScript writes otherwise than Python's json (1e-7, 0.00001)."""

    __slots__ = ()


def _shortest_digits(value: float) -> tuple[str, int]:
    """Digits d1..dk (no leading or trailing zero) and n with value = 0.d1..dk * 10^n.

    Python's repr gives the shortest digits that read back to the double, the ones
    nearest to it where several are as short: the digits ECMAScript asks for.
    """
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def javascript_number_text(value: float) -> str:
    """JSON.stringify's text for a finite double (ValueError for NaN and infinities)."""
    if not math.isfinite(value):
        raise ValueError("number must be finite")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    length = len(digits)
    if length <= point <= _MAX_PLAIN_DIGITS:
        return sign + digits + "0" * (point - length)
    if 0 < point <= _MAX_PLAIN_DIGITS:
        return sign + digits[:point] + "." + digits[point:]
    if _MIN_PLAIN_POINT <= point <= 0:
        return sign + "0." + "0" * -point + digits
    exponent = point - 1
    mantissa = digits if length == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def as_javascript_number(number: int | float) -> int | float:
    """The double JSON.parse makes of number, as a value Python's json writes as JavaScript does.

    An int where JavaScript writes integer digits (12345678901234567890 gives
    12345678901234567000, 1.0 gives 1, -0.0 gives 0), a float where Python's own text
    is JavaScript's (0.1, 1e+21), else a JavaScriptNumber. number itself when it
    already is that value. OverflowError beyond the doubles' range (JavaScript would
    read Infinity), ValueError for NaN and infinities.
    """
    if type(number) is int and -SAFE_INTEGER_LIMIT <= number <= SAFE_INTEGER_LIMIT:
        return number
    double = float(number)
    text = javascript_number_text(double)
    if "." not in text and "e" not in text:
        integer = int(text)
        return number if type(number) is int and number == integer else integer
    if text == float.__repr__(double):
        return number if type(number) is float else double
    return JavaScriptNumber(double)

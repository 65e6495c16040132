"""Resource quantities exactly as Kubernetes parses, compares and prints them.

Models ``resource.Quantity`` (k8s.io/apimachinery/pkg/api/resource: quantity.go,
suffix.go, amount.go, math.go, scale_int.go). A quantity is the exact number
``unscaled * 10**exp`` (upstream's ``int64Amount{value, scale}`` or an ``inf.Dec``
with unscaled value and scale ``-exp``), the format its suffix was written in, and,
as upstream, the input string itself when ``ParseQuantity`` judged it canonical:
``String()`` returns that string, so ``"+1"`` and ``"1.500"`` print back as written
(kubernetes/kubernetes#138165); otherwise ``String()`` keeps what it computes.

Deliberate differences, none visible for quantities a manifest would hold:
``value()``/``milli_value()``/``scaled_value()`` saturate at the int64 bounds like the
int64 path (the inf.Dec path's overflow is undefined upstream); whether upstream
backs a value with int64 or inf.Dec is not tracked (a sum with a zero keeps the
other operand's scale, as on the int64 path; only ``as_float``'s last bit could
tell); a parsed value above 10**308 keeps its short scale instead of being rescaled
to nano (its float is infinite either way); scales are exact Python ints, without
upstream's int32 wrap-around near +-2**31.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Final, NoReturn

from kbook.errors import QuantityError

__all__ = [
    "Quantity",
    "parse_quantity",
    "DECIMAL_EXPONENT",
    "BINARY_SI",
    "DECIMAL_SI",
    "NANO",
    "MICRO",
    "MILLI",
    "KILO",
    "MEGA",
    "GIGA",
    "TERA",
    "PETA",
    "EXA",
]

# Format (quantity.go).
DECIMAL_EXPONENT: Final = "DecimalExponent"  # e.g. 12e6
BINARY_SI: Final = "BinarySI"  # e.g. 12Mi (12 * 2^20)
DECIMAL_SI: Final = "DecimalSI"  # e.g. 12M (12 * 10^6)
_FORMATS: Final = (DECIMAL_EXPONENT, BINARY_SI, DECIMAL_SI)

# Scale constants (amount.go): powers of ten for scaled_value() and from_scaled().
NANO: Final = -9
MICRO: Final = -6
MILLI: Final = -3
KILO: Final = 3
MEGA: Final = 6
GIGA: Final = 9
TERA: Final = 12
PETA: Final = 15
EXA: Final = 18

# Parse errors, word for word (quantity.go ErrFormatWrong, ErrNumeric, ErrSuffix).
_SPLIT_RE_STRING: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG: Final = "quantities must match the regular expression '" + _SPLIT_RE_STRING + "'"
ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
ERR_SUFFIX: Final = "unable to parse quantity's suffix"

_MAX_INT64_FACTORS: Final = 18  # math.go maxInt64Factors: decimal digits kept on the int64 path
_MOST_POSITIVE: Final = 2**63 - 1
_MOST_NEGATIVE: Final = -(2**63)
_MAX_INT32: Final = 2**31 - 1
_MAX_FLOAT_EXP: Final = 308  # past 10**308 every float64 is infinite

_DIGITS: Final = "0123456789"
_SUFFIX_CHARS: Final = "eEinumkKMGTP"
_EXPONENT_RE: Final = re.compile(r"([+-]?)0*([0-9]+)")

# suffix.go newSuffixer: suffix -> exponent, per base.
_DECIMAL_SUFFIXES: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX_OF: Final = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIX_OF: Final = {e // 10: s for s, e in _BINARY_SUFFIXES.items()}  # keyed by power of 1024

# Go's math.Pow10 tables (math/pow10.go): AsApproximateFloat64 multiplies by them.
_POW10_TAB: Final = [float(10**i) for i in range(32)]
_POW10_POS32: Final = [float(f"1e{32 * i}") for i in range(10)]
_POW10_NEG32: Final = [float(f"1e-{32 * i}") for i in range(11)]


def _go_pow10(n: int) -> float:
    """Go's ``math.Pow10``, bit for bit."""
    if 0 <= n <= 308:
        return _POW10_POS32[n // 32] * _POW10_TAB[n % 32]
    if -323 <= n < 0:
        return _POW10_NEG32[-n // 32] / _POW10_TAB[-n % 32]
    return math.inf if n > 0 else 0.0


def _int(digits: str) -> int:
    """Decimal digits to an int, however many (CPython limits int(str) to 4300 digits)."""
    return int(Decimal(digits))


def _str(n: int) -> str:
    """An int's decimal digits, however many."""
    return str(Decimal(n))


def _ndigits(n: int) -> int:
    """How many decimal digits a non-zero int has."""
    return Decimal(n).adjusted() + 1


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _fail(s: str, reason: str) -> NoReturn:
    """MustParse's panic text: ``cannot parse '<input>': <error>``."""
    raise QuantityError(f"cannot parse '{s}': {reason}")


def _parse_quantity_string(s: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: (positive, value, num, denom, suffix) of a quantity string.

    ``num`` has its leading zeros stripped ("0" if none is left), ``value`` is the
    signed numeric prefix as written. Raises ErrFormatWrong for trailing junk.
    """
    positive, pos, end = True, 0, len(s)
    if pos < end and s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while True:  # strip leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    start = pos
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos >= end:
        return positive, s, s[start:], "", ""
    num = s[start:pos] or "0"
    denom = ""
    if s[pos] == ".":  # "1." and "1.G" are allowed, as upstream
        pos += 1
        denom_start = pos
        while pos < end and s[pos] in _DIGITS:
            pos += 1
        denom = s[denom_start:pos]
        if pos >= end:
            return positive, s, num, denom, ""
    value, suffix_start = s[:pos], pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        _fail(s, ERR_FORMAT_WRONG)
    return positive, value, num, denom, s[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str] | None:
    """``quantitySuffixer.interpret``: (base, exponent, format) of a suffix, or None.

    Decimal exponents must fit [-MaxInt32, MaxInt32] (kubernetes/kubernetes#141203).
    """
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        match = _EXPONENT_RE.fullmatch(suffix, 1)
        if match and len(match[2]) <= 10:
            exponent = int(match[1] + match[2])
            if -_MAX_INT32 <= exponent <= _MAX_INT32:
                return 10, exponent, DECIMAL_EXPONENT
    return None


def _round_to_nano(unscaled: int, exp: int) -> tuple[int, int]:
    """``inf.Dec.Round(amount, Nano, inf.RoundUp)`` for a positive amount: rescale to 10**-9,
    rounding any finer part up, so a request for some resource never becomes zero.
    Past 10**308 the short scale is kept (the only difference would be as_float's inf)."""
    if exp >= NANO:
        if exp > _MAX_FLOAT_EXP:
            return unscaled, exp
        return unscaled * 10 ** (exp - NANO), NANO
    drop = NANO - exp
    if _ndigits(unscaled) <= drop:
        return 1, NANO
    quotient, remainder = divmod(unscaled, 10**drop)
    return quotient + (remainder != 0), NANO


def parse_quantity(s: str) -> Quantity:
    """``resource.ParseQuantity`` (errors worded as ``MustParse``'s panic).

    No whitespace is trimmed (only UnmarshalJSON trims). Raises QuantityError, and
    nothing else, for any input that is not a quantity string.
    """
    if not isinstance(s, str):
        raise QuantityError(f"cannot parse a {type(s).__name__}: a quantity must be a string")
    s = str.__str__(s)
    if not s:
        _fail(s, ERR_FORMAT_WRONG)
    if s == "0":
        return Quantity._make(0, 0, DECIMAL_SI, s)

    positive, value, num, denom, suffix = _parse_quantity_string(s)
    interpreted = _interpret(suffix)
    if interpreted is None:
        _fail(s, ERR_SUFFIX)
    base, exponent, fmt = interpreted

    # Fast path (upstream's int64Amount): few enough digits and no finer than nano.
    # The digit limits keep num * 2**exponent well inside int64.
    if fmt == BINARY_SI:
        precision = 15 - len(num) - exponent * 3 // 10 - 1 if not denom else -1
        scale, mantissa = 0, 1 << exponent
    else:
        precision = _MAX_INT64_FACTORS - len(num) - len(denom)
        scale, mantissa = exponent, 1
    if precision >= 0:
        scale -= len(denom)
        if scale >= NANO:
            shifted = num + denom
            digits = int(shifted)
            result = digits * mantissa if positive else -digits * mantissa
            # Reuse the input as String() when it looks canonical (upstream's test, as is).
            if fmt == BINARY_SI:
                canonical = exponent % 10 == 0 and digits & 0x07 != 0
            else:
                canonical = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
            return Quantity._make(result, scale, fmt, s if canonical else "")

    # Slow path (upstream's inf.Dec): exact, then rounded up to nano.
    if not any(c in _DIGITS for c in value):  # inf.Dec.SetString: "no digits read"
        _fail(s, ERR_NUMERIC)
    unscaled, exp = _int(num + denom), -len(denom)
    if base == 10:
        exp += exponent
    else:
        unscaled <<= exponent
    if unscaled:
        unscaled, exp = _round_to_nano(unscaled, exp)
    if fmt == BINARY_SI:
        if Quantity._make(unscaled, exp, fmt, "").cmp(_MAX_INT64_QUANTITY) > 0:
            unscaled, exp = _MOST_POSITIVE, 0  # a binary quantity is capped at 2^63-1
        elif unscaled and exp < 0 and _ndigits(unscaled) <= -exp:
            fmt = DECIMAL_SI  # 0 < amount < 1: "avoids rounding and hopefully confusion"
    return Quantity._make(unscaled if positive else -unscaled, exp, fmt, "")


class Quantity:
    """``resource.Quantity``: an exact fixed-point number and the format to print it in.

    Immutable and hashable; ``==``, ``<`` and ``hash`` go by value (``Cmp``), never by
    format. ``str()`` is ``String()``; ``Quantity("100m")`` parses like ``parse``.
    """

    __slots__ = ("_unscaled", "_exp", "_format", "_s")
    _unscaled: int
    _exp: int
    _format: str
    _s: str

    def __new__(cls, s: str) -> Quantity:
        return parse_quantity(s)

    @classmethod
    def _make(cls, unscaled: int, exp: int, fmt: str, s: str) -> Quantity:
        q = object.__new__(cls)
        object.__setattr__(q, "_unscaled", unscaled)
        object.__setattr__(q, "_exp", exp)
        object.__setattr__(q, "_format", fmt)
        object.__setattr__(q, "_s", s)
        return q

    # -- construction -------------------------------------------------------------

    @classmethod
    def parse(cls, s: str) -> Quantity:
        """``resource.ParseQuantity``; see :func:`parse_quantity`."""
        return parse_quantity(s)

    @classmethod
    def from_scaled(cls, value: int, scale: int, format: str = DECIMAL_SI) -> Quantity:
        """``NewScaledQuantity``: ``value * 10**scale`` (upstream always DecimalSI)."""
        if not isinstance(value, int) or isinstance(value, bool) or not isinstance(scale, int):
            raise QuantityError(f"quantity value and scale must be ints, not {value!r} and {scale!r}")
        if format not in _FORMATS:
            raise QuantityError(f"unknown quantity format {format!r}: must be one of {', '.join(_FORMATS)}")
        return cls._make(value, scale, format, "")

    @classmethod
    def from_int(cls, value: int, format: str = DECIMAL_SI) -> Quantity:
        """``NewQuantity(value, format)``."""
        return cls.from_scaled(value, 0, format)

    @classmethod
    def from_milli(cls, milli: int, format: str = DECIMAL_SI) -> Quantity:
        """``NewMilliQuantity(milli, format)``: ``milli / 1000``."""
        return cls.from_scaled(milli, MILLI, format)

    # -- values -------------------------------------------------------------------

    @property
    def format(self) -> str:
        """The ``Format`` the quantity prints in: DecimalSI, BinarySI or DecimalExponent."""
        return self._format

    def is_zero(self) -> bool:
        """``IsZero``."""
        return self._unscaled == 0

    def sign(self) -> int:
        """``Sign``: -1, 0 or 1."""
        return _sign(self._unscaled)

    def as_fraction(self) -> Fraction:
        """The exact value."""
        if self._exp >= 0:
            return Fraction(self._unscaled * 10**self._exp)
        return Fraction(self._unscaled, 10**-self._exp)

    def scaled_value(self, scale: int) -> int:
        """``ScaledValue``: ``q / 10**scale`` rounded away from zero, e.g. 1.5 -> 2, -1.5 -> -2.

        Saturates at the int64 bounds, as upstream's int64 path does.
        """
        unscaled, shift = self._unscaled, self._exp - scale
        if unscaled == 0:
            return 0
        if shift >= 0:
            if _ndigits(unscaled) + shift > 19:  # at least 10**19 > MaxInt64
                return _MOST_POSITIVE if unscaled > 0 else _MOST_NEGATIVE
            result = unscaled * 10**shift
        elif _ndigits(unscaled) <= -shift:  # |q| < 10**scale: rounds away to +-1
            return _sign(unscaled)
        else:
            quotient, remainder = divmod(abs(unscaled), 10**-shift)
            result = _sign(unscaled) * (quotient + (remainder != 0))
        return min(max(result, _MOST_NEGATIVE), _MOST_POSITIVE)

    def value(self) -> int:
        """``Value``: the value rounded away from zero to an integer."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """``MilliValue``: ``q * 1000`` rounded away from zero."""
        return self.scaled_value(MILLI)

    def as_float(self) -> float:
        """``AsApproximateFloat64``: ``float(unscaled) * math.Pow10(exponent)``, as Go computes it."""
        if self._unscaled == 0:
            return 0.0
        try:
            base = float(self._unscaled)
        except OverflowError:
            base = math.inf if self._unscaled > 0 else -math.inf
        if self._exp == 0:
            return base
        return base * _go_pow10(self._exp)

    # -- comparison -----------------------------------------------------------------

    def cmp(self, other: Quantity) -> int:
        """``Cmp``: -1, 0 or 1 as self is less than, equal to or greater than other."""
        a, b = self._unscaled, other._unscaled
        if _sign(a) != _sign(b) or a == 0:
            return _sign(_sign(a) - _sign(b))
        if self._exp == other._exp:
            return _sign(a - b)
        # Same sign: the position of the leading digit decides before any alignment
        # (upstream's cmpDec), so 1e2000000000 compares without building 10**2000000000.
        top_a, top_b = self._exp + _ndigits(a), other._exp + _ndigits(b)
        if top_a != top_b:
            return _sign(a) if top_a > top_b else -_sign(a)
        exp = min(self._exp, other._exp)
        return _sign(a * 10 ** (self._exp - exp) - b * 10 ** (other._exp - exp))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.cmp(other) == 0

    def __lt__(self, other: Quantity) -> bool:
        return self.cmp(other) < 0 if isinstance(other, Quantity) else NotImplemented

    def __le__(self, other: Quantity) -> bool:
        return self.cmp(other) <= 0 if isinstance(other, Quantity) else NotImplemented

    def __gt__(self, other: Quantity) -> bool:
        return self.cmp(other) > 0 if isinstance(other, Quantity) else NotImplemented

    def __ge__(self, other: Quantity) -> bool:
        return self.cmp(other) >= 0 if isinstance(other, Quantity) else NotImplemented

    def __hash__(self) -> int:
        unscaled, exp = self._unscaled, self._exp
        if unscaled == 0:
            return hash((0, 0))
        while unscaled % 10 == 0:
            unscaled, exp = unscaled // 10, exp + 1
        return hash((unscaled, exp))

    # -- arithmetic -------------------------------------------------------------------

    def _plus(self, unscaled: int, exp: int, fmt: str) -> Quantity:
        """``Add`` of another amount (``int64Amount.Add``): a zero receiver takes the other's
        format; the sum keeps the finer scale."""
        if self._unscaled:
            fmt = self._format
        if unscaled == 0:
            return Quantity._make(self._unscaled, self._exp, fmt, "")
        if self._unscaled == 0:
            return Quantity._make(unscaled, exp, fmt, "")
        low = min(self._exp, exp)
        total = self._unscaled * 10 ** (self._exp - low) + unscaled * 10 ** (exp - low)
        return Quantity._make(total, low, fmt, "")

    def __add__(self, other: Quantity) -> Quantity:
        """``Add``."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._plus(other._unscaled, other._exp, other._format)

    def __radd__(self, other: object) -> Quantity:
        """``0 + q``, so that ``sum()`` works."""
        if type(other) is int and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Quantity) -> Quantity:
        """``Sub``: ``0 - y`` is ``-y`` in y's format."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._plus(-other._unscaled, other._exp, other._format)

    def __neg__(self) -> Quantity:
        """``Neg``."""
        return Quantity._make(-self._unscaled, self._exp, self._format, "")

    # -- printing ---------------------------------------------------------------------

    def _canonical_decimal(self) -> tuple[str, int]:
        """``AsCanonicalBytes``: mantissa digits and an exponent that is a multiple of 3,
        as large as possible with no fractional digits."""
        digits = _str(abs(self._unscaled))
        stripped = digits.rstrip("0")
        exp = self._exp + len(digits) - len(stripped)
        pad = exp % 3
        return ("-" if self._unscaled < 0 else "") + stripped + "0" * pad, exp - pad

    def _canonical_binary(self) -> str | None:
        """BinarySI's canonical form: an integer times a power of 1024 with its suffix,
        or None when the value must be printed as DecimalSI instead."""
        if self.cmp(_MINUS_1024) > 0 and self.cmp(_PLUS_1024) < 0:
            return None
        if self._exp >= 0:
            value = self._unscaled * 10**self._exp
        else:
            value, fraction = divmod(self._unscaled, 10**-self._exp)
            if fraction:
                return None  # don't lose precision: show as DecimalSI
        magnitude, power = abs(value), 0
        while magnitude % 1024 == 0:
            magnitude, power = magnitude // 1024, power + 1
        if power == 0:
            return _str(value)
        if power not in _BINARY_SUFFIX_OF:  # past Ei: exact decimal (kubernetes/kubernetes#140459)
            number, exp = self._canonical_decimal()
            return number + (f"e{exp}" if exp else "")
        return ("-" if value < 0 else "") + _str(magnitude) + _BINARY_SUFFIX_OF[power]

    def __str__(self) -> str:
        """``String()``: the cached string (the input, if parsing judged it canonical), else
        ``CanonicalizeBytes``, cached as upstream caches it in ``q.s``."""
        if not self._s:
            object.__setattr__(self, "_s", self._canonical_string())
        return self._s

    def _canonical_string(self) -> str:
        """``CanonicalizeBytes``: number and suffix."""
        if self._unscaled == 0:
            return "0"
        if self._format == BINARY_SI:
            binary = self._canonical_binary()
            if binary is not None:
                return binary
        number, exp = self._canonical_decimal()
        if self._format != DECIMAL_EXPONENT and exp in _DECIMAL_SUFFIX_OF:
            return number + _DECIMAL_SUFFIX_OF[exp]
        return number + (f"e{exp}" if exp else "")  # DecimalSI past E or below n falls back too

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # -- immutability -------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Quantity is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Quantity is immutable")

    def __copy__(self) -> Quantity:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Quantity:
        return self

    def __reduce__(self) -> tuple[object, tuple[int, int, str, str]]:
        return (Quantity._make, (self._unscaled, self._exp, self._format, self._s))


_MAX_INT64_QUANTITY: Final = Quantity._make(_MOST_POSITIVE, 0, DECIMAL_SI, "")
_PLUS_1024: Final = Quantity._make(1024, 0, DECIMAL_SI, "")
_MINUS_1024: Final = Quantity._make(-1024, 0, DECIMAL_SI, "")

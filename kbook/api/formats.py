"""String formats Kubernetes checks field values against, with its exact messages.

``k8s.io/apimachinery/pkg/util/validation/validation.go`` and
``api/validate/content`` (IsDNS1123Label, IsDNS1123Subdomain, IsDNS1035Label,
IsQualifiedName, IsValidLabelValue, IsValidPortNum, IsValidPortName,
IsValidPercent, IsRelaxedEnvVarName, IsValidIP, IsValidCIDR) and
``api/validation/path`` (IsValidPathSegmentName). Each returns the list of
problems, empty when the value is fine. Lengths are byte lengths, as Go's ``len``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable

__all__ = [
    "byte_len",
    "regex_error",
    "max_len_error",
    "inclusive_range_error",
    "EMPTY_ERROR",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_dns1035_label",
    "is_qualified_name",
    "is_valid_label_value",
    "is_valid_port_num",
    "is_valid_port_name",
    "is_valid_percent",
    "is_relaxed_env_var_name",
    "is_valid_ip",
    "parse_ip_sloppy",
    "is_http_header_name",
    "is_valid_cidr",
    "cidr_family",
    "is_valid_path_segment_name",
]

EMPTY_ERROR = "must be non-empty"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``RegexError``."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    """``MaxLenError``."""
    return f"must be no more than {length} characters"


def inclusive_range_error(lo: int, hi: int) -> str:
    """``InclusiveRangeError``."""
    return f"must be between {lo} and {hi}, inclusive"


def byte_len(s: str) -> int:
    """Go's ``len`` of a string: its UTF-8 byte count."""
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def _memoised(check: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """A pure check of a string, remembered for the last few thousand strings (a cluster's
    names, keys and values repeat on every write); each call gets a list of its own."""
    remembered = functools.lru_cache(maxsize=8192)(lambda value: tuple(check(value)))

    @functools.wraps(check)
    def memoised(value: str) -> list[str]:
        return list(remembered(value))

    return memoised


def _full(rx: re.Pattern[str], s: str) -> bool:
    return rx.fullmatch(s) is not None


DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_ERR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_DNS1123_LABEL = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(DNS1035_LABEL_FMT)


@_memoised
def is_dns1123_label(value: str) -> list[str]:
    """``IsDNS1123Label``: at most 63 characters, ``[a-z0-9]([-a-z0-9]*[a-z0-9])?``."""
    errs = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not _full(_DNS1123_LABEL, value):
        if _full(_DNS1123_SUBDOMAIN, value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


@_memoised
def is_dns1123_subdomain(value: str) -> list[str]:
    """``IsDNS1123Subdomain``: at most 253 characters, dot-separated RFC 1123 labels."""
    errs = []
    if byte_len(value) > 253:
        errs.append(max_len_error(253))
    if not _full(_DNS1123_SUBDOMAIN, value):
        errs.append(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


@_memoised
def is_dns1035_label(value: str) -> list[str]:
    """``IsDNS1035Label`` (Service names): at most 63 characters, starting with a letter."""
    errs = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not _full(_DNS1035_LABEL, value):
        errs.append(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_FMT)


@_memoised
def is_qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: an optional DNS subdomain prefix and ``/``, then a name of at
    most 63 characters (label keys, annotation keys, taint keys, resource names)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + EMPTY_ERROR)
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part " + EMPTY_ERROR)
    elif byte_len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _full(_QUALIFIED_NAME, name):
        errs.append("name part " + regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT)


@_memoised
def is_valid_label_value(value: str) -> list[str]:
    """``IsValidLabelValue``: empty, or at most 63 characters of ``[-A-Za-z0-9_.]``."""
    errs = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not _full(_LABEL_VALUE, value):
        errs.append(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_valid_port_num(port: int) -> list[str]:
    """``IsValidPortNum``: 1-65535."""
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


_PORT_NAME_CHARSET = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile("[a-z]")


@_memoised
def is_valid_port_name(port: str) -> list[str]:
    """``IsValidPortName`` (IANA_SVC_NAME): at most 15 of ``[-a-z0-9]`` with a letter."""
    errs = []
    if byte_len(port) > 15:
        errs.append(max_len_error(15))
    if not _full(_PORT_NAME_CHARSET, port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


PERCENT_FMT = "[0-9]+%"
_PERCENT = re.compile(PERCENT_FMT)


def is_valid_percent(percent: str) -> list[str]:
    """``IsValidPercent``: digits followed by ``%``."""
    if _full(_PERCENT, percent):
        return []
    return [
        regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, "1%", "93%"
        )
    ]


@_memoised
def is_relaxed_env_var_name(value: str) -> list[str]:
    """``IsRelaxedEnvVarName`` (RelaxedEnvironmentVariableValidation, GA): printable ASCII but ``=``."""
    errs = []
    if not value:
        errs.append("environment variable name " + EMPTY_ERROR)
    if any(not (" " <= ch <= "~") or ch == "=" for ch in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    return errs


def parse_ip_sloppy(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``netutils.ParseIPSloppy``: Go's ``net.ParseIP`` that also accepts leading zeros."""
    if "." in value and ":" not in value:
        parts = value.split(".")
        if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
            return None
        octets = [int(p, 10) for p in parts]
        return ipaddress.IPv4Address(".".join(map(str, octets))) if max(octets) <= 255 else None
    if "%" in value:  # Go's ParseIP rejects zones
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER_NAME = re.compile(HTTP_HEADER_NAME_FMT)


def is_http_header_name(value: str) -> list[str]:
    """``IsHTTPHeaderName``."""
    if _full(_HTTP_HEADER_NAME, value):
        return []
    msg = "a valid HTTP header must consist of alphanumeric characters or '-'"
    return [regex_error(msg, HTTP_HEADER_NAME_FMT, "X-Header-Name")]


def is_valid_ip(value: str) -> list[str]:
    """``IsValidIP``."""
    if parse_ip_sloppy(value) is None:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


def is_valid_cidr(value: str) -> list[str]:
    """``IsValidCIDR``."""
    addr, sep, bits = value.partition("/")
    ok = bool(sep) and parse_ip_sloppy(addr) is not None and bits.isascii() and bits.isdigit()
    if ok:
        width = 32 if "." in addr and ":" not in addr else 128
        ok = len(bits) <= 3 and int(bits) <= width
    return [] if ok else ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]


def cidr_family(value: str) -> int:
    """4 or 6 for a valid CIDR (``netutils.IsIPv6CIDRString``)."""
    return 6 if ":" in value.partition("/")[0] else 4


def is_valid_path_segment_name(name: str) -> list[str]:
    """``path.IsValidPathSegmentName``: not ``.`` or ``..``, no ``/`` or ``%``."""
    for illegal in (".", ".."):
        if name == illegal:
            return [f"may not be '{illegal}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]

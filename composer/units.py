"""Sizes as docker prints them (go-units' ``HumanSize``/``BytesSize``) and durations as Go reads and
docker prints them: one place for the CLI, the image store and the runtime's stats. Imports nothing."""

from __future__ import annotations

DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def custom_size(size: float, base: float, units: tuple[str, ...], precision: int) -> str:
    """go-units' CustomSize: ``size`` scaled by ``base`` until below it, ``%.<precision>g<unit>``."""
    index = 0
    while size >= base and index < len(units) - 1:
        size /= base
        index += 1
    return f"{size:.{precision}g}{units[index]}"


def human_size(size: float) -> str:
    """Decimal units, 3 significant digits (image sizes, NET I/O, BLOCK I/O): ``4.26MB``."""
    return custom_size(size, 1000.0, DECIMAL_UNITS, 3)


def bytes_size(size: float) -> str:
    """Binary units, 4 significant digits (docker's MEM USAGE / LIMIT): ``1.5MiB``."""
    return custom_size(size, 1024.0, BINARY_UNITS, 4)


def human_duration(seconds: float) -> str:
    """go-units' ``HumanDuration`` (docker's ``Up 2 hours``, ``5 minutes ago``): seconds and minutes
    truncated, hours rounded half up; days, weeks and months from the rounded hours, years from the
    truncated ones."""
    whole, minutes, hours = int(seconds), int(seconds / 60), int(seconds / 3600 + 0.5)
    if whole < 1:
        return "Less than a second"
    if whole < 60:
        return "1 second" if whole == 1 else f"{whole} seconds"
    if minutes < 60:
        return "About a minute" if minutes == 1 else f"{minutes} minutes"
    if hours < 48:
        return "About an hour" if hours == 1 else f"{hours} hours"
    for limit, size, unit in ((24 * 14, 24, "days"), (24 * 60, 24 * 7, "weeks"), (24 * 730, 24 * 30, "months")):
        if hours < limit:
            return f"{hours // size} {unit}"
    return f"{int(seconds / 3600) // 24 // 365} years"


GO_DURATION_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
DAYS_WEEKS_NS = {**GO_DURATION_NS, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}  # Compose's str2duration


def duration_ns(text: str, units: dict[str, int] = GO_DURATION_NS) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds: a sign, then numbers each with one of ``units``
    (``1m30s``, ``1.5h``, ``.5s``), or ``0``; ValueError for anything else (an overflow too)."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body[1:] if body.startswith(("-", "+")) else body
    if body == "0":
        return 0
    names = sorted(units, key=len, reverse=True)
    total, rest = 0.0, body
    while rest:
        length = len(rest) - len(rest.lstrip("0123456789."))
        number, rest = rest[:length], rest[length:]
        unit = next((name for name in names if rest.startswith(name)), None)
        if unit is None or number.count(".") > 1 or not number.strip("."):
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        rest = rest[len(unit):]
    if not body or total >= 2**63:
        raise ValueError(f"invalid duration {text!r}")
    return sign * int(round(total))


def go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` (no sign): ``30s``, ``1m30s``, ``500ms``, ``1.5h``, ``0`` -> seconds;
    ValueError for anything else."""
    if text.strip().startswith(("-", "+")):
        raise ValueError(f"invalid duration {text!r}")
    return duration_ns(text) / 1e9


def format_duration(ns: int) -> str:
    """Nanoseconds as Go's ``time.Duration.String()`` prints them: ``1m30s``, ``1.5s``, ``300ms``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size if size > 1 else ns) + unit
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _trim(rest / 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim(number: float) -> str:
    """A number with up to nine decimals, its trailing zeros (and point) dropped."""
    text = f"{number:.9f}".rstrip("0").rstrip(".")
    return text or "0"

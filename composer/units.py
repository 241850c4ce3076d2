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


DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` (no sign): ``30s``, ``1m30s``, ``500ms``, ``1.5h``, ``0`` -> seconds;
    ValueError for anything else."""
    rest, total = text.strip(), 0.0
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f"invalid duration {text!r}")
    while rest:
        number = ""
        while rest and (rest[0].isdigit() or rest[0] == "."):
            number, rest = number + rest[0], rest[1:]
        unit = next((u for u in sorted(DURATION_UNITS, key=len, reverse=True) if rest.startswith(u)), None)
        if not number or unit is None:
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * DURATION_UNITS[unit]
        rest = rest[len(unit):]
    return total

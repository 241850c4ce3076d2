"""Sizes as docker prints them (go-units' ``HumanSize``/``BytesSize``): one place for the CLI and
the runtime's stats. Imports nothing."""

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

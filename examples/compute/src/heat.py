"""Heat diffusion on a square plate (explicit finite differences, NumPy).

The top edge is held at 100 degrees, the other edges at 0; after ``--steps`` steps the script
writes ``out/heat.json`` (figures) and ``out/heat.pgm`` (the temperature field as a greyscale
image any viewer opens) and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def solve(size: int, steps: int, alpha: float = 0.24) -> np.ndarray:
    """The temperature field after ``steps`` explicit steps (stable for alpha <= 0.25)."""
    field = np.zeros((size, size))
    field[0, :] = 100.0
    for _ in range(steps):
        inner = field[1:-1, 1:-1]
        field[1:-1, 1:-1] = inner + alpha * (field[:-2, 1:-1] + field[2:, 1:-1] + field[1:-1, :-2]
                                             + field[1:-1, 2:] - 4 * inner)
    return field


def write_pgm(field: np.ndarray, path: str) -> None:
    """The field as an 8-bit binary PGM (0 degrees black, 100 white)."""
    pixels = np.clip(field / 100.0 * 255, 0, 255).astype(np.uint8)
    with open(path, "wb") as handle:
        handle.write(f"P5 {pixels.shape[1]} {pixels.shape[0]} 255\n".encode())
        handle.write(pixels.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default="out")
    options = parser.parse_args()
    started = time.perf_counter()
    field = solve(options.size, options.steps)
    seconds = time.perf_counter() - started
    os.makedirs(options.out, exist_ok=True)
    centre = float(field[options.size // 2, options.size // 2])
    result = {"size": options.size, "steps": options.steps, "centre": round(centre, 4),
              "mean": round(float(field.mean()), 4), "max_interior": round(float(field[1:-1, 1:-1].max()), 4),
              "seconds": round(seconds, 3), "numpy": np.__version__}
    with open(os.path.join(options.out, "heat.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    write_pgm(field, os.path.join(options.out, "heat.pgm"))
    print(f"heat: {options.size}x{options.size}, {options.steps} steps in {seconds:.2f} s, "
          f"centre {centre:.2f} degrees -> {options.out}/heat.json, {options.out}/heat.pgm")


if __name__ == "__main__":
    main()

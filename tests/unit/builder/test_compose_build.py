"""Compose build order: services used through ``service:`` contexts come first; cycles are errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from composer.engine.build.compose import _build_order, context_services, service_request
from composer.errors import BuildError


def project(**contexts: dict) -> SimpleNamespace:
    services = {name: SimpleNamespace(build={"context": "/tmp", "additional_contexts": extra}, image=None)
                for name, extra in contexts.items()}
    return SimpleNamespace(name="p", services=services, config_files=(), secrets={})


def test_context_services_first() -> None:
    stack = project(app={"base": "service:base", "x": "/tmp"}, base={"tools": "service:tools"}, tools={})
    assert context_services(stack, "app") == ["base"]
    assert _build_order(stack, ["app", "tools"]) == ["tools", "base", "app"]
    request = service_request(stack, "app")
    assert [(c.name, c.kind, c.value) for c in request.contexts][0] == ("base", "image", "p-base")


def test_context_cycle_is_an_error() -> None:
    with pytest.raises(BuildError, match="cycle: a -> b -> a"):
        _build_order(project(a={"b": "service:b"}, b={"a": "service:a"}), ["a"])
    with pytest.raises(BuildError, match="names no service"):
        service_request(project(a={"b": "service:nope"}), "a")


def test_waves_keep_context_services_apart() -> None:
    from composer.engine.build.compose import _waves

    stack = project(app={"base": "service:base"}, base={}, web={}, tools={})
    assert _waves(stack, ["base", "web", "tools", "app"]) == [["base", "web", "tools"], ["app"]]
    assert _waves(stack, []) == []

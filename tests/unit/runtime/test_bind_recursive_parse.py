"""``--mount type=bind,...,bind-recursive=...`` parsed and refused as docker's CLI does (no kernel)."""

from __future__ import annotations

import pytest

from composer.engine.runtime.mounts import parse_mount_flag
from composer.errors import UsageError


@pytest.mark.parametrize("options, recursive", [
    ("", ""), ("bind-recursive=enabled", ""), ("bind-recursive=true", ""), ("bind-recursive", ""),
    ("bind-recursive=disabled", "disabled"), ("bind-recursive=0", "disabled"),
    ("readonly,bind-recursive=writable", "writable"),
    ("readonly,bind-recursive=readonly,bind-propagation=rprivate", "readonly"),
])
def test_bind_recursive_parsed_as_docker(options, recursive):
    assert parse_mount_flag(f"type=bind,src=/tmp,dst=/m,{options}".rstrip(",")).recursive == recursive


@pytest.mark.parametrize("options, words", [
    ("bind-recursive=writable", "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"),
    ("bind-recursive=readonly", "option 'bind-recursive=readonly' requires 'readonly' to be specified"),
    ("readonly,bind-recursive=readonly", "requires 'bind-propagation=rprivate' to be specified in conjunction"),
    ("bind-recursive=Enabled", "invalid value for bind-recursive: Enabled"),
])
def test_bind_recursive_refused_as_docker(options, words):
    with pytest.raises(UsageError, match=words):
        parse_mount_flag(f"type=bind,src=/tmp,dst=/m,{options}")

"""``Project.config_hashes`` are computed at first use: binding a project (``down`` from the
project cache) imports no renderer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from types import SimpleNamespace
from composer.spec.model import bind_project
output = {{"name": "p", "services": {{"web": {{"image": "busybox", "command": ["true"]}}}}}}
loaded = SimpleNamespace(name="p", working_dir={directory!r}, files=[], environment={{}}, model={{}},
                         output=output, nested_extensions=False)
project = bind_project(loaded)
bound = "composer.spec.render" in sys.modules
hashes = dict(project.config_hashes)
from composer.spec.render import service_hash
print(bound, hashes == {{"web": service_hash("web", output["services"]["web"], None)}}, len(hashes["web"]))
"""


def test_binding_imports_no_renderer_and_hashes_come_on_use(tmp_path: Path):
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(directory=str(tmp_path))], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "True", "64"]

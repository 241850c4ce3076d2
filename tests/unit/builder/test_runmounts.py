"""Mount points a RUN step's mounts left in its upper dir are dropped, copied-up parents too."""

from __future__ import annotations

import os
from pathlib import Path

from composer.engine.build.runmounts import drop_stubs
from composer.engine.runtime.config import Mount


def tree(tmp_path: Path) -> tuple[Path, Path]:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.chmod(lower / "etc", 0o755)
    (upper / "etc").mkdir(parents=True)
    os.chmod(upper / "etc", 0o755)
    (upper / "etc" / "api.key").touch()
    (upper / "run" / "secrets").mkdir(parents=True)
    (upper / "run" / "secrets" / "token").touch()
    return lower, upper


def test_stubs_and_the_parents_made_or_copied_up_for_them_go(tmp_path: Path) -> None:
    lower, upper = tree(tmp_path)
    mounts = [Mount(type="bind", target="/etc/api.key", source="/x"),
              Mount(type="bind", target="/run/secrets/token", source="/y")]
    drop_stubs(upper, mounts, [lower])
    assert list(upper.iterdir()) == []


def test_a_changed_parent_stays(tmp_path: Path) -> None:
    lower, upper = tree(tmp_path)
    os.chmod(upper / "etc", 0o700)  # the step changed /etc itself
    (upper / "run" / "secrets" / "kept.txt").write_text("made by the step")
    drop_stubs(upper, [Mount(type="bind", target="/etc/api.key", source="/x"),
                       Mount(type="bind", target="/run/secrets/token", source="/y")], [lower])
    assert sorted(str(p.relative_to(upper)) for p in upper.rglob("*")) == [
        "etc", "run", "run/secrets", "run/secrets/kept.txt"]

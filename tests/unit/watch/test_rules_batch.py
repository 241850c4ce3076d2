"""develop.watch rules (parsing, ignore/include, targets) and batches -> actions, without a kernel."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from composer.engine.watch import plan_batch, rules_for
from composer.engine.watch.runner import Watcher, expand
from composer.errors import SpecError

ROOT = "/project"


def project(**develop_by_service):
    services = {name: SimpleNamespace(raw={"develop": {"watch": rules}, "build": {"context": ROOT}}
                                      if rules is not None else {})
                for name, rules in develop_by_service.items()}
    return SimpleNamespace(name="p", working_dir=ROOT, config_files=(f"{ROOT}/compose.yaml",), services=services)


API = [{"action": "sync", "path": "./api", "target": "/app", "ignore": ["**/*.pyc", "tests/"]},
       {"action": "rebuild", "path": "./api/requirements.txt"}]


def test_rules_are_typed_with_absolute_paths() -> None:
    rules = rules_for(project(api=API, db=None))
    assert [(r.service, r.action, r.path, r.target) for r in rules] == [
        ("api", "sync", "/project/api", "/app"), ("api", "rebuild", "/project/api/requirements.txt", "")]


@pytest.mark.parametrize("path, expected", [
    ("/project/api/main.py", "main.py"),
    ("/project/api/pkg/mod.py", "pkg/mod.py"),
    ("/project/api/pkg/mod.pyc", None),          # ignore: **/*.pyc (.dockerignore syntax)
    ("/project/api/tests/test_x.py", None),      # ignore: a directory
    ("/project/api/.main.py.swp", None),         # editor files
    ("/project/api/main.py~", None),
    ("/project/api/.git/index", None),
    ("/project/api/main.py___jb_tmp___", None),  # GoLand's safe write, as Compose's ephemeral files
    ("/project/api/.idea/workspace.xml", None),
    ("/project/api/.main.py.kate-swp", None),
    ("/project/apiary/main.py", None),           # a sibling with the same prefix
    ("/elsewhere/main.py", None),
])
def test_relative_paths_ignores_and_editor_files(path: str, expected: str | None) -> None:
    sync = rules_for(project(api=API))[0]
    assert sync.relative(path) == expected


def test_include_limits_the_rule() -> None:
    rule = rules_for(project(api=[{"action": "sync", "path": "src", "target": "/srv", "include": ["*.py"]}]))[0]
    assert rule.relative("/project/src/a.py") == "a.py"
    assert rule.relative("/project/src/a.txt") is None


@pytest.mark.parametrize("entry, message", [
    ({"action": "copy", "path": "x"}, "unknown action 'copy'"),
    ({"action": "sync", "target": "/app"}, "path is missing"),
    ({"action": "sync", "path": "x"}, "needs an absolute container path"),
    ({"action": "sync", "path": "x", "target": "app"}, "needs an absolute container path"),
    ({"action": "sync+exec", "path": "x", "target": "/app"}, "needs a command"),
    ("sync", "must be a mapping"),
])
def test_bad_rules_name_service_and_rule(entry, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        rules_for(project(api=[entry]))
    assert message in str(caught.value) and "services.api.develop.watch[0]" in str(caught.value)


def test_sync_batch_copies_and_deletes() -> None:
    rules = rules_for(project(api=API))
    [actions] = plan_batch(rules, [("/project/api/main.py", False), ("/project/api/old.py", True),
                                   ("/project/api/x.pyc", False), ("/project/README", False)])
    assert actions.service == "api" and not actions.rebuild and not actions.restart
    assert actions.copies == {"/app/main.py": "/project/api/main.py"}
    assert actions.deletes == {"/app/old.py"}
    assert actions.changed == {"/project/api/main.py", "/project/api/old.py"}


def test_rebuild_wins_over_sync_for_its_service() -> None:
    rules = rules_for(project(api=API))
    [actions] = plan_batch(rules, [("/project/api/main.py", False), ("/project/api/requirements.txt", False)])
    assert actions.rebuild and not actions.copies


def test_restart_and_exec_follow_the_sync() -> None:
    rules = rules_for(project(
        web=[{"action": "sync+restart", "path": "conf", "target": "/etc/nginx/conf.d"}],
        worker=[{"action": "sync+exec", "path": "jobs", "target": "/jobs", "exec": {"command": "kill -HUP 1"}}],
        other=[{"action": "restart", "path": "other.env"}]))
    batch = plan_batch(rules, [("/project/conf/a.conf", False), ("/project/jobs/j.py", False),
                               ("/project/other.env", False)])
    by_name = {a.service: a for a in batch}
    assert by_name["web"].restart and by_name["web"].copies == {"/etc/nginx/conf.d/a.conf": "/project/conf/a.conf"}
    assert by_name["worker"].execs[0].command == ("/bin/sh", "-c", "kill -HUP 1") and not by_name["worker"].restart
    assert by_name["other"].restart and not by_name["other"].copies


def test_a_file_rule_targets_the_file_itself() -> None:
    rules = rules_for(project(web=[{"action": "sync", "path": "site.conf", "target": "/etc/site.conf"}]))
    [actions] = plan_batch(rules, [("/project/site.conf", False)])
    assert actions.copies == {"/etc/site.conf": "/project/site.conf"}


def test_expand_turns_new_directories_into_files(tmp_path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("a")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("b")
    gone = str(tmp_path / "gone.py")
    assert expand([(str(tmp_path / "pkg"), False), (gone, False)]) == {
        (str(tmp_path / "pkg" / "a.py"), False), (str(tmp_path / "pkg" / "sub" / "b.py"), False), (gone, True)}


class FakeEngine:
    """Records what the watcher asks of the engine."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.runtime = SimpleNamespace(exec_container=lambda cid, hook: (self.calls.append(("exec", cid, hook.command, hook.user)) or (0, "")))

    def ps(self, name, options):
        return [SimpleNamespace(id="c1", name="p-api-1", labels={})]

    def restart(self, project, options):
        self.calls.append(("restart", options.services))

    def up(self, project, options):
        self.calls.append(("up", options.services, options.build, options.recreate))


def test_watcher_applies_and_reports_each_action(tmp_path) -> None:
    engine, sent, lines = FakeEngine(), [], []
    proj = project(api=API)
    watcher = Watcher(proj, engine, rules_for(proj), lines.append, send=lambda cid, files: sent.append((cid, dict(files))))
    watcher.apply(plan_batch(watcher.rules, [("/project/api/main.py", False), ("/project/api/gone.py", True)]))
    assert sent == [("c1", {"/app/main.py": "/project/api/main.py"})]
    assert engine.calls == [("exec", "c1", ("rm", "-rf", "--", "/app/gone.py"), "0:0")]
    assert lines == ['Syncing service "api" after 2 changes were detected']  # Compose 2.40's words
    watcher.apply(plan_batch(watcher.rules, [("/project/api/requirements.txt", False)]))
    assert engine.calls[-1] == ("up", ("api",), True, "force")
    assert lines[-2:] == ['Rebuilding service(s) ["api"] after changes were detected...',
                          'service(s) ["api"] successfully built']


def test_rebuild_without_build_is_compose_error() -> None:
    proj = project(api=API)
    proj.services["api"].raw.pop("build")
    with pytest.raises(SpecError, match="can't watch service \"api\" with action rebuild without a build context"):
        rules_for(proj)


def test_sync_of_a_bind_mounted_path_is_left_out() -> None:
    """As Compose: the container sees those files already; a sync would rewrite them through the mount."""
    from composer.engine.watch.rules import split_bind_mounted

    proj = project(api=API, web=[{"action": "sync", "path": "./site", "target": "/srv"}])
    proj.services["api"].raw["volumes"] = [{"type": "bind", "source": f"{ROOT}/api", "target": "/app"}]
    proj.services["web"].raw["volumes"] = [{"type": "bind", "source": f"{ROOT}/sitemap", "target": "/x"},
                                           {"type": "volume", "source": "site", "target": "/y"}]
    kept, left_out = split_bind_mounted(proj, rules_for(proj))
    assert [(r.service, r.action) for r in left_out] == [("api", "sync")]
    assert [(r.service, r.action) for r in kept] == [("api", "rebuild"), ("web", "sync")]  # a sibling prefix is not inside


def test_missing_watch_path_is_a_located_error(tmp_path) -> None:
    proj = project(api=[{"action": "sync", "path": str(tmp_path / "nope"), "target": "/app"}])
    with pytest.raises(SpecError, match="does not exist"):
        Watcher(proj, FakeEngine(), rules_for(proj), print).roots()


@pytest.mark.parametrize("prune", [True, False])
def test_rebuild_prunes_the_projects_dangling_images_only_with_prune(monkeypatch: pytest.MonkeyPatch,
                                                                      prune: bool) -> None:
    from composer.engine.watch import prune as pruning

    new, old, asked = "sha256:" + "b" * 64, "sha256:" + "a" * 64, []
    monkeypatch.setattr(pruning, "prune_dangling", lambda name, keep: asked.append((name, list(keep))) or [old])
    proj = project(api=API)
    proj.services["api"].image, proj.services["api"].name = "p/api:dev", "api"
    engine, lines = FakeEngine(), []
    engine.runtime.image_id = lambda reference: asked.append(reference) or new
    watcher = Watcher(proj, engine, rules_for(proj), lines.append, prune=prune)
    watcher.apply(plan_batch(watcher.rules, [("/project/api/requirements.txt", False)]))
    if prune:
        assert asked == ["p/api:dev", ("p", [new])]  # the image just built is spared, as docker's
        assert lines[-1] == "Removed dangling image aaaaaaaaaaaa (after the rebuild of 'api')"
    else:
        assert asked == [] and lines[-1] == 'service(s) ["api"] successfully built'


def test_dangling_images_are_the_projects_untagged_ones() -> None:
    from composer.engine.watch.prune import dangling_images

    configs = {"sha256:1": {"config": {"Labels": {"com.docker.compose.project": "p"}}},
               "sha256:2": {"config": {"Labels": {"com.docker.compose.project": "p"}}},
               "sha256:3": {"config": {"Labels": {"com.docker.compose.project": "other"}}},
               "sha256:4": {"config": {}}}
    blobs = SimpleNamespace(read=lambda digest: json.dumps(configs[digest]).encode())
    db = {"images": dict.fromkeys(configs, {}), "refs": {"docker.io/p/api:dev": "sha256:2"}}
    store = SimpleNamespace(blobs=blobs, read_db=lambda: db)
    assert dangling_images(store, "p") == ["sha256:1"]  # 2 is tagged, 3 another project's, 4 unlabelled


def test_prune_dangling_reads_the_containers_once_and_skips_used_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dangling image but the one just built is removed; one a container uses is refused by
    remove and kept; the containers are read once for all the removals and the gc."""
    from composer.engine.images import catalog, store as stores
    from composer.engine.watch import prune as pruning
    from composer.errors import ImageError

    usage = catalog.ContainerUsage({"sha256:used": [("c1", False)]}, frozenset({"/x"}))
    reads, gcs = [], []
    monkeypatch.setattr(stores, "ImageStore", lambda: "store")
    monkeypatch.setattr(pruning, "dangling_images", lambda store, project: ["sha256:old", "sha256:used", "sha256:new"])
    monkeypatch.setattr(catalog, "container_usage", lambda: reads.append(1) or usage)

    def remove(store, image_id, force=False, usage=None):
        assert usage is not None  # never a read of its own
        if image_id in usage.images:
            raise ImageError(f"conflict: unable to delete {image_id}")
        return [("Deleted", image_id)]

    monkeypatch.setattr(catalog, "remove", remove)
    monkeypatch.setattr(catalog, "gc", lambda store, layers=None: gcs.append(layers) or 0)
    assert pruning.prune_dangling("p", keep=["sha256:new"]) == ["sha256:old"]
    assert reads == [1] and gcs == [frozenset({"/x"})]

"""`composer image build`, `composer build` and built images used by the runtime and registries."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore
from tests.integration.builder.conftest import write

pytestmark = [pytest.mark.root]


@pytest.fixture
def cli(busybox_image, state_root: Path, composer):
    """Run composer with this test's state root."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    return functools.partial(composer, env={"COMPOSER_ROOT": str(state_root)})


def test_image_build_quiet_then_run_the_image(cli, context: Path) -> None:
    write(context, {"Dockerfile": 'FROM busybox\nRUN echo built > /msg\nCMD ["cat", "/msg"]\n'})
    result = cli("image", "build", "-q", "-t", "hello:1", "--label", "team=core", str(context))
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip()
    assert image_id.startswith("sha256:") and result.stderr == ""
    run = cli("container", "run", "--rm", "hello:1")
    assert run.returncode == 0 and run.stdout == "built\n", run.stderr
    inspect = json.loads(cli("image", "inspect", "hello:1").stdout)
    assert inspect[0]["Config"]["Labels"] == {"team": "core"}
    history = cli("image", "history", "--no-trunc", "hello:1")
    assert "RUN /bin/sh -c echo built > /msg" in history.stdout


def test_image_build_progress_cached_and_dockerfile_flags(cli, context: Path, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Custom.Dockerfile"
    dockerfile.write_text("FROM busybox AS one\nARG WHO\nRUN echo $WHO > /who\nFROM one AS two\nRUN true\n")
    args = ("image", "build", "-f", str(dockerfile), "--build-arg", "WHO=me", "--target", "one", "-t", "who:1")
    first = cli(*args, str(context))
    assert first.returncode == 0, first.stderr
    assert "[one 2/2] RUN echo $WHO > /who" in first.stderr and "two" not in first.stderr
    second = cli(*args, str(context))
    assert "CACHED" in second.stderr and second.stderr.count("writing image") == 1
    assert (ImageStore().resolve("who:1").layer_dirs[-1] / "who").read_text() == "me\n"


def test_dockerfile_from_stdin(cli, context: Path) -> None:
    result = cli("image", "build", "-q", "-t", "stdin:1", "-", input="FROM busybox\nENV FROM_STDIN=1\n")
    assert result.returncode == 0, result.stderr
    assert "FROM_STDIN=1" in ImageStore().resolve("stdin:1").config["Env"]


def test_context_tar_from_stdin(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nCOPY data.txt /data.txt\n", "data.txt": "tarred\n"})
    archive = subprocess.run(["tar", "-C", str(context), "-c", "."], capture_output=True, check=True).stdout
    result = subprocess.run([sys.executable, "-m", "composer", "image", "build", "-q", "-t", "tarctx:1", "-"],
                            input=archive, capture_output=True, env={**os.environ, "COMPOSER_ROOT": os.environ["COMPOSER_ROOT"]})
    assert result.returncode == 0, result.stderr
    assert (ImageStore().resolve("tarctx:1").layer_dirs[-1] / "data.txt").read_text() == "tarred\n"


def test_syntax_error_and_failing_run_exit_non_zero(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nRUN true\nFROBNICATE now\n"})
    bad = cli("image", "build", "-t", "bad:1", str(context))
    assert bad.returncode != 0 and "Dockerfile:3" in bad.stderr and "Traceback" not in bad.stderr
    write(context, {"Dockerfile": "FROM busybox\nRUN echo oops-output; false\n"})
    failed = cli("image", "build", "-t", "bad:1", str(context))
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert "oops-output" in failed.stderr and "RUN echo oops-output; false" in failed.stderr
    assert "bad:1" not in cli("image", "ls").stdout


def test_add_from_a_loopback_url(cli, context: Path, tmp_path: Path) -> None:
    served = tmp_path / "served"
    write(served, {"file.txt": "downloaded\n"})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file.txt"
        write(context, {"Dockerfile": f"FROM busybox\nADD {url} /downloads/\n"})
        result = cli("image", "build", "-q", "-t", "url:1", str(context))
        assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()
        server.server_close()
    layer = ImageStore().resolve("url:1").layer_dirs[-1]
    assert (layer / "downloads/file.txt").read_text() == "downloaded\n"


def test_compose_build(cli, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project, {
        "api/Dockerfile": "FROM busybox\nARG FLAVOR=plain\nRUN echo $FLAVOR > /flavor\n",
        "compose.yaml": (
            "services:\n"
            "  api:\n"
            "    build:\n      context: ./api\n      args: {FLAVOR: spicy}\n      labels: {tier: backend}\n"
            "      tags: [\"api:extra\"]\n"
            "  web:\n"
            "    image: web:custom\n"
            "    build:\n      context: .\n      dockerfile_inline: |\n        FROM busybox\n        ENV WEB=1\n"
            "  db:\n    image: busybox\n"),
    })
    result = cli("-f", str(project / "compose.yaml"), "-p", "shop", "build")
    assert result.returncode == 0, result.stderr
    store = ImageStore()
    api = store.resolve("shop-api")
    assert (api.layer_dirs[-1] / "flavor").read_text() == "spicy\n"
    labels = dict(api.config["Labels"])  # the service's own, and Docker Compose's build labels
    assert labels.pop("com.docker.compose.version") and store.resolve("api:extra").id == api.id
    assert labels == {"tier": "backend", "com.docker.compose.project": "shop", "com.docker.compose.service": "api"}
    assert "WEB=1" in store.resolve("web:custom").config["Env"]


def test_built_image_pushed_and_read_by_skopeo(cli, context: Path, registry, docker_config) -> None:
    write(context, {"Dockerfile": "FROM busybox\nCOPY app.txt /app.txt\nRUN rm /bin/vi\n", "app.txt": "app\n"})
    reference = f"{registry.host}/built-{uuid.uuid4().hex[:8]}:v1"
    built = cli("image", "build", "-q", "-t", reference, str(context))
    assert built.returncode == 0, built.stderr
    pushed = cli("image", "push", reference)
    assert pushed.returncode == 0, pushed.stderr
    skopeo = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                            capture_output=True, text=True, timeout=60)
    assert skopeo.returncode == 0, skopeo.stderr
    info = json.loads(skopeo.stdout)
    assert len(info["Layers"]) == 3
    raw = json.loads(subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
                                    capture_output=True, text=True, timeout=60).stdout)
    built_layers = raw["layers"][1:]  # stored compressed, so pushed as gzip layers
    assert [layer["mediaType"] for layer in built_layers] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    config = json.loads(subprocess.run(["skopeo", "inspect", "--config", "--tls-verify=false",
                                        f"docker://{reference}"], capture_output=True, text=True,
                                       timeout=60).stdout)
    assert config["rootfs"]["diff_ids"] == json.loads(ImageStore().blobs.read(built.stdout.strip()))["rootfs"]["diff_ids"]


def compose_build(cli, project: Path, name: str, *args: str):
    """``composer build ARGS`` of the compose.yaml in ``project``; checked to succeed."""
    result = cli("-f", str(project / "compose.yaml"), "-p", name, "build", *args)
    assert result.returncode == 0, result.stderr
    return result


def test_compose_additional_contexts(cli, tmp_path: Path) -> None:
    project = tmp_path / "extra"
    write(project, {
        "assets/logo.txt": "logo\n",
        "app/Dockerfile": "FROM base\nCOPY --from=assets logo.txt /srv/logo.txt\n",
        "compose.yaml": ("services:\n  app:\n    build:\n      context: ./app\n      additional_contexts:\n"
                         "        assets: ./assets\n        base: docker-image://busybox:latest\n"),
    })
    compose_build(cli, project, "extra", "-q")
    image = ImageStore().resolve("extra-app")
    assert (image.layer_dirs[-1] / "srv/logo.txt").read_text() == "logo\n"
    assert len(image.layer_dirs) == 2


def test_built_image_listed_with_its_size(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nCOPY big.bin /big.bin\n", "big.bin": "x" * 3_000_000})
    assert cli("image", "build", "-q", "-t", "sized:1", str(context)).returncode == 0
    rows = [line for line in cli("image", "ls").stdout.splitlines() if line.startswith("sized")]
    assert rows and rows[0].split()[-1].endswith("MB") and float(rows[0].split()[-1][:-2]) > 4


def test_secrets_from_cli_and_compose_with_dependencies(cli, context: Path, tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("t0k3n")
    write(context, {"Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=tok,required=true "
                                  "test \"$(cat /run/secrets/tok)\" = t0k3n && touch /ok\n"})
    built = cli("image", "build", "-q", "--secret", f"id=tok,src={tmp_path / 'token.txt'}", str(context))
    assert built.returncode == 0, built.stderr
    project = tmp_path / "sec"
    write(project, {
        "a/Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=renamed,required=true "
                        "test \"$(cat /run/secrets/renamed)\" = t0k3n\n",
        "b/Dockerfile": "FROM busybox\nRUN touch /b\n",
        "compose.yaml": ("services:\n  a:\n    build:\n      context: ./a\n      secrets:\n"
                         "        - source: tok\n          target: renamed\n    depends_on: [b]\n"
                         "  b:\n    build: ./b\n"
                         f"secrets:\n  tok:\n    file: {tmp_path / 'token.txt'}\n"),
    })
    result = cli("-f", str(project / "compose.yaml"), "-p", "sec", "build", "--with-dependencies", "a")
    assert result.returncode == 0, result.stderr
    assert "Service b  Built" in result.stderr and "Service a  Built" in result.stderr
    only = cli("-f", str(project / "compose.yaml"), "-p", "sec", "build", "--ssh", "default=/nonexistent", "b")
    assert only.returncode == 0 and "Service a" not in only.stderr, only.stderr


def test_compose_build_push(cli, tmp_path: Path, registry, docker_config) -> None:
    project = tmp_path / "pushed"
    reference = f"{registry.host}/pushed-{uuid.uuid4().hex[:8]}:v1"
    write(project, {"app/Dockerfile": "FROM busybox\nRUN echo pushed > /msg\n",
                    "compose.yaml": f"services:\n  app:\n    image: {reference}\n    build: ./app\n"})
    result = cli("-f", str(project / "compose.yaml"), "-p", "pushed", "build", "--push")
    assert result.returncode == 0, result.stderr
    assert f"Pushed {reference}" in result.stderr
    skopeo = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                            capture_output=True, text=True, timeout=60)
    assert skopeo.returncode == 0 and len(json.loads(skopeo.stdout)["Layers"]) == 2, skopeo.stderr


def test_image_build_build_context_flag(cli, context: Path, tmp_path: Path) -> None:
    write(tmp_path / "assets", {"logo.txt": "logo\n"})
    write(context, {"Dockerfile": "FROM base\nCOPY --from=assets logo.txt /srv/logo.txt\n"})
    result = cli("image", "build", "-q", "-t", "ctx:1", "--build-context", f"assets={tmp_path / 'assets'}",
                 "--build-context", "base=docker-image://busybox:latest", "--iidfile", str(tmp_path / "iid"),
                 str(context))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "iid").read_text() == result.stdout.strip()
    assert (ImageStore().resolve("ctx:1").layer_dirs[-1] / "srv/logo.txt").read_text() == "logo\n"
    bad = cli("image", "build", "--build-context", "x=https://example.invalid/r.git", str(context))
    assert bad.returncode != 0 and "additional context x=" in bad.stderr and "Traceback" not in bad.stderr


def test_compose_service_context_built_first(cli, tmp_path: Path) -> None:
    project = tmp_path / "svcctx"
    write(project, {
        "base/Dockerfile": "FROM busybox\nRUN echo base > /base.txt\n",
        "app/Dockerfile": "FROM base\nRUN cat /base.txt > /app.txt\n",
        "compose.yaml": ("services:\n  app:\n    build:\n      context: ./app\n      additional_contexts:\n"
                         "        base: service:base\n  base:\n    build: ./base\n"),
    })
    result = compose_build(cli, project, "svcctx", "app")
    assert result.stderr.index("Service base  Built") < result.stderr.index("Service app  Built")
    app = ImageStore().resolve("svcctx-app")
    assert (app.layer_dirs[-1] / "app.txt").read_text() == "base\n"


def test_multi_block_gzip_layer_read_by_go(cli, context: Path, registry, docker_config, tmp_path: Path) -> None:
    """A layer of several compression blocks, decompressed by skopeo (Go's gzip) to its diff id."""
    import hashlib
    import random

    rng = random.Random(7)
    words = [f"word{n}" for n in range(3000)]
    write(context, {"Dockerfile": "FROM busybox\nCOPY data.txt /data.txt\n",
                    "data.txt": " ".join(rng.choice(words) for _ in range(800_000))})
    reference = f"{registry.host}/gzip-{uuid.uuid4().hex[:8]}:v1"
    built = cli("image", "build", "-q", "-t", reference, str(context))
    assert built.returncode == 0 and cli("image", "push", reference).returncode == 0, built.stderr
    out = tmp_path / "copied"
    copied = subprocess.run(["skopeo", "copy", "--src-tls-verify=false", "--dest-decompress",
                             f"docker://{reference}", f"dir:{out}"], capture_output=True, text=True, timeout=120)
    assert copied.returncode == 0, copied.stderr
    diff_id = json.loads(ImageStore().blobs.read(built.stdout.strip()))["rootfs"]["diff_ids"][-1]
    layer = out / diff_id.removeprefix("sha256:")
    assert layer.stat().st_size > 3 << 20  # several 1 MiB blocks
    assert "sha256:" + hashlib.sha256(layer.read_bytes()).hexdigest() == diff_id


def test_check_builds_nothing(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nCMD echo hi\n"})
    found = cli("image", "build", "--check", "-t", "checked:1", str(context))
    assert found.returncode == 1 and "WARNING: JSONArgsRecommended" in found.stdout, found.stderr
    write(context, {"Dockerfile": 'FROM busybox\nCMD ["echo", "hi"]\n'})
    clean = cli("image", "build", "--check", str(context))
    assert clean.returncode == 0 and clean.stdout.strip() == "Check complete, no warnings found."
    assert "checked" not in cli("image", "ls").stdout
    broken = cli("image", "build", "--check", "--target", "nope", str(context))
    assert broken.returncode != 0 and "nope" in broken.stderr


def test_progress_quiet_prints_only_the_id(cli, context: Path) -> None:
    write(context, {"Dockerfile": "FROM busybox\nENV A=1\n"})
    quiet = cli("image", "build", "--progress=quiet", str(context))
    assert quiet.returncode == 0 and quiet.stdout.startswith("sha256:") and quiet.stderr == ""
    bad = cli("image", "build", "--progress", "fancy", str(context))
    assert bad.returncode != 0 and "invalid --progress" in bad.stderr

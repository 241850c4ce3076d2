"""The image commands' output compared with the Docker CLI's (docker 28 on dockerd 20.10): inspect's
keys and Go-template nils, ``image ls`` filters, ``-q`` and ``--format json``."""

from __future__ import annotations

import json
import sys
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]

INSPECT_KEYS = ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container", "ContainerConfig",
                "DockerVersion", "Author", "Config", "Architecture", "Os", "Size", "VirtualSize", "GraphDriver",
                "RootFS", "Metadata"]
LS_JSON_KEYS = ["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size",
                "Tag", "UniqueSize", "VirtualSize"]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def three_images(composer, state_root: Path, busybox_tar: Path) -> list[str]:
    """bb:1 (also tagged bb:2), then lab:1 (labels a=b, c=d), then a dangling one: their ids, oldest first."""
    first = ok(composer("image", "import", "-c", 'CMD ["sh"]', "-m", "hello", str(busybox_tar), "bb:1")).strip()
    ok(composer("image", "tag", "bb:1", "bb:2"))
    second = ok(composer("image", "import", "-c", "LABEL a=b", "-c", "LABEL c=d", str(busybox_tar), "lab:1")).strip()
    third = ok(composer("image", "import", str(busybox_tar))).strip()
    return [first, second, third]


def test_inspect_has_dockers_keys_and_go_nils(composer, three_images: list[str]) -> None:
    (document,) = json.loads(ok(composer("image", "inspect", "bb:1")))
    assert list(document) == INSPECT_KEYS  # Variant is omitempty; no Descriptor from a 20.10 daemon
    assert document["Size"] == document["VirtualSize"] and document["Comment"] == "hello"
    assert document["ContainerConfig"]["Cmd"] is None and document["GraphDriver"]["Name"] == "overlay2"
    assert list(document["GraphDriver"]) == ["Data", "Name"] and "UpperDir" in document["GraphDriver"]["Data"]
    assert not document["Metadata"]["LastTagTime"].startswith("0001-")  # import and tag set it
    template = ("{{.Config.Labels}}|{{json .Config.Labels}}|{{.Config.Env}}|{{json .Config.Env}}|"
                "{{.Config.ExposedPorts}}|{{json .Config.Shell}}|{{.RepoDigests}}|{{json .RepoDigests}}|{{.Variant}}")
    out = ok(composer("image", "inspect", "--format", template, "bb:1"))
    assert out == "map[]|null|[]|null|map[]|null|[]|[]|\n"  # docker's own output for this template
    failed = composer("image", "inspect", "--format", "{{.Nope}}", "bb:1")
    assert failed.returncode == 1 and failed.stdout == "\n" and "Nope" in failed.stderr


def test_inspect_of_a_missing_image_prints_an_empty_list_and_fails(composer, three_images: list[str]) -> None:
    failed = composer("image", "inspect", "nope")
    assert failed.returncode == 1 and json.loads(failed.stdout) == [] and "No such image: nope" in failed.stderr
    partly = composer("image", "inspect", "--format", "{{.Id}}", "bb:1", "nope")
    assert partly.returncode == 1 and partly.stdout == three_images[0] + "\n"


def test_ls_filters_as_docker(composer, three_images: list[str]) -> None:
    first, second, third = (image_id[7:19] for image_id in three_images)

    def ids(*args: str) -> list[str]:
        return ok(composer("image", "ls", "-q", *args)).split()

    assert ids() == [third, second, first, first]  # one line per row, as docker (not de-duplicated)
    assert ids("--filter", "label=a") == ids("--filter", "label=a=b") == [second]
    assert ids("--filter", "label=a", "--filter", "label=zz") == [] == ids("--filter", "label=a=x")
    assert ids("--filter", "before=lab:1") == [first, first]
    assert ids("--filter", "since=bb:1") == [third, second]
    assert ids("--filter", "dangling=true") == [third]
    assert ids("--filter", "dangling=false") == [second, first, first]
    assert ids("--filter", "reference=bb:1", "--filter", "reference=lab") == [second, first]
    assert ids("bb") == [first, first] and ids("bb:2") == [first]
    for bad, message in (("bogus=1", "Invalid filter 'bogus'"), ("dangling=maybe", "Invalid filter 'dangling=[maybe]'"),
                         ("since=nope", "No such image: nope")):
        failed = composer("image", "ls", "--filter", bad)
        assert failed.returncode == 1 and message in failed.stderr, failed.stderr
    assert composer("image", "ls", "--filter", "label").returncode == 125


def test_ls_json_has_dockers_fields(composer, three_images: list[str]) -> None:
    line = ok(composer("image", "ls", "--format", "json", "bb:1"))
    assert "\\u003cnone\\u003e" in line  # Go's JSON escaping of <none>
    record = json.loads(line)
    assert list(record) == LS_JSON_KEYS and record["Containers"] == "N/A" and record["Digest"] == "<none>"
    assert record["CreatedAt"].endswith(" +0000 UTC") and record["Size"].endswith("B")
    table = ok(composer("image", "ls", "--format", "table {{.ID}}\\t{{.VirtualSize}}\\t{{.Containers}}", "bb:1"))
    assert table.splitlines()[0].split() == ["IMAGE", "ID", "SIZE", "CONTAINERS"]


def test_history_as_docker(composer, three_images: list[str]) -> None:
    (row,) = [json.loads(line) for line in ok(composer("image", "history", "--format", "json", "lab:1")).splitlines()]
    assert list(row) == ["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"]
    assert row["Comment"] == "Imported from -" and row["CreatedBy"] == "" and row["CreatedAt"].endswith("Z")
    assert row["ID"] == three_images[1][7:19] and row["CreatedSince"].endswith(" ago")
    raw = ok(composer("image", "history", "-H=false", "bb:1")).splitlines()
    assert raw[0].split()[:4] == ["IMAGE", "CREATED", "AT", "CREATED"]
    assert raw[1].split()[-1] == "hello" and raw[1].split()[-2].isdigit() and raw[1].split()[1].endswith("Z")
    assert ok(composer("image", "history", "-q", "--no-trunc", "bb:1")).split() == [three_images[0]]
    assert ok(composer("image", "history", "-H", "bb:1")).splitlines()[0].split()[:2] == ["IMAGE", "CREATED"]


def test_import_from_a_url_and_stdin_with_dockers_comments(composer, state_root: Path, busybox_tar: Path) -> None:
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(busybox_tar.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{busybox_tar.name}"
        ok(composer("image", "import", "-c", "ENV A=1", url, "web:1"))
        missing = composer("image", "import", url + ".nope", "web:2")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr and "Traceback" not in missing.stderr
    template = "{{.Comment}}|{{.Config.Env}}"
    assert ok(composer("image", "inspect", "-f", template, "web:1")) == f"Imported from {url}|[A=1]\n"
    with open(busybox_tar, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "composer", "image", "import", "-", "std:1"], stdin=stdin,
                                capture_output=True, text=True)
    ok(result)
    assert ok(composer("image", "inspect", "-f", "{{.Comment}}", "std:1")) == "Imported from -\n"
    ok(composer("image", "import", "-m", "mine", str(busybox_tar), "msg:1"))
    assert ok(composer("image", "inspect", "-f", "{{.Comment}}", "msg:1")) == "mine\n"


def test_save_writes_dockers_manifest_repositories_and_oci_index(composer, three_images: list[str],
                                                                 tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "out.tar"
    ok(composer("image", "save", "-o", str(archive), "bb:1", "bb:2", "lab:1"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        repositories = json.load(tar.extractfile("repositories"))
        index = json.load(tar.extractfile("index.json"))
    assert {"manifest.json", "repositories", "index.json", "oci-layout"} <= set(names)
    assert [entry["RepoTags"] for entry in manifest] == [["bb:1", "bb:2"], ["lab:1"]]  # one entry per image
    assert list(manifest[0]) == ["Config", "RepoTags", "Layers"]
    top = manifest[0]["Layers"][-1].rsplit("/", 1)[1]
    assert repositories["bb"] == {"1": top, "2": top} and set(repositories) == {"bb", "lab"}
    assert [m["annotations"]["io.containerd.image.name"] for m in index["manifests"]] == [
        "docker.io/library/bb:1", "docker.io/library/bb:2", "docker.io/library/lab:1"]
    whole = tmp_path / "repository.tar"
    ok(composer("image", "save", "-o", str(whole), "bb"))  # a repository without a tag: all its tags
    with tarfile.open(whole) as tar:
        assert [entry["RepoTags"] for entry in json.load(tar.extractfile("manifest.json"))] == [["bb:1", "bb:2"]]
    ok(composer("image", "rm", "bb:1", "bb:2", "lab:1"))
    loaded = ok(composer("image", "load", "-q", "-i", str(archive)))
    assert loaded.splitlines() == ["Loaded image: bb:1", "Loaded image: bb:2", "Loaded image: lab:1"]


def test_push_and_pull_print_dockers_lines_off_a_terminal(composer, busybox_image, registry, docker_config) -> None:
    import uuid

    name = f"{registry.host}/parity-{uuid.uuid4().hex[:8]}:v1"
    ok(composer("image", "tag", "busybox", name))
    lines = ok(composer("image", "push", name)).splitlines()
    layer = lines[1].split(":")[0]
    assert lines[0] == f"The push refers to repository [{name.rsplit(':', 1)[0]}]"
    assert lines[1:3] == [f"{layer}: Preparing", f"{layer}: Pushed"]  # no config blob, no progress lines
    assert lines[3].startswith("v1: digest: sha256:") and len(lines) == 4
    ok(composer("image", "rm", "busybox", name))
    pulled = ok(composer("image", "pull", name)).splitlines()
    assert not any(": Downloading" in line or ": Extracting" in line or ": Pushing" in line for line in pulled)
    assert pulled[-1] == name and pulled[-2] == f"Status: Downloaded newer image for {name}"


def test_prune_filters_and_dockers_reclaimed_figure(composer, three_images: list[str]) -> None:
    pruned = ok(composer("image", "prune", "-f"))  # the dangling image shares its layer: 0B, as docker
    assert pruned.splitlines() == ["Deleted Images:", f"deleted: {three_images[2]}", "",
                                   "Total reclaimed space: 0B"]
    assert ok(composer("image", "prune", "-a", "-f", "--filter", "until=1h")) == "Total reclaimed space: 0B\n"
    pruned = ok(composer("image", "prune", "-a", "-f", "--filter", "label!=a"))
    assert "untagged: bb:1" in pruned and "untagged: lab:1" not in pruned
    assert ok(composer("image", "ls", "-q")).split() == [three_images[1][7:19]]
    pruned = ok(composer("image", "prune", "-a", "-f", "--filter", "label=a=b")).splitlines()
    assert pruned[-1] != "Total reclaimed space: 0B" and pruned[-1].endswith("MB")  # the last user of the layer
    for bad in ("bogus=1", "until=xyz"):
        failed = composer("image", "prune", "-f", "--filter", bad)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr

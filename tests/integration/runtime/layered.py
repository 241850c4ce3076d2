"""A small image with several layers, written as a ``docker save`` archive for ``image load``:
each layer a mapping path -> bytes (None: a directory), whiteouts (``.wh.NAME``) included."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Mapping

Layer = Mapping[str, "bytes | None"]

# data:1 - /data/one.txt and /data/gone.txt, then /data/two.txt with gone.txt whited out,
# and a link to / (the image's root, never the host's)
DATA_LAYERS: tuple[Layer, ...] = (
    {"data": None, "data/one.txt": b"one\n", "data/gone.txt": b"gone\n"},
    {"data": None, "data/two.txt": b"two\n", "data/.wh.gone.txt": b""},
)
UP_LINK = ("data/up", "/")  # absolute: the host's root if followed outside the image


def _tar(files: Layer, links: Mapping[str, str] = {}) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def write_archive(path: Path, tag: str, layers: tuple[Layer, ...] = DATA_LAYERS) -> Path:
    """``docker save``'s layout (manifest.json, config, one layer.tar each) for ``tag``; the last
    layer also holds ``UP_LINK``."""
    blobs = [_tar(layer, dict([UP_LINK]) if index == len(layers) - 1 else {}) for index, layer in enumerate(layers)]
    diff_ids = ["sha256:" + hashlib.sha256(blob).hexdigest() for blob in blobs]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{d[7:]}/layer.tar" for d in diff_ids]}]
    with tarfile.open(path, "w") as out:
        entries = [(config_name, config), *((f"{d[7:]}/layer.tar", b) for d, b in zip(diff_ids, blobs)),
                   ("manifest.json", json.dumps(manifest).encode())]
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path

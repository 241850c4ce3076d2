"""`--change` instructions as `docker import` applies them."""

import pytest

from composer.engine.images.changes import apply_changes
from composer.errors import ImageError


def test_changes() -> None:
    config = apply_changes({}, [
        'CMD ["sh", "-c", "echo hi"]', "ENTRYPOINT /bin/run --x", "ENV A=1 B=two", "ENV A 3",
        "WORKDIR /srv", "USER nobody", "EXPOSE 80 53/udp", "LABEL a=b", 'VOLUME ["/data"]',
        "STOPSIGNAL SIGINT",
    ])
    assert config == {
        "Cmd": ["sh", "-c", "echo hi"], "Entrypoint": ["/bin/sh", "-c", "/bin/run --x"],
        "Env": ["B=two", "A=3"], "WorkingDir": "/srv", "User": "nobody",
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}}, "Labels": {"a": "b"}, "Volumes": {"/data": {}},
        "StopSignal": "SIGINT",
    }


def test_unknown_instruction() -> None:
    with pytest.raises(ImageError, match="RUN is not supported"):
        apply_changes({}, ["RUN rm -rf /"])

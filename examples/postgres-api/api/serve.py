"""The api's server: uvicorn's command line (``python3 serve.py main:app --port 8000``), started
without garbage collections, stopped as soon as a stop signal comes, ended without Python's teardown.

Stopping: uvicorn notices a SIGTERM at its next tick (every 0.1 s), then always waits another 0.1 s
for open connections to finish, even when there are none: ~0.15 s of every ``stop``, ``down`` and
watch restart of the api. ``PromptServer`` wakes at the signal and, with no connection and no
request open once it stops accepting, goes straight to the app's shutdown; otherwise uvicorn's
own graceful shutdown waits for them as usual.

Once uvicorn has shut down (connections closed, the app's shutdown run), freeing the ~350 modules
fastapi, pydantic and psycopg loaded costs ~170 ms of CPU (a quarter of the api's start) for nothing:
the process ends anyway. Logs are flushed, then the process exits with uvicorn's status.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
import socket
import sys
from typing import Any

serving = False  # uvicorn serves: its signal handlers are in place (PromptServer.main_loop)


def stop_while_starting(signum: int, frame: Any) -> None:
    """A stop before uvicorn serves ends the api at once: as a container's PID 1 it would ignore a
    SIGTERM it has no handler for (the kernel's rule), and the stop would wait 10 s for the SIGKILL.
    uvicorn's own handler takes over as it starts (newer versions give this one the signal back
    after their shutdown: then it does nothing)."""
    if not serving:
        sys.exit(128 + signum)


signal.signal(signal.SIGTERM, stop_while_starting)

# No collections while uvicorn and the app import their ~450 modules (all of it is kept anyway):
# 10% of the start's CPU. The app's start-up (main.py) freezes what was made and turns it back on.
gc.disable()

from click import ClickException  # noqa: E402
from uvicorn.server import Server  # noqa: E402

# The command line's module (the package's ``uvicorn.main`` is the click command, not the module).
uvicorn_cli = importlib.import_module("uvicorn.main")

TICK = 0.1  # seconds: uvicorn's tick (the Date header, --limit-max-requests)


class PromptServer(Server):
    """uvicorn's server, stopping without waiting when nothing is in flight."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested = asyncio.Event()

    def handle_exit(self, *args: Any, **kwargs: Any) -> None:
        """uvicorn's SIGINT/SIGTERM handler, which also wakes the main loop (thread-safely: newer
        uvicorn versions call it from a plain signal handler)."""
        super().handle_exit(*args, **kwargs)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.stop_requested.set)

    async def main_loop(self) -> None:
        """uvicorn's ticks, each cut short by a stop signal."""
        global serving
        self.loop = asyncio.get_running_loop()
        serving = True
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), TICK)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting; then, if no connection or request is open, the app's shutdown at once
        (uvicorn sleeps 0.1 s first whatever is open), else uvicorn's graceful shutdown."""
        for server in self.servers:
            server.close()  # no connection is accepted after this: the check below stays true
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        logging.getLogger("uvicorn.error").info("Shutting down")
        for sock in sockets or []:
            sock.close()
        if not self.force_exit:
            await self.lifespan.shutdown()


def serve() -> int:
    """Run uvicorn's CLI on a ``PromptServer`` (its ``run`` builds the server from its module's
    ``Server``); its exit status."""
    uvicorn_cli.Server = PromptServer
    try:
        uvicorn_cli.main(standalone_mode=False)  # click: return instead of sys.exit
    except ClickException as error:  # a bad option: click's own message
        error.show()
        return error.exit_code
    except SystemExit as exit_:  # as Python's own exit: None is success, another object a failure
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    return 0


if __name__ == "__main__":
    status = serve()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

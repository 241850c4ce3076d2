"""The api's server: uvicorn's command line (``python3 serve.py main:app --port 8000``), started
without garbage collections and ended without Python's teardown.

Once uvicorn has shut down (connections closed, the app's shutdown run), freeing the ~350 modules
fastapi, pydantic and psycopg loaded costs ~170 ms of CPU (a quarter of the api's start) for nothing:
the process ends anyway. Logs are flushed, then the process exits with uvicorn's status. Every
``stop``, ``down`` and watch restart of the api is that much shorter.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

# No collections while uvicorn and the app import their ~450 modules (all of it is kept anyway):
# 10% of the start's CPU. The app's start-up (main.py) freezes what was made and turns it back on.
gc.disable()

from click import ClickException  # noqa: E402
from uvicorn.main import main  # noqa: E402


def serve() -> int:
    """Run uvicorn's CLI; its exit status."""
    try:
        main(standalone_mode=False)  # click: return instead of sys.exit
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

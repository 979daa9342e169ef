"""The Rasa server's command: `rasa`, with this project's Rasa patches installed first.

    python -m bot.rasa_ext.server run --model models/sms-bot.tar.gz --port 5005 ...

Takes the same arguments as `rasa`. `make run`, bot.launcher (tests, benchmarks) and
production start the Rasa server this way; a bare `rasa run` answers the same, only
without the speed-ups (bot/rasa_ext/speedups.py), without sessions that end at a size
limit or a closed topic (bot/rasa_ext/session_rollover.py) and without telling the SMS
worker which custom actions failed (bot/rasa_ext/action_failures.py; it still hands off a
turn that got no reply). With MODEL_SERVER_URL set it also polls the model server and
swaps a newly published model in without a restart (bot/rasa_ext/model_pull.py).

The settings are checked here first, so a bad value stops the server at once with a message
naming the variable; Rasa then builds the components that use them from credentials.yml and
endpoints.yml (channels.plivo.PlivoInput.from_credentials,
the BotSQLTrackerStore constructor), which read them when they are built.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, List

from bot.rasa_ext import action_failures, model_pull, session_rollover, speedups
from bot.settings import settings_or_exit


def poller_name(argv: List[str]) -> str:
    """How this server names itself to the model server: host:port."""
    port = "5005"
    for index, arg in enumerate(argv):
        if arg in ("-p", "--port") and index + 1 < len(argv):
            port = argv[index + 1]
        elif arg.startswith("--port="):
            port = arg.split("=", 1)[1]
    return f"{socket.gethostname()}:{port}"


def note_start(started: List[bool]) -> None:
    """Make Rasa's Sanic app record in `started` that it began serving: Sanic logs a
    failed bind ("address already in use") and returns normally, and so does Rasa."""
    import rasa.core.run

    configure_app = rasa.core.run.configure_app

    def configure_and_note(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)

        async def served(_app: Any, _loop: Any) -> None:
            started.append(True)

        app.register_listener(served, "after_server_start")
        return app

    rasa.core.run.configure_app = configure_and_note


def main() -> None:
    from rasa.__main__ import main as rasa_main

    settings = settings_or_exit("rasa server")
    speedups.install()
    session_rollover.install()
    action_failures.install()
    model_pull.install(settings, poller_name(sys.argv))
    started: List[bool] = []
    # one in-process Sanic server (SANIC_WORKERS=1, Rasa's default) reports its start here
    watch = sys.argv[1:2] == ["run"] and os.environ.get("SANIC_WORKERS", "1") == "1"
    if watch:
        note_start(started)
    try:
        rasa_main()
    except BaseException:
        if watch and not started:
            _say_not_serving()
        raise
    if watch and not started:
        _say_not_serving()
        sys.exit(1)


def _say_not_serving() -> None:
    print("rasa server: could not start serving (see the log above)", file=sys.stderr)


if __name__ == "__main__":
    main()

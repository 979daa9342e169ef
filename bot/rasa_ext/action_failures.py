"""Custom actions that failed during the current turn (action server down or erring).

Rasa 3.6 logs a custom action that fails and carries on without its events and messages
(`MessageProcessor._run_action`), so the turn may answer with nothing or with half an
answer. `install()` (once per process, by bot/rasa_ext/server.py) wraps `RemoteAction.run`
to note such a failure; the Plivo channel (channels/plivo.py) watches each turn and tells
the SMS worker, which sends a polite text and hands the conversation to a person. A form
rejecting a value (`ActionExecutionRejection`) is normal dialogue, not a failure.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, List, Optional

from bot.rasa_ext.once import once

_failed: ContextVar[Optional[List[str]]] = ContextVar("failed_actions", default=None)


def watch() -> List[str]:
    """Start noting failures in this task (a turn); the list fills as actions fail."""
    failed: List[str] = []
    _failed.set(failed)
    return failed


def _note(name: str) -> None:
    failed = _failed.get()
    if failed is not None:
        failed.append(name)


@once
def install() -> None:
    """Wrap RemoteAction.run (once per process)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    run = RemoteAction.run

    async def run_noting_failures(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            _note(self.name())
            raise

    RemoteAction.run = run_noting_failures  # type: ignore[method-assign]

"""Two per-message costs of Rasa 3.6 paid once instead (behaviour unchanged).

1. `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the
   schema against the meta-schema and builds a new validator on every custom action call:
   about 17 ms of CPU each, measured here. The validator is now built once.
2. `Event.resolve_by_type` walks every Event subclass (recursively) for every event it
   deserialises, i.e. for every event of a tracker on every message. Names are now looked
   up in a table built from the same walk; unknown names take the original path.

Installed once per process, explicitly, when the Rasa server starts (`install()`, called by
bot.rasa_ext.server, the command `make run` and bot.launcher start it with); importing
this module changes nothing. Measured with bench/rest_throughput.py; see
docs/benchmarks.md.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Text

from bot.rasa_ext.once import once

logger = logging.getLogger(__name__)


@once
def install() -> None:
    """Patch RemoteAction once per process (idempotent)."""
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    assert issubclass(ValidationError, Exception)
    RemoteAction._validate_action_result = validate_action_result
    _install_event_lookup()
    logger.debug("installed the cached action-response validator")


def _install_event_lookup() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    table: Dict[str, Any] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # first match wins, like the original loop

    def resolve_by_type(type_name: Text, default: Any = None) -> Any:
        found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)

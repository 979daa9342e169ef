"""Message lifecycle after acceptance: state changes and signed status callbacks."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from devtools.plivo_standin.signing import sign_request
from devtools.plivo_standin.state import StandInState
from devtools.plivo_standin.store import StoredMessage

log = logging.getLogger("devtools.plivo_standin.callbacks")

CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=5)
DELIVERED_CODE = "000"


def lifecycle(state: StandInState, message: StoredMessage) -> list[tuple[str, str]]:
    """The (Status, ErrorCode) steps the message goes through, decided at acceptance."""
    failure = state.faults.undeliverable_for(message.to_number)
    if failure is None:
        return [("queued", ""), ("sent", ""), ("delivered", "")]
    if failure.state == "failed":
        return [("queued", ""), ("failed", failure.error_code)]
    return [("queued", ""), ("sent", ""), ("undelivered", failure.error_code)]


def callback_params(message: StoredMessage, status: str, error_code: str) -> dict[str, str]:
    """The form fields of one status callback, as Plivo sends them (numbers without '+')."""
    return {
        "Status": status,
        "MessageUUID": message.uuid,
        "From": message.from_number,
        "To": message.to_number,
        "Units": str(message.units),
        "TotalRate": f"{message.rate:.5f}",
        "TotalAmount": message.total_amount,
        "ErrorCode": error_code,
    }


async def post_callback(
    state: StandInState, message: StoredMessage, params: dict[str, str]
) -> None:
    """Send one signed callback; failures are logged, never raised."""
    url, method = message.callback_url, message.callback_method
    if not url:
        return
    headers = sign_request(url, params, state.auth_token, method=method)
    kwargs = {"params": params} if method == "GET" else {"data": params}
    try:
        async with state.client().request(
            method, url, headers=headers, timeout=CALLBACK_TIMEOUT, **kwargs
        ) as response:
            await response.read()
            if response.status >= 300:
                log.warning(
                    "status callback %s %s -> HTTP %s", params["Status"], url, response.status
                )
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
        log.warning("status callback %s to %s failed: %r", params["Status"], url, error)


def _delay(delays: tuple[float, ...], step: int) -> float:
    if not delays:
        return 0.0
    return delays[min(step, len(delays) - 1)]


async def run_lifecycle(state: StandInState, message: StoredMessage) -> None:
    """Move the message through its states, posting a callback for each when it has a url."""
    for step, (status, error_code) in enumerate(lifecycle(state, message)):
        if step:
            await asyncio.sleep(_delay(state.status_delays, step - 1))
        message.state = status
        if status == "delivered":
            message.error_code = DELIVERED_CODE
        elif error_code:
            message.error_code = error_code
        try:
            await post_callback(state, message, callback_params(message, status, error_code))
        except Exception:  # a callback bug must not stop the server
            log.exception("status callback for %s failed", message.uuid)

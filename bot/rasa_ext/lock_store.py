"""A Redis lock store whose tickets are issued and returned atomically (rasa#9213).

Rasa's `RedisLockStore` keeps each conversation's ticket queue as one JSON value and
changes it by GET, modify in Python, SET: in `issue_ticket`, in `finish_serving`, and in
`update_lock`, which every waiter runs once per poll. Two processes that interleave
those steps lose each other's writes: two issuers read the same queue and both get the
next number (both are then served at once), a waiter's poll writes back a ticket that
was just returned or drops one that was just issued, and `cleanup` deletes the lock
after checking that nobody waits, taking along a ticket issued in between. Ticket
numbers also restart at 0 once a lock is deleted, so the release of a holder whose
ticket expired can remove someone else's ticket.

`AtomicRedisLockStore` keeps Rasa's value format, `TicketLock` semantics (first come,
first served; a ticket expires `lock_lifetime` seconds after it was issued; the lock is
polled every `wait_time_in_seconds`; `LockError` when it cannot be had), but every change
of a queue is one Lua script, which Redis runs alone: take a number, try to acquire
(drop expired tickets, am I first?), give a ticket back. Numbers come from one counter
per key prefix, so they are never reused, and expiry is judged by the Redis server's
clock, the same for every process and host. A lock key expires with its last ticket.
One difference: a waiter whose own ticket expired in the queue gets `LockError` at once
(Rasa's store keeps polling until the whole lock is gone).

Redis unreachable: taking or waiting for a ticket raises `LockError` (the Plivo channel
answers 503 and the SMS worker tries again later); giving a ticket back only logs a
warning, so a turn that ran is still answered (its ticket expires by itself).

endpoints.yml::

    lock_store:
      type: bot.rasa_ext.lock_store.AtomicRedisLockStore
      url: localhost
      port: 6379
      db: 1
      key_prefix: smsbot
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, List, Optional, Text

from rasa.core.lock import NO_TICKET_ISSUED, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Shared by the scripts: KEYS[1] is the lock, ARGV[1] the conversation ID. A queue is
# Rasa's `TicketLock.dumps()` JSON (tickets are JSON strings inside it).
_LUA_COMMON = """
if redis.replicate_commands then redis.replicate_commands() end

local function now_seconds()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- the unexpired tickets in queue order; whether any expired; whether the lock exists
local function live_tickets(now)
  local raw = redis.call('GET', KEYS[1])
  local tickets = {}
  if not raw then return tickets, false, false end
  local expired = false
  for _, entry in ipairs(cjson.decode(raw).tickets or {}) do
    local ticket = cjson.decode(entry)
    if ticket.expires >= now then
      table.insert(tickets, ticket)
    else
      expired = true
    end
  end
  return tickets, expired, true
end

local function encode(tickets)
  local parts = {}
  for i, t in ipairs(tickets) do
    parts[i] = cjson.encode(
      string.format('{"number": %d, "expires": %.6f}', t.number, t.expires))
  end
  return '{"conversation_id": ' .. cjson.encode(ARGV[1]) .. ', "tickets": ['
    .. table.concat(parts, ', ') .. ']}'
end

-- write the queue back (delete it when empty); the key lives as long as its last ticket
local function save(tickets, now)
  if #tickets == 0 then
    redis.call('DEL', KEYS[1])
    return
  end
  local last = now
  for _, t in ipairs(tickets) do
    if t.expires > last then last = t.expires end
  end
  redis.call('SET', KEYS[1], encode(tickets), 'PX', math.ceil((last - now) * 1000) + 1000)
end
"""

# KEYS[2] is the ticket counter, ARGV[2] the lifetime in seconds; returns the number.
_ISSUE = (
    _LUA_COMMON
    + """
local now = now_seconds()
local tickets = live_tickets(now)
local number = redis.call('INCR', KEYS[2])
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[2])})
save(tickets, now)
return number
"""
)

# ARGV[2] is the ticket; returns {0, lock JSON} when it is served now, {n} when n tickets
# are before it, {-1} when the lock is gone, {-2} when the ticket is gone (expired).
_ACQUIRE = (
    _LUA_COMMON
    + """
local now = now_seconds()
local tickets, expired, exists = live_tickets(now)
if not exists then return {-1} end
if expired then save(tickets, now) end
if #tickets == 0 then return {-1} end
local number = tonumber(ARGV[2])
if tickets[1].number == number then return {0, encode(tickets)} end
for i = 2, #tickets do
  if tickets[i].number == number then return {i - 1} end
end
return {-2}
"""
)

# ARGV[2] is the ticket to remove (-1: none, only drop expired ones); returns 1 if removed.
_RELEASE = (
    _LUA_COMMON
    + """
local now = now_seconds()
local tickets, expired, exists = live_tickets(now)
if not exists then return 0 end
local number = tonumber(ARGV[2])
local kept, removed = {}, 0
for _, t in ipairs(tickets) do
  if t.number == number then removed = 1 else table.insert(kept, t) end
end
if removed == 1 or expired then save(kept, now) end
return removed
"""
)

_LOCK_GONE = -1
_TICKET_GONE = -2


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock with atomic issue, acquire and release (Lua scripts)."""

    def __init__(
        self, *args: Any, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any
    ) -> None:
        """Takes the options of `RedisLockStore`, or an endpoints.yml `lock_store` entry."""
        if endpoint_config is not None:
            kwargs = {
                "host": endpoint_config.url or "localhost",
                **endpoint_config.kwargs,
                **kwargs,
            }
        super().__init__(*args, **kwargs)
        # "<prefix>:lock_tickets" cannot be a lock: those are "<prefix>:lock:<id>"
        self.counter_key = self.key_prefix.rstrip(":") + "_tickets"
        self._issue = self.red.register_script(_ISSUE)
        self._acquire = self.red.register_script(_ACQUIRE)
        self._release = self.red.register_script(_RELEASE)

    def _key(self, conversation_id: Text) -> Text:
        """The Redis key of a conversation's lock."""
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Append a ticket valid for `lock_lifetime` seconds to the queue; its number."""
        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")
        try:
            return int(
                self._issue(
                    keys=[self._key(conversation_id), self.counter_key],
                    args=[conversation_id, lock_lifetime],
                )
            )
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Poll until `ticket` is first in the queue; `LockError` if it or the lock expired."""
        logger.debug(f"Acquiring lock for conversation '{conversation_id}'.")
        while True:
            try:
                answer: List[Any] = self._acquire(
                    keys=[self._key(conversation_id)], args=[conversation_id, ticket]
                )
            except RedisError as e:
                raise LockError(f"Error while acquiring lock. Error:\n{e}") from e
            status = int(answer[0])
            if status == 0:
                logger.debug(f"Acquired lock for conversation '{conversation_id}'.")
                return TicketLock.from_dict(json.loads(answer[1]))
            if status == _LOCK_GONE:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if status == _TICKET_GONE:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}': "
                    f"ticket {ticket} expired while waiting."
                )
            logger.debug(
                f"Failed to acquire lock for conversation ID '{conversation_id}' "
                f"because {status} other item(s) for this "
                f"conversation ID have to be finished processing first. "
                f"Retrying in {wait_time_in_seconds} seconds ..."
            )
            await asyncio.sleep(wait_time_in_seconds)

    def update_lock(self, conversation_id: Text) -> None:
        """Drop the expired tickets of the conversation's queue."""
        self._release(keys=[self._key(conversation_id)], args=[conversation_id, NO_TICKET_ISSUED])

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove `ticket_number` from the queue; the lock goes when the queue is empty."""
        self._release(keys=[self._key(conversation_id)], args=[conversation_id, ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give the ticket back (and delete the lock if no one else waits), in one step;
        if Redis does not answer, the ticket expires by itself (the turn stands)."""
        try:
            self.finish_serving(conversation_id, ticket_number)
        except RedisError as e:
            logger.warning(
                f"Could not return ticket {ticket_number} of conversation "
                f"'{conversation_id}' ({e}); it expires by itself."
            )

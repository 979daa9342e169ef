"""The inbound queue's claim, at the SQL level: per conversation, in order, one at a time."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from typing import Dict, List

import pytest

from bot.sms import inbound, queue
from bot.store.db import get_engine, session_scope

LEASE = dt.timedelta(seconds=30)


def _record(texts: Dict[str, int]) -> Dict[str, List[int]]:
    """Record `count` texts per phone, interleaved; their ids per phone, in order."""
    ids: Dict[str, List[int]] = {phone: [] for phone in texts}
    with session_scope() as session:
        for round_ in range(max(texts.values())):
            for phone, count in texts.items():
                if round_ < count:
                    uuid = f"{phone}-{round_}-{time.time_ns()}"
                    ids[phone].append(inbound.record_inbound(session, phone, "hi", uuid))
    return ids


def _postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's row-lock claim")


def test_postgres_claims_skip_a_held_conversation_and_keep_its_order(database_url: str) -> None:
    _postgres(database_url)
    ids = _record({"+15550000001": 3, "+15550000002": 1})
    a, b = ids["+15550000001"], ids["+15550000002"]
    engine = get_engine()
    with engine.connect() as one, engine.connect() as two, engine.connect() as three:
        first = one.begin()
        assert queue.claim_postgres(one).id == a[0]
        second = two.begin()
        assert queue.claim_postgres(two).id == b[0]  # not a[1]: a[0] is held
        third = three.begin()
        assert queue.claim_postgres(three) is None
        third.rollback()
        inbound.finish_inbound(one, a[0], inbound.PROCESSED)
        first.commit()
        third = three.begin()
        assert queue.claim_postgres(three).id == a[1]  # the next one, once a[0] is done
        second.rollback()  # a worker that gave up (or died): b[0] is free again
        with engine.connect() as four, four.begin():
            assert queue.claim_postgres(four).id == b[0]
        third.rollback()


def test_concurrent_claimers_never_hold_two_texts_of_one_conversation(database_url: str) -> None:
    """Four threads (own connections) claim, 'process' and commit until the queue is empty:
    never two texts of a conversation in hand, each conversation done in arrival order."""
    _postgres(database_url)
    phones = {f"+1555000010{i}": 6 for i in range(5)}
    ids = _record(phones)
    conversation_of = {mid: phone for phone, mids in ids.items() for mid in mids}
    in_hand: Dict[str, int] = {}
    done: Dict[str, List[int]] = {phone: [] for phone in phones}
    guard = threading.Lock()
    errors: List[str] = []

    def claimer() -> None:
        engine = get_engine()
        idle = 0
        while idle < 20:
            with engine.connect() as connection:
                transaction = connection.begin()
                claimed = queue.claim_postgres(connection)
                if claimed is None:
                    transaction.rollback()
                    idle += 1
                    time.sleep(0.01)
                    continue
                idle = 0
                phone = conversation_of[claimed.id]
                with guard:
                    if phone in in_hand:
                        errors.append(f"{claimed.id} claimed while {in_hand[phone]} in hand")
                    expected = ids[phone][len(done[phone])]
                    if claimed.id != expected:
                        errors.append(f"{phone}: got {claimed.id} before {expected}")
                    in_hand[phone] = claimed.id
                time.sleep(random.uniform(0, 0.01))
                inbound.finish_inbound(connection, claimed.id, inbound.PROCESSED)
                with guard:  # out of hand before COMMIT: the next text waits for the commit
                    del in_hand[phone]
                    done[phone].append(claimed.id)
                transaction.commit()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert done == ids


def test_sqlite_claims_keep_order_and_expire_with_their_lease(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's conditional-UPDATE claim")
    ids = _record({"+15550000201": 2, "+15550000202": 1})
    a, b = ids["+15550000201"], ids["+15550000202"]
    engine = get_engine()
    with engine.begin() as connection:
        held = queue.claim_sqlite(connection, LEASE)
    assert held is not None and held.id == a[0]
    with engine.begin() as connection:
        assert queue.claim_sqlite(connection, LEASE).id == b[0]  # a[1] waits behind a[0]
        assert queue.claim_sqlite(connection, LEASE) is None
        assert not queue.has_candidate_sqlite(connection, LEASE)
    with engine.begin() as connection:  # a[0]'s worker died: after its lease, claimed again
        retaken = queue.claim_sqlite(connection, dt.timedelta(seconds=-1))
    assert retaken is not None and retaken.id == a[0]
    with pytest.raises(queue.LostClaim), engine.begin() as connection:
        queue.finish_held(connection, held, inbound.PROCESSED, None)  # the dead claim's turn
    with engine.begin() as connection:
        queue.finish_held(connection, retaken, inbound.PROCESSED, None)
        assert queue.claim_sqlite(connection, LEASE).id == a[1]

"""The fault tests' counts (tests/sms_counts.py): each kind of wrong answer is counted."""

from __future__ import annotations

from tests.sms_counts import SentText, count

A, B = "+15550000001", "+15550000002"
SENT = {
    A: [SentText(k, f"where is order {k}", f"uuid-a-{k}") for k in ("A1001", "A1002", "A1003")],
    B: [SentText(k, f"where is order {k}", f"uuid-b-{k}") for k in ("A1001", "A1002")],
}


def out(phone: str, *keys: str) -> list:
    return [{"to": phone, "text": f"I couldn't find order {key}."} for key in keys]


def test_every_text_answered_once_in_order() -> None:
    counts = count(
        SENT, out(A, "A1001") + out(B, "A1001") + out(A, "A1002", "A1003") + out(B, "A1002")
    )
    assert (counts.sent, counts.answered) == (5, 5)
    assert counts.clean and not counts.problems
    assert counts.line("x") == (
        "x: sent=5 answered=5 lost=0 duplicated=0 out_of_order=0 unmatched=0 apologies=0"
    )


def test_lost_duplicated_out_of_order_and_unmatched_are_counted() -> None:
    outbound = (
        out(A, "A1002", "A1001", "A1002")  # A1001 after A1002; A1002 twice; A1003 lost
        + [{"to": A, "text": "Sorry, we're having trouble right now."}]
        + out(B, "A1001", "A1002")
        + out("+15559999999", "A1003")  # another phone's reply is not ours
    )
    counts = count(SENT, outbound)
    assert counts.sent == 5
    assert counts.answered == 4
    assert counts.lost == 1
    assert counts.duplicated == 1
    assert counts.out_of_order == 1
    assert counts.unmatched == 1
    assert not counts.clean
    assert len(counts.problems) == 4


def test_a_reply_naming_two_orders_answers_neither() -> None:
    outbound = [{"to": B, "text": "Orders A1001 and A1002 are on their way."}]
    counts = count({B: SENT[B]}, outbound)
    assert (counts.answered, counts.lost, counts.unmatched) == (0, 2, 1)


def test_an_expected_apology_answers_the_earliest_text_without_a_reply() -> None:
    apology = "Sorry, I can't look that up right now."
    outbound = out(A, "A1001") + [{"to": A, "text": apology}] * 3 + out(B, "A1001", "A1002")
    counts = count(SENT, outbound, apology=apology)
    assert (counts.sent, counts.answered, counts.lost) == (5, 5, 0)
    assert (counts.apologies, counts.duplicated, counts.unmatched) == (2, 1, 0)
    assert counts.apologized == ["uuid-a-A1002", "uuid-a-A1003"]
    assert counts.problems == [f"{A}: an apology beyond its texts"]
    without = count(SENT, outbound)  # not expected: each apology is unmatched
    assert (without.apologies, without.unmatched, without.lost) == (0, 3, 2)

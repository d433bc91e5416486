"""web/guard/ledger.py: shares per client, a cap on large runs computing, and when unread answers fall due."""

from __future__ import annotations

import uuid

from web.guard.ledger import Ledger, Limits, Refusal, Ticket

LIMITS = Limits(heavy_per_client=2, light_per_client=3, heavy_total=3, answer_ttl=60, proxy_hops=0)


def accept(ledger: Ledger, client: str, heavy: bool, now: float = 0.0) -> str:
    ticket = ledger.reserve(client, heavy=heavy, now=now)
    assert isinstance(ticket, Ticket), ticket
    event_id = uuid.uuid4().hex
    ledger.confirm(ticket, event_id, event_id, now=now)
    return event_id


def test_a_client_over_its_heavy_share_gets_429_with_when_its_first_answer_is_dropped():
    ledger = Ledger(LIMITS)
    first = accept(ledger, "a", True, now=0.0)
    second = accept(ledger, "a", True, now=10.0)
    ledger.answered(first, now=2.0)
    ledger.answered(second, now=12.0)
    refusal = ledger.reserve("a", heavy=True, now=20.0)
    assert refusal == Refusal(
        429,
        "Too many requests from you: 2 of your large runs are still pending. Read their answers, or retry in 43 s.",
        43,
    )
    assert ledger.reserve("a", heavy=True, now=50.0).retry_after == 13, "the estimate counts down, it is not fixed"


def test_shares_are_per_client_and_per_kind():
    ledger = Ledger(LIMITS)
    accept(ledger, "a", True)
    accept(ledger, "a", True)
    assert isinstance(ledger.reserve("b", heavy=True, now=0), Ticket)
    assert isinstance(ledger.reserve("a", heavy=False, now=0), Ticket)


def test_large_runs_computing_are_capped_for_all_with_503():
    ledger = Ledger(LIMITS)
    for client in "abc":
        accept(ledger, client, True, now=5.0)
    refusal = ledger.reserve("d", heavy=True, now=6.0)
    assert refusal.status == 503
    assert refusal.detail == "The server is busy: 3 large runs are in progress. Retry in 1 s."
    assert isinstance(ledger.reserve("d", heavy=False, now=6.0), Ticket), "light calls have no total cap"


def test_answers_waiting_to_be_read_cost_only_their_own_client():
    """Two clients at their share with answers they never read: a third client is admitted at once."""
    ledger = Ledger(LIMITS)
    for client in "ab":
        for _ in range(2):
            ledger.answered(accept(ledger, client, True, now=0.0), now=1.0)
    assert ledger.computing == 0
    assert ledger.reserve("a", heavy=True, now=2.0).status == 429
    assert isinstance(ledger.reserve("c", heavy=True, now=2.0), Ticket)


def test_light_share_message_names_requests():
    ledger = Ledger(LIMITS)
    for _ in range(3):
        accept(ledger, "a", False)
    assert ledger.reserve("a", heavy=False, now=0).detail.startswith(
        "Too many requests from you: 3 of your requests are still pending."
    )


def test_reading_an_answer_or_cancelling_gives_the_slot_back():
    ledger = Ledger(LIMITS)
    first = accept(ledger, "a", True)
    ticket = ledger.reserve("a", heavy=True, now=0)
    ledger.cancel(ticket)  # Gradio refused that call
    assert ledger.outstanding("a", heavy=True) == 1 and ledger.computing == 1
    assert ledger.read(first) is True
    assert ledger.outstanding("a", heavy=True) == 0 and ledger.computing == 0 and not ledger.sessions


def test_an_answer_read_before_its_post_returned_is_not_counted():
    ledger = Ledger(LIMITS)
    ticket = ledger.reserve("a", heavy=True, now=0)
    assert ledger.answered("early", now=0.1) is False
    assert ledger.read("early") is False  # the stream was already open
    ledger.confirm(ticket, "early", "session", now=0)
    assert ledger.outstanding("a", heavy=True) == 0 and not ledger.entries and ledger.computing == 0


def test_an_answer_produced_before_its_post_returned_is_not_computing():
    ledger = Ledger(LIMITS)
    ticket = ledger.reserve("a", heavy=True, now=0)
    ledger.answered("quick", now=0.5)
    ledger.confirm(ticket, "quick", "quick", now=0.6)
    assert ledger.computing == 0 and ledger.entries["quick"].answered == 0.5


def test_answers_fall_due_a_ttl_after_they_were_produced_not_accepted():
    ledger = Ledger(LIMITS)
    slow = accept(ledger, "a", True, now=0.0)
    quick = accept(ledger, "b", True, now=0.0)
    ledger.answered(slow, now=30.0)
    ledger.answered(quick, now=1.0)
    assert [entry.event_id for entry in ledger.due(61.0)] == [quick]
    assert {entry.event_id for entry in ledger.due(90.0)} == {slow, quick}
    assert ledger.expire(quick).client == "b" and quick in ledger.expired
    assert ledger.outstanding("b", heavy=True) == 0


def test_a_call_never_answered_is_forgotten_after_stale_after():
    ledger = Ledger(LIMITS)
    lost = accept(ledger, "a", True, now=0.0)
    assert ledger.due(LIMITS.stale_after - 1) == []
    assert [entry.event_id for entry in ledger.due(LIMITS.stale_after)] == [lost]


def test_a_call_stream_releases_the_event_it_names_first():
    ledger = Ledger(LIMITS)
    tickets = [ledger.reserve("a", heavy=False, now=0) for _ in range(2)]
    ledger.confirm(tickets[0], "e1", "shared", now=0)
    ledger.confirm(tickets[1], "e2", "shared", now=1)
    assert ledger.read_in_session("shared", preferred="e2")
    assert list(ledger.entries) == ["e1"]
    assert ledger.read_in_session("shared", preferred="gone")
    assert not ledger.entries and not ledger.read_in_session("shared")


def test_ending_a_session_releases_the_calls_accepted_before():
    ledger = Ledger(LIMITS)
    tickets = [ledger.reserve("a", heavy=True, now=0) for _ in range(2)]
    ledger.confirm(tickets[0], "e1", "tab", now=0)
    ledger.confirm(tickets[1], "e2", "tab", now=5)
    assert [entry.event_id for entry in ledger.release_session("tab", accepted_before=1)] == ["e1"]
    assert list(ledger.entries) == ["e2"] and ledger.computing == 1

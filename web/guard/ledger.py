"""The guard's books: which calls each client has outstanding, and which are still computing (no I/O, no clock).

A call is *outstanding* from the moment it is admitted until its answer is read, dropped or cancelled; it counts
against its own client's share (``heavy_per_client`` or ``light_per_client``). It is *computing* until Gradio has
produced its answer; only computing heavy calls count against everyone's limit (``heavy_total``), so answers that
wait to be read cost their own client, never the others. An answer unread ``answer_ttl`` seconds after it was
produced is due to be dropped.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from web.guard.identity import proxy_hops_from_env


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How much each client, and all clients together, may have outstanding; sizes in bytes, times in seconds."""

    heavy_per_client: int = 8  # large runs admitted and not yet read, per client
    light_per_client: int = 8
    heavy_total: int = 16  # large runs computing or queued, all clients together
    answer_ttl: float = 60.0  # an answer unread this long after it was produced is dropped
    # A call over a share waits this long for a slot before it is refused: under the 5 s that gradio_client
    # gives a POST, so that it gets the 429 rather than a timeout.
    admission_wait: float = 4.0
    waiting_per_client: int = 16  # calls beyond this many waiting ones are refused at once
    stale_after: float = 900.0  # a call never answered in this long was cancelled by Gradio: forget it
    sweep_every: float = 1.0
    proxy_hops: int = field(default_factory=proxy_hops_from_env)
    max_body_bytes: int = 4_000_000  # any request; a 1 MB table is at most 2 MB once escaped in JSON
    upload_types: tuple[str, ...] = (".csv", ".tsv", ".txt", ".json")
    max_upload_bytes: int = 1_000_000


@dataclass(frozen=True)
class Ticket:
    """A slot held for a call that Gradio has not accepted yet."""

    client: str
    heavy: bool


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    retry_after: int | None = None


@dataclass
class Entry:
    """A call that Gradio accepted and whose answer nobody has read yet."""

    event_id: str
    session: str
    client: str
    heavy: bool
    accepted: float
    answered: float | None = None  # when Gradio produced the answer


class Ledger:
    """Outstanding and computing calls per client and in all, and when their answers fall due.

    >>> ledger = Ledger(Limits(heavy_per_client=1, heavy_total=1, proxy_hops=0))
    >>> ledger.confirm(ledger.reserve("a", heavy=True, now=0.0), "e1", "s1", now=0.0)
    >>> ledger.reserve("b", heavy=True, now=1.0).status  # "a"'s run still computes: everyone's one slot
    503
    >>> ledger.answered("e1", now=2.0)
    True
    >>> ledger.reserve("b", heavy=True, now=2.0)  # the answer waits for "a" only
    Ticket(client='b', heavy=True)
    >>> ledger.reserve("a", heavy=True, now=20.0).detail
    'Too many requests from you: 1 of your large runs is still pending. Read its answer, or retry in 43 s.'
    >>> [entry.event_id for entry in ledger.due(62.0)]
    ['e1']
    """

    REMEMBER = 4096

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.entries: dict[str, Entry] = {}
        self.sessions: dict[str, list[str]] = {}  # session -> its event ids, oldest first
        self._counts: Counter[tuple[str, bool]] = Counter()
        self.computing = 0  # heavy calls admitted and not answered yet
        self._answered_early: OrderedDict[str, float] = OrderedDict()  # answered before their POST returned
        self._read_early: OrderedDict[str, None] = OrderedDict()  # read before their POST returned
        self.expired: OrderedDict[str, None] = OrderedDict()  # calls whose answers the guard dropped
        self._compute_seconds: float | None = None  # how long a heavy call takes to be answered, on average

    def outstanding(self, client: str, *, heavy: bool) -> int:
        return self._counts[(client, heavy)]

    def reserve(self, client: str, *, heavy: bool, now: float) -> Ticket | Refusal:
        limits = self.limits
        mine = self._counts[(client, heavy)]
        if mine >= (limits.heavy_per_client if heavy else limits.light_per_client):
            wait = self.retry_after(now, lambda entry: entry.client == client and entry.heavy == heavy)
            runs = "large runs" if heavy else "requests"
            if mine == 1:
                pending = f"1 of your {runs} is still pending. Read its answer"
            else:
                pending = f"{mine} of your {runs} are still pending. Read their answers"
            return Refusal(429, f"Too many requests from you: {pending}, or retry in {wait} s.", wait)
        if heavy and self.computing >= limits.heavy_total:
            wait = self.retry_after(now, lambda entry: entry.heavy and entry.answered is None)
            return Refusal(
                503, f"The server is busy: {self.computing} large runs are in progress. Retry in {wait} s.", wait
            )
        self._counts[(client, heavy)] += 1
        self.computing += heavy
        return Ticket(client, heavy)

    def cancel(self, ticket: Ticket, *, computing: bool = True) -> None:
        """Give back a slot: of a call Gradio did not accept, or (``computing=False``) of an answered one."""
        key = (ticket.client, ticket.heavy)
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]
        if computing:
            self.computing -= ticket.heavy

    def confirm(self, ticket: Ticket, event_id: str, session: str, *, now: float) -> None:
        """Gradio accepted the call: its slot stays held until its answer is read or dropped."""
        if event_id in self._read_early:  # already read, on a stream that was open before the POST returned
            del self._read_early[event_id]
            self._answered_early.pop(event_id, None)
            self.cancel(ticket)
            return
        entry = Entry(event_id, session, ticket.client, ticket.heavy, now)
        self.entries[event_id] = entry
        self.sessions.setdefault(session, []).append(event_id)
        if (answered := self._answered_early.pop(event_id, None)) is not None:
            self.answered(event_id, now=answered)

    def answered(self, event_id: str, *, now: float) -> bool:
        """Gradio produced this call's answer: it stops counting against everyone; True when it was outstanding."""
        entry = self.entries.get(event_id)
        if entry is None:
            _remember(self._answered_early, event_id, now, self.REMEMBER)
            return False
        if entry.answered is None:
            entry.answered = now
            if entry.heavy:
                self.computing -= 1
                took = max(0.0, now - entry.accepted)
                average = self._compute_seconds
                self._compute_seconds = took if average is None else average + 0.2 * (took - average)
        return True

    def session_of(self, event_id: str) -> str | None:
        entry = self.entries.get(event_id)
        return entry.session if entry else None

    def release(self, event_id: str) -> Entry | None:
        """Give back a call's slot (its answer was read, dropped or cancelled)."""
        entry = self.entries.pop(event_id, None)
        if entry is None:
            return None
        ids = self.sessions[entry.session]
        ids.remove(event_id)
        if not ids:
            del self.sessions[entry.session]
        self.cancel(Ticket(entry.client, entry.heavy), computing=entry.answered is None)
        return entry

    def read(self, event_id: str) -> bool:
        """A stream delivered this event's answer; True when it was outstanding."""
        if self.release(event_id) is not None:
            return True
        _remember(self._read_early, event_id, None, self.REMEMBER)
        return False

    def read_in_session(self, session: str, preferred: str | None = None) -> bool:
        """A /call stream delivered one answer of ``session`` (its events carry no id): release one."""
        ids = self.sessions.get(session)
        if not ids:
            return False
        self.release(preferred if preferred in ids else ids[0])
        return True

    def release_session(self, session: str, *, accepted_before: float = math.inf) -> list[Entry]:
        """Release a session's calls (those accepted before a time, if given): Gradio ended its stream."""
        return [
            entry
            for event_id in list(self.sessions.get(session, ()))
            if self.entries[event_id].accepted <= accepted_before and (entry := self.release(event_id))
        ]

    def due(self, now: float) -> list[Entry]:
        """Calls to forget: answered ``answer_ttl`` ago and unread, or never answered in ``stale_after``."""
        limits = self.limits
        return [
            entry
            for entry in self.entries.values()
            if (entry.answered is not None and entry.answered + limits.answer_ttl <= now)
            or (entry.answered is None and entry.accepted + limits.stale_after <= now)
        ]

    def expire(self, event_id: str) -> Entry | None:
        """Release a call whose answer the guard dropped, remembering its id."""
        entry = self.release(event_id)
        if entry is not None:
            _remember(self.expired, event_id, None, self.REMEMBER)
        return entry

    def retry_after(self, now: float, mine: Callable[[Entry], bool]) -> int:
        """Seconds until one of the matching calls can free its slot: an answered one when the guard drops it
        (its client may read it sooner), a computing one when calls usually get their answer.

        >>> ledger = Ledger(Limits(proxy_hops=0))
        >>> for event_id, accepted in (("old", 0.0), ("young", 30.0)):
        ...     ledger.confirm(ledger.reserve("a", heavy=True, now=accepted), event_id, event_id, now=accepted)
        >>> ledger.answered("old", now=4.0)  # answered after 4 s: due at 64 s
        True
        >>> ledger.retry_after(32.0, lambda entry: entry.event_id == "young")  # usually answered after 4 s
        2
        >>> ledger.retry_after(40.0, lambda entry: entry.event_id == "old")
        25
        """
        moments = []
        usual = self._compute_seconds if self._compute_seconds is not None else 2.0
        for entry in self.entries.values():
            if mine(entry):
                if entry.answered is not None:
                    moments.append(entry.answered + self.limits.answer_ttl + self.limits.sweep_every)
                else:
                    moments.append(max(entry.accepted + usual, now + 1))
        if not moments:
            return 2  # only calls still being accepted: their slots settle within moments
        return max(1, math.ceil(min(moments) - now))


def _remember(recent: OrderedDict, key: str, value: object, most: int) -> None:
    recent[key] = value
    while len(recent) > most:
        recent.popitem(last=False)

"""The sweep's fast read of contacts (packed flags, reasons marked, straight from the driver) gives
the engine exactly the cases the full read gives, but for the reasons' text (CB-SEEN-ALONE,
HI-NOONE-NOTE read only whether a reason is recorded): every yes/no/not-recorded value of every
flag, visits by the lead, by another social worker and by a manager, and a correction."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules import model
from storage import models
from storage.cases import RECORDED, cases_for_children
from storage.demo import load_demo
from storage.facts import FactError, record_contact
from tests.storage.conftest import NOW, make_child


def _marked(case: model.Case) -> model.Case:
    def mark(c: model.Contact) -> model.Contact:
        return c._replace(
            seen_alone_reason=RECORDED if c.seen_alone_reason else None,
            note_not_left_reason=RECORDED if c.note_not_left_reason else None,
        )

    return replace(case, contacts=tuple(mark(c) for c in case.contacts))


def test_the_fast_read_gives_the_cases_the_full_read_gives(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    with factory() as s:
        child, lead, manager = make_child(s, case_ref="C-FLAGS", started=date(2026, 6, 1))
        other = models.Staff(name="Other", role="social_worker", qualified_registered=True, team=child.team)
        s.add(other)
        s.flush()
        rng = random.Random(13)
        at = NOW - timedelta(days=150)
        tri = (True, False, None)
        written = 0
        first = None
        for combo in itertools.product(tri, tri, tri, (True, False)):
            bedroom, awake, note, flag = combo
            at += timedelta(hours=20)
            seen = rng.random() > 0.3
            contact = model.Contact(
                at=at,
                kind=rng.choice(model.CONTACT_KINDS),
                by="lead_social_worker",
                qualified=rng.random() > 0.2,
                child_seen=seen,
                seen_alone=rng.choice(model.SEEN_ALONE) if seen else None,
                seen_alone_reason="asleep" if rng.random() > 0.5 else None,
                bedroom_seen=bedroom,
                child_awake=awake,
                recorded_at=at + timedelta(hours=2) if rng.random() > 0.3 else None,
                no_one_home=not seen and flag,
                note_left=note if not seen else None,
                note_not_left_reason="no paper" if not seen and note is False else None,
                risk_worsened=flag,
                new_injury=not flag and rng.random() > 0.5,
                alone_concerns=rng.random() > 0.5,
            )
            try:
                row = record_contact(
                    s, child, contact, by_staff=rng.choice((lead, other, manager, None)), now=NOW
                )
            except FactError:
                continue
            first = first or row
            written += 1
        assert written > 30
        record_contact(s, child, model.Contact(at=first.at, child_seen=False), correction_of=first, now=NOW)
    with factory() as s:
        ids = [i for (i,) in s.query(models.Child.id)]
        full = cases_for_children(s, ids)
        fast = cases_for_children(s, ids, free_text=False)
    assert len(fast) == len(full) > 10
    assert {i: _marked(c) for i, c in full.items()} == fast


def test_a_contact_of_a_kind_the_model_does_not_list_is_read_the_general_way(
    factory: sessionmaker[Session],
) -> None:
    """No path writes such a contact (the forms, the import and case files refuse it), but a row
    edited by hand in the database must not be misread: its chunk is read as the full read reads
    it, reasons marked, and its kind kept."""
    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    with factory.begin() as s:
        child_id = s.query(models.Contact.child_id).filter(models.Contact.kind == "home_visit").first()[0]
        s.execute(text("UPDATE contacts SET kind = 'phone_call' WHERE child_id = :c"), {"c": child_id})
    with factory() as s:
        ids = [i for (i,) in s.query(models.Child.id)]
        full = cases_for_children(s, ids)
        fast = cases_for_children(s, ids, free_text=False)
    assert {c.kind for c in fast[child_id].contacts} == {"phone_call"}
    assert {i: _marked(c) for i, c in full.items()} == fast

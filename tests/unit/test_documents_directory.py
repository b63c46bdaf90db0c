"""The people kept in memory between documents (``services/documents/directory.py``) are, at
every instant asked, what folding afresh the events up to that instant gives, whatever order
the events arrive in and the instants are asked in."""

import datetime as dt
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from events.base import DomainEvent
from events.identity import RoleGranted, RoleRevoked, UserProfileChanged, UserRegistered
from services.documents.directory import Fold
from services.documents.people import People

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
USERS = ("u-a", "u-b")

events = st.sampled_from(
    [
        *(
            UserRegistered(user_id=u, username=u, full_name=f"Nama {u}", nip="198001012005012001")
            for u in USERS
        ),
        *(
            UserProfileChanged(
                user_id=u, full_name=f"Nama {u}, S.Kom.", nip="198001012005012002", rank="IV/a"
            )
            for u in USERS
        ),
        *(RoleGranted(user_id=u, role="KADIS") for u in USERS),
        *(RoleRevoked(user_id=u, role="KADIS", reason="Mutasi") for u in USERS),
    ]
)
Keyed = tuple[tuple[dt.datetime, uuid.UUID], DomainEvent]
keyed = st.tuples(
    st.tuples(st.integers(0, 5).map(lambda m: START + dt.timedelta(minutes=m)), st.uuids()),
    events,
)
steps = st.lists(
    st.one_of(keyed, st.integers(0, 6).map(lambda m: START + dt.timedelta(minutes=m))),
    max_size=30,
)


def afresh(added: list[Keyed], until: dt.datetime) -> People:
    return People.of(event for key, event in sorted(added, key=lambda k: k[0]) if key[0] <= until)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_the_kept_fold_is_the_fold_afresh_at_every_instant(plan: list[object]) -> None:
    fold, added = Fold(), list[Keyed]()
    for step in plan:
        if isinstance(step, dt.datetime):
            people, count = fold.at(step)
            assert people == afresh(added, step)
            assert count == sum(1 for key, _ in added if key[0] <= step)
            people.users.clear()  # a copy: the caller's changes stay its own
        else:
            assert isinstance(step, tuple)
            fold.add(*step)
            added.append(step)

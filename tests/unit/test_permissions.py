"""Subtrees of the institution tree: walked once per transaction, and never stale."""
from sqlalchemy import event

from portal.domain.permissions import subtree_ids
from portal.extensions import db
from portal.models import Institution, InstitutionKind
from tests.helpers import node


def count_statements():
    statements = []

    def record(*_args):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", record)


def test_a_subtree_is_walked_once_per_transaction_and_again_after_a_change(demo):
    regency = node("KAB-TANGERANG")
    first = subtree_ids({regency.id})
    assert regency.id in first and len(first) > 1

    statements, stop = count_statements()
    try:
        assert subtree_ids({regency.id}) == first
        assert statements == []  # the page's second question costs nothing

        unit = Institution(kind=InstitutionKind.UNIT, code="TNG-BARU", name="Unit Baru",
                           parent=regency)
        db.session.add(unit)
        db.session.flush()
        assert subtree_ids({regency.id}) == first | {unit.id}  # a new unit is seen at once

        db.session.commit()
        walked = len(statements)
        subtree_ids({regency.id})
        assert len(statements) > walked  # another transaction walks the tree again
    finally:
        stop()


def test_a_moved_unit_leaves_its_old_subtree(demo):
    regency = node("KAB-TANGERANG")
    unit = next(u for u in regency.children)
    assert unit.id in subtree_ids({regency.id})
    unit.parent = node("KEMENPANRB")
    db.session.flush()
    assert unit.id not in subtree_ids({regency.id})
    db.session.rollback()
    assert unit.id in subtree_ids({regency.id})

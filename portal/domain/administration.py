"""An institution admin runs their own node: its units, its staff and their roles, the categories
that route to its units, and its response templates.

Every function takes the acting admin and ``now``, checks that the actor is an institution admin
(or the national admin) of an ancestor-or-self node of whatever it changes, flushes and never
commits. Unknown ids raise ``NotFound``, ids outside the actor's subtree raise ``NotAllowed``;
every other refusal is a plain ``DomainError`` naming the form field it is about.
"""
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.domain import DomainError
from portal.domain.accounts import EMAIL_PATTERN, check_new_password
from portal.domain.permissions import nodes_for
from portal.domain.responses import PLACEHOLDER, fill_response
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    Institution,
    InstitutionKind,
    Membership,
    ResponseTemplate,
    Role,
    User,
)

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
BRACED = re.compile(r"\{([^{}\s]*)\}")
# For the help text; what counts as a placeholder is responses.PLACEHOLDER.
PLACEHOLDERS = ("nomor", "judul", "unit", "instansi", "tanggal")
# Which kind of node each grantable role sits on. The national admin role is not grantable here.
ROLE_NODE_KIND = {
    Role.LIAISON: InstitutionKind.UNIT,
    Role.OPERATOR: InstitutionKind.UNIT,
    Role.INSTITUTION_ADMIN: InstitutionKind.INSTITUTION,
    Role.SUPERVISOR: InstitutionKind.INSTITUTION,
}
GRANTABLE_ROLES = tuple(ROLE_NODE_KIND)
MAX_TEMPLATE_BODY = 10_000


class NotFound(DomainError):
    """The id names nothing."""


class NotAllowed(DomainError):
    """The thing exists, but outside the actor's part of the tree."""


# --------------------------------------------------------------------------- scope
def managed_node_ids(actor: User | None) -> set[int]:
    """Every node the actor administers: their institution-admin nodes and all below them;
    for the national admin, the whole tree."""
    if actor is None or not actor.is_staff or not actor.is_active:
        return set()
    return nodes_for(actor, Role.INSTITUTION_ADMIN) | nodes_for(actor, Role.NATIONAL_ADMIN)


ADMIN_ROLES = (Role.INSTITUTION_ADMIN, Role.NATIONAL_ADMIN)


def is_administrator(actor: User | None) -> bool:
    """Whether the actor administers some node (cheap: no tree query, for every page's nav)."""
    return bool(actor is not None and actor.is_staff and actor.is_active
                and any(m.role in ADMIN_ROLES for m in actor.memberships))


def _is_national_admin(actor: User) -> bool:
    return any(m.role is Role.NATIONAL_ADMIN for m in actor.memberships)


def _require_admin(actor: User | None) -> set[int]:
    scope = managed_node_ids(actor)
    if not scope:
        raise NotAllowed(_l("Only an institution administrator may do this."))
    return scope


def _load(model, ident):
    """The row with this id, or None for anything that is not a plausible id (a database
    integer overflows on PostgreSQL, which must not become a 500)."""
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 < ident < 2 ** 31:
        return None
    return db.session.get(model, ident)


def _node_in_scope(node_id, scope: set[int], *, field: str | None = None) -> Institution:
    node = _load(Institution, node_id)
    if node is None:
        raise NotFound(_l("This institution or unit does not exist."), field=field)
    if node.id not in scope:
        raise NotAllowed(_l("This institution or unit is outside the part you administer."),
                         field=field)
    return node


def _institution_of(node: Institution) -> Institution:
    """The institution-level node above (or at) ``node``: where its audit entries belong."""
    while node.kind is InstitutionKind.UNIT and node.parent is not None:
        node = node.parent
    return node


def managed_institutions(actor: User) -> list[Institution]:
    scope = _require_admin(actor)
    return list(db.session.scalars(
        select(Institution)
        .where(Institution.id.in_(scope), Institution.kind == InstitutionKind.INSTITUTION)
        .order_by(Institution.name, Institution.id)))


# --------------------------------------------------------------------------- units
def list_units(actor: User) -> list[Institution]:
    """The units below the actor's institutions, grouped by institution, then by name."""
    scope = _require_admin(actor)
    parent = aliased(Institution)
    return list(db.session.scalars(
        select(Institution)
        .join(parent, Institution.parent_id == parent.id)
        .where(Institution.id.in_(scope), Institution.kind == InstitutionKind.UNIT)
        .order_by(parent.name, Institution.name, Institution.id)))


def get_unit(actor: User, unit_id: int) -> Institution:
    unit = _node_in_scope(unit_id, _require_admin(actor))
    if unit.kind is not InstitutionKind.UNIT:
        raise NotFound(_l("This unit does not exist."))
    return unit


def _clean_name(name: str | None, *, field: str = "name", limit: int = 200) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Write a name."), field=field)
    if len(name) > limit:
        raise DomainError(_l("Use at most %(count)s characters.", count=limit), field=field)
    return name


def _clean_code(code: str | None) -> str:
    code = (code or "").strip().upper()
    if not CODE_PATTERN.match(code):
        raise DomainError(_l("Use 2 to 40 capital letters, digits and hyphens, like "
                             "TNG-DINSOS."), field="code")
    return code


def create_unit(actor: User, *, institution_id: int, name: str, code: str,
                now: datetime) -> Institution:
    """A new unit (OPD, kecamatan) directly below one of the actor's institutions."""
    scope = _require_admin(actor)
    parent = _node_in_scope(institution_id, scope, field="institution")
    if parent.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Units are created directly below an institution."),
                          field="institution")
    name = _clean_name(name)
    code = _clean_code(code)
    if db.session.scalar(select(Institution.id).where(func.upper(Institution.code) == code)):
        raise DomainError(_l("The code %(code)s is already in use. Choose another one.",
                             code=code), field="code")
    unit = Institution(kind=InstitutionKind.UNIT, code=code, name=name, parent=parent)
    db.session.add(unit)
    db.session.flush()
    return unit


def rename_unit(actor: User, unit_id: int, *, name: str, now: datetime) -> Institution:
    unit = get_unit(actor, unit_id)
    unit.name = _clean_name(name)
    db.session.flush()
    return unit


# --------------------------------------------------------------------------- staff
@dataclass
class StaffEntry:
    user: User
    memberships: list[Membership]  # only those inside the actor's subtree
    elsewhere: int  # how many roles the account holds outside it


def _staff_entry(user: User, scope: set[int]) -> StaffEntry:
    inside = sorted((m for m in user.memberships if m.institution_id in scope),
                    key=lambda m: (m.institution.name, m.role.value))
    return StaffEntry(user=user, memberships=inside,
                      elsewhere=len(user.memberships) - len(inside))


def list_staff(actor: User) -> list[StaffEntry]:
    """Staff with at least one role in the actor's subtree, by name."""
    scope = _require_admin(actor)
    users = db.session.scalars(
        select(User)
        .where(User.is_staff.is_(True),
               User.id.in_(select(Membership.user_id)
                           .where(Membership.institution_id.in_(scope))))
        .order_by(User.name, User.id)).all()
    return [_staff_entry(user, scope) for user in users]


def get_staff(actor: User, user_id: int) -> StaffEntry:
    scope = _require_admin(actor)
    user = _load(User, user_id)
    if user is None or not user.is_staff:
        raise NotFound(_l("This staff account does not exist."))
    entry = _staff_entry(user, scope)
    if not entry.memberships:
        raise NotAllowed(_l("This account holds no role in the part you administer."))
    return entry


def administers_account(actor: User, user_id: int) -> bool:
    """Whether the account holds a role in the actor's subtree (and so has a page here)."""
    try:
        get_staff(actor, user_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _audit_role(action: AuditAction, *, actor: User, membership: Membership, node: Institution,
                now: datetime) -> None:
    db.session.add(AuditEntry(
        action=action, actor=actor, subject_user=membership.user,
        institution_id=_institution_of(node).id, created_at=now,
        detail=f"{membership.role.value} @ {node.code}"))


def _grant(actor: User, user: User, *, role, node_id, scope: set[int],
           now: datetime) -> Membership:
    if role is Role.NATIONAL_ADMIN:
        raise DomainError(_l("The national administrator role cannot be granted here."),
                          field="role")
    if role not in ROLE_NODE_KIND:
        raise DomainError(_l("Choose a role."), field="role")
    node = _node_in_scope(node_id, scope, field="node")
    if node.kind is not ROLE_NODE_KIND[role]:
        if ROLE_NODE_KIND[role] is InstitutionKind.UNIT:
            message = _l("Liaisons and operators work at a unit: choose a unit.")
        else:
            message = _l("Institution admins and supervisors work at an institution: choose "
                         "the institution, not a unit.")
        raise DomainError(message, field="node")
    if any(m.role is role and m.institution_id == node.id for m in user.memberships):
        raise DomainError(_l("This account already holds this role there."), field="role")
    membership = Membership(institution=node, role=role)
    user.memberships.append(membership)
    _audit_role(AuditAction.ROLE_GRANTED, actor=actor, membership=membership, node=node, now=now)
    db.session.flush()
    return membership


def create_staff(actor: User, *, name: str, email: str, password: str, role, node_id,
                 now: datetime) -> User:
    """A staff account with its first role; the admin hands over the initial password."""
    scope = _require_admin(actor)
    name = _clean_name(name)
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise DomainError(_l("This is not a valid e-mail address."), field="email")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise DomainError(_l("An account with this e-mail address already exists."),
                          field="email")
    check_new_password(password)
    user = User(name=name, email=email, is_staff=True, created_at=now)
    user.set_password(password)
    db.session.add(user)
    _grant(actor, user, role=role, node_id=node_id, scope=scope, now=now)
    return user


def grant_role(actor: User, user_id: int, *, role, node_id, now: datetime) -> Membership:
    """Another role for a staff member who already works in the actor's subtree."""
    entry = get_staff(actor, user_id)
    return _grant(actor, entry.user, role=role, node_id=node_id,
                  scope=managed_node_ids(actor), now=now)


def _membership_in_scope(actor: User, membership_id: int) -> Membership:
    scope = _require_admin(actor)
    membership = _load(Membership, membership_id)
    if membership is None:
        raise NotFound(_l("This role does not exist."))
    if membership.institution_id not in scope:
        raise NotAllowed(_l("This role is outside the part you administer."))
    return membership


def membership_holder(actor: User, membership_id: int) -> int:
    """The id of the account holding a membership the actor administers."""
    return _membership_in_scope(actor, membership_id).user_id


def revoke_membership(actor: User, membership_id: int, *, now: datetime) -> User:
    """Take one role away; returns the account that held it."""
    membership = _membership_in_scope(actor, membership_id)
    if membership.role is Role.NATIONAL_ADMIN:
        raise NotAllowed(_l("The national administrator role cannot be changed here."))
    user = membership.user
    if user.id == actor.id and membership.role is Role.INSTITUTION_ADMIN and sum(
        1 for m in actor.memberships if m.role is Role.INSTITUTION_ADMIN
    ) == 1:
        raise DomainError(_l("This is your last administrator role: you would lock yourself "
                             "out. Ask another administrator to revoke it."))
    if len(user.memberships) == 1:
        raise DomainError(_l("This is the account's only role. Grant another role first, or "
                             "deactivate the account instead."))
    node = membership.institution
    _audit_role(AuditAction.ROLE_REVOKED, actor=actor, membership=membership, node=node, now=now)
    user.memberships.remove(membership)
    db.session.flush()
    return user


def set_account_active(actor: User, user_id: int, *, active: bool, now: datetime) -> User:
    """Deactivate or reactivate a staff account whose roles all lie in the actor's subtree.

    Deactivating ends the account's sessions; its history and roles stay."""
    entry = get_staff(actor, user_id)
    user = entry.user
    if entry.elsewhere:
        raise DomainError(_l("This account also holds roles elsewhere; only the national "
                            "administrator can deactivate it."))
    if user.id == actor.id:
        raise DomainError(_l("You cannot deactivate your own account."))
    if user.is_active_account == active:
        return user
    user.is_active_account = active
    if not active:
        user.session_version += 1
    db.session.flush()
    return user


def assignable_nodes(actor: User) -> list[Institution]:
    """The nodes a role may be granted at: each institution, followed by its units."""
    units_by_parent: dict[int, list[Institution]] = {}
    for unit in list_units(actor):
        units_by_parent.setdefault(unit.parent_id, []).append(unit)
    nodes = []
    for institution in managed_institutions(actor):
        nodes.append(institution)
        nodes.extend(units_by_parent.get(institution.id, []))
    return nodes


# --------------------------------------------------------------------------- categories
def may_edit_category(actor: User, category: Category) -> bool:
    scope = managed_node_ids(actor)
    if not scope:
        return False
    if _is_national_admin(actor):
        return True
    return category.default_unit_id is None or category.default_unit_id in scope


def list_categories(actor: User) -> list[Category]:
    """The categories the actor may edit: those routed to their units and those routed
    nowhere (the national admin sees all)."""
    scope = _require_admin(actor)
    query = select(Category).order_by(Category.name_id, Category.id)
    if not _is_national_admin(actor):
        query = query.where(Category.default_unit_id.is_(None)
                            | Category.default_unit_id.in_(scope))
    return list(db.session.scalars(query))


def get_category(actor: User, category_id: int) -> Category:
    _require_admin(actor)
    category = _load(Category, category_id)
    if category is None:
        raise NotFound(_l("This category does not exist."))
    if not may_edit_category(actor, category):
        raise NotAllowed(_l("This category routes to a unit of another institution."))
    return category


@dataclass
class CategoryData:
    name_id: str
    name_en: str
    default_unit_id: int | None
    is_urgent: bool
    is_active: bool


def _apply_category(actor: User, category: Category, data: CategoryData) -> None:
    category.name_id = _clean_name(data.name_id, field="name_id", limit=120)
    category.name_en = _clean_name(data.name_en, field="name_en", limit=120)
    if data.default_unit_id is None:
        category.default_unit = None
    else:
        unit = _node_in_scope(data.default_unit_id, managed_node_ids(actor),
                              field="default_unit")
        if unit.kind is not InstitutionKind.UNIT:
            raise DomainError(_l("Choose a unit."), field="default_unit")
        category.default_unit = unit
    category.is_urgent = bool(data.is_urgent)
    category.is_active = bool(data.is_active)


def create_category(actor: User, *, code: str, data: CategoryData, now: datetime) -> Category:
    _require_admin(actor)
    code = _clean_code(code)
    if db.session.scalar(select(Category.id).where(func.upper(Category.code) == code)):
        raise DomainError(_l("The code %(code)s is already in use. Choose another one.",
                             code=code), field="code")
    category = Category(code=code)
    _apply_category(actor, category, data)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(actor: User, category_id: int, *, data: CategoryData,
                    now: datetime) -> Category:
    """Names, routing, urgency and whether citizens can choose it; the code stays."""
    category = get_category(actor, category_id)
    _apply_category(actor, category, data)
    db.session.flush()
    return category


# --------------------------------------------------------------------------- templates
def list_templates(actor: User) -> list[ResponseTemplate]:
    scope = _require_admin(actor)
    return list(db.session.scalars(
        select(ResponseTemplate).join(ResponseTemplate.institution)
        .where(ResponseTemplate.institution_id.in_(scope))
        .order_by(Institution.name, ResponseTemplate.title, ResponseTemplate.id)))


def get_template(actor: User, template_id: int) -> ResponseTemplate:
    scope = _require_admin(actor)
    template = _load(ResponseTemplate, template_id)
    if template is None:
        raise NotFound(_l("This template does not exist."))
    if template.institution_id not in scope:
        raise NotAllowed(_l("This template belongs to another institution."))
    return template


def check_template_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise DomainError(_l("Write the text of the answer."), field="body")
    if len(body) > MAX_TEMPLATE_BODY:
        raise DomainError(_l("Use at most %(count)s characters.", count=MAX_TEMPLATE_BODY),
                          field="body")
    unknown = sorted({name for name in BRACED.findall(body)
                      if not PLACEHOLDER.fullmatch("{%s}" % name)})
    if unknown:
        raise DomainError(_l("Unknown placeholder: %(names)s. Use only {nomor}, {judul}, "
                             "{unit}, {instansi} and {tanggal}.",
                             names=", ".join("{%s}" % name for name in unknown)), field="body")
    return body


def _clean_title(title: str | None) -> str:
    return _clean_name(title, field="title", limit=200)


def create_template(actor: User, *, institution_id: int, title: str, body: str,
                    now: datetime) -> ResponseTemplate:
    institution = _node_in_scope(institution_id, _require_admin(actor), field="institution")
    if institution.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Templates belong to an institution, not to a unit."),
                          field="institution")
    template = ResponseTemplate(institution=institution, title=_clean_title(title),
                                body=check_template_body(body))
    db.session.add(template)
    db.session.flush()
    return template


def update_template(actor: User, template_id: int, *, title: str, body: str,
                    now: datetime) -> ResponseTemplate:
    template = get_template(actor, template_id)
    template.title = _clean_title(title)
    template.body = check_template_body(body)
    db.session.flush()
    return template


def delete_template(actor: User, template_id: int, *, now: datetime) -> None:
    db.session.delete(get_template(actor, template_id))
    db.session.flush()


@dataclass
class _SampleNode:
    name: str


@dataclass
class _SampleReport:
    """Just what ``fill_response`` reads from a report; never touches the session."""
    public_number: str
    title: str
    current_unit: _SampleNode | None
    current_institution: _SampleNode | None


@dataclass
class _SampleTemplate:
    body: str


def preview_template(body: str, institution: Institution | None, *, now: datetime) -> str:
    """``body`` filled in for a made-up report of ``institution``, at its first unit."""
    unit = None
    if institution is not None:
        unit = db.session.scalar(
            select(Institution.name)
            .where(Institution.parent_id == institution.id,
                   Institution.kind == InstitutionKind.UNIT)
            .order_by(Institution.name).limit(1))
    sample = _SampleReport(
        public_number=f"LPR-{now:%Y}-0000123",
        title=str(_l("Damaged road in front of Cikupa market")),
        current_unit=_SampleNode(unit) if unit else None,
        current_institution=_SampleNode(institution.name) if institution else None,
    )
    return fill_response(_SampleTemplate(body=body or ""), sample, now=now)


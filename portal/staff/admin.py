"""The institution admin's pages: units, staff and roles, categories, response templates.

Thin views: parse the form, call one function of portal.domain.administration, commit once,
redirect (or re-render with the errors next to the fields). Ids the domain does not know give
404, ids outside the admin's part of the tree give 403.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from portal.domain import DomainError
from portal.domain import administration as admin
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.labels import ROLE
from portal.models import InstitutionKind, Role
from portal.models.types import utcnow
from portal.staff.admin_forms import (
    CategoryForm,
    GrantForm,
    RenameUnitForm,
    StaffForm,
    TemplateForm,
    UnitForm,
)
from portal.web import add_form_error

blueprint = Blueprint("staff_admin", __name__, url_prefix="/staf/kelola")


def _actor():
    return current_user._get_current_object()


@blueprint.before_request
def require_administrator():
    """Anonymous visitors go to the staff sign-in (and back afterwards); signed-in people who
    administer no node get 403."""
    if not current_user.is_authenticated or not current_user.is_active:
        next_page = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("staff.login", next=next_page))
    if not admin.is_administrator(_actor()):
        abort(403)
    return None


@blueprint.context_processor
def shared_labels():
    return {"role_labels": ROLE}


# --------------------------------------------------------------------------- plumbing
def _abort_for(error: DomainError):
    db.session.rollback()
    abort(404 if isinstance(error, admin.NotFound) else 403)


def _lookup(function, *args):
    """A domain getter for a page; unknown → 404, somebody else's → 403."""
    try:
        return function(_actor(), *args)
    except (admin.NotFound, admin.NotAllowed) as error:
        _abort_for(error)


def _attempt(form, operation):
    """Run one domain operation and commit. Returns (result, True) or (None, False) with the
    refusal written onto ``form``."""
    try:
        result = operation()
        db.session.commit()
    except (admin.NotFound, admin.NotAllowed) as error:
        _abort_for(error)
    except DomainError as error:
        db.session.rollback()
        add_form_error(form, error.field, error.message)
        return None, False
    except IntegrityError:  # somebody else saved the same code or e-mail a moment ago
        db.session.rollback()
        form.form_errors.append(_l("Someone else changed this at the same time. Check the "
                                   "form and send it again."))
        return None, False
    return result, True


def _act(operation, success_message):
    """A one-button action (revoke, deactivate, delete): the outcome goes to a flash message.
    Returns (what the operation returned, True), or (None, False) when it was refused."""
    try:
        result = operation()
        db.session.commit()
    except (admin.NotFound, admin.NotAllowed) as error:
        _abort_for(error)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None, False
    flash(success_message, "info")
    return result, True


def _institution_choices(form_field) -> None:
    form_field.choices = [SelectChoice(i.id, i.name) for i in admin.managed_institutions(_actor())]


def _node_choices(form_field) -> None:
    choices = []
    for node in admin.assignable_nodes(_actor()):
        if node.kind is InstitutionKind.UNIT:
            label = f"{node.parent.name} › {node.name}"
        else:
            label = node.name
        choices.append(SelectChoice(node.id, label))
    form_field.choices = [SelectChoice("", _l("— choose —"))] + choices


def _role_choices(form_field) -> None:
    form_field.choices = [SelectChoice("", _l("— choose a role —"))] + [
        SelectChoice(role.value, ROLE[role]) for role in admin.GRANTABLE_ROLES]


# --------------------------------------------------------------------------- index
@blueprint.get("/")
def index():
    return render_template("staff/admin/index.html",
                           institutions=admin.managed_institutions(_actor()))


# --------------------------------------------------------------------------- units
@blueprint.route("/unit", methods=["GET", "POST"])
def units():
    form = UnitForm()
    _institution_choices(form.institution)
    if request.method == "POST":
        if form.validate():
            unit, done = _attempt(form, lambda: admin.create_unit(
                _actor(), institution_id=form.institution.data, name=form.name.data,
                code=form.code.data, now=utcnow()))
            if done:
                flash(_l("Unit %(name)s created.", name=unit.name), "info")
                return redirect(url_for("staff_admin.units"))
        return render_template("staff/admin/units.html", form=form,
                               units=admin.list_units(_actor())), 422
    return render_template("staff/admin/units.html", form=form, units=admin.list_units(_actor()))


@blueprint.route("/unit/<int:unit_id>", methods=["GET", "POST"])
def unit(unit_id: int):
    found = _lookup(admin.get_unit, unit_id)
    form = RenameUnitForm(obj=found)
    if request.method == "POST":
        if form.validate():
            _, done = _attempt(form, lambda: admin.rename_unit(
                _actor(), unit_id, name=form.name.data, now=utcnow()))
            if done:
                flash(_l("Unit renamed."), "info")
                return redirect(url_for("staff_admin.units"))
        return render_template("staff/admin/unit.html", form=form, unit=found), 422
    return render_template("staff/admin/unit.html", form=form, unit=found)


# --------------------------------------------------------------------------- staff
@blueprint.get("/petugas")
def staff_list():
    return render_template("staff/admin/staff_list.html", entries=admin.list_staff(_actor()))


@blueprint.route("/petugas/baru", methods=["GET", "POST"])
def staff_new():
    form = StaffForm()
    _role_choices(form.role)
    _node_choices(form.node)
    if request.method == "POST":
        if form.validate():
            user, done = _attempt(form, lambda: admin.create_staff(
                _actor(), name=form.name.data, email=form.email.data,
                password=form.password.data, role=Role(form.role.data), node_id=form.node.data,
                now=utcnow()))
            if done:
                flash(_l("Account for %(name)s created. Give them the initial password in "
                         "person.", name=user.name), "info")
                return redirect(url_for("staff_admin.staff_member", user_id=user.id))
        return render_template("staff/admin/staff_new.html", form=form), 422
    return render_template("staff/admin/staff_new.html", form=form)


def _render_member(user_id: int, grant_form: GrantForm, status: int = 200):
    entry = _lookup(admin.get_staff, user_id)
    return render_template("staff/admin/staff_member.html", entry=entry, form=grant_form,
                           is_self=entry.user.id == current_user.id), status


@blueprint.get("/petugas/<int:user_id>")
def staff_member(user_id: int):
    form = GrantForm()
    _role_choices(form.role)
    _node_choices(form.node)
    return _render_member(user_id, form)


@blueprint.post("/petugas/<int:user_id>/peran")
def grant(user_id: int):
    _lookup(admin.get_staff, user_id)
    form = GrantForm()
    _role_choices(form.role)
    _node_choices(form.node)
    if form.validate():
        _, done = _attempt(form, lambda: admin.grant_role(
            _actor(), user_id, role=Role(form.role.data), node_id=form.node.data, now=utcnow()))
        if done:
            flash(_l("Role granted."), "info")
            return redirect(url_for("staff_admin.staff_member", user_id=user_id))
    return _render_member(user_id, form, 422)


@blueprint.post("/peran/<int:membership_id>/cabut")
def revoke(membership_id: int):
    user_id, done = _act(
        lambda: admin.revoke_membership(_actor(), membership_id, now=utcnow()).id,
        _l("Role revoked."))
    if not done:  # refused: the membership is still there, and so is its holder
        user_id = _lookup(admin.membership_holder, membership_id)
    elif not admin.administers_account(_actor(), user_id):  # their last role here is gone
        return redirect(url_for("staff_admin.staff_list"))
    return redirect(url_for("staff_admin.staff_member", user_id=user_id))


@blueprint.post("/petugas/<int:user_id>/nonaktifkan")
def deactivate(user_id: int):
    _act(lambda: admin.set_account_active(_actor(), user_id, active=False, now=utcnow()),
         _l("Account deactivated: it can no longer sign in."))
    return redirect(url_for("staff_admin.staff_member", user_id=user_id))


@blueprint.post("/petugas/<int:user_id>/aktifkan")
def reactivate(user_id: int):
    _act(lambda: admin.set_account_active(_actor(), user_id, active=True, now=utcnow()),
         _l("Account active again."))
    return redirect(url_for("staff_admin.staff_member", user_id=user_id))


# --------------------------------------------------------------------------- categories
def _unit_choices(form_field) -> None:
    form_field.choices = [SelectChoice("", _l("— no default unit —"))] + [
        SelectChoice(u.id, f"{u.parent.name} › {u.name}") for u in admin.list_units(_actor())]


def _category_data(form: CategoryForm) -> admin.CategoryData:
    return admin.CategoryData(
        name_id=form.name_id.data, name_en=form.name_en.data,
        default_unit_id=form.default_unit.data, is_urgent=form.is_urgent.data,
        is_active=form.is_active.data)


@blueprint.get("/kategori")
def categories():
    return render_template("staff/admin/categories.html",
                           categories=admin.list_categories(_actor()))


@blueprint.route("/kategori/baru", methods=["GET", "POST"])
def category_new():
    form = CategoryForm()
    _unit_choices(form.default_unit)
    if request.method == "POST":
        if form.validate():
            _, done = _attempt(form, lambda: admin.create_category(
                _actor(), code=form.code.data, data=_category_data(form), now=utcnow()))
            if done:
                flash(_l("Category created."), "info")
                return redirect(url_for("staff_admin.categories"))
        return render_template("staff/admin/category_form.html", form=form, category=None), 422
    return render_template("staff/admin/category_form.html", form=form, category=None)


@blueprint.route("/kategori/<int:category_id>", methods=["GET", "POST"])
def category_edit(category_id: int):
    category = _lookup(admin.get_category, category_id)
    form = CategoryForm(obj=category)
    del form.code  # the code names the category to other systems: it stays
    _unit_choices(form.default_unit)
    if request.method == "GET" or not form.default_unit.raw_data:
        # From ``obj`` the field holds the unit object, not its id; a POST without the field
        # keeps the current unit, as the other fields keep their values.
        form.default_unit.data = category.default_unit_id
    if request.method == "GET":
        return render_template("staff/admin/category_form.html", form=form, category=category)
    if form.validate():
        _, done = _attempt(form, lambda: admin.update_category(
            _actor(), category_id, data=_category_data(form), now=utcnow()))
        if done:
            flash(_l("Category saved."), "info")
            return redirect(url_for("staff_admin.categories"))
    return render_template("staff/admin/category_form.html", form=form, category=category), 422


# --------------------------------------------------------------------------- templates
def _render_template_form(form, template, *, preview=None, status=200):
    return render_template("staff/admin/template_form.html", form=form, template=template,
                           preview=preview, placeholders=admin.PLACEHOLDERS), status


def _preview(form, institution):
    """The body filled for a sample report, or the reason it cannot be."""
    try:
        body = admin.check_template_body(form.body.data)
    except DomainError as error:
        add_form_error(form, error.field, error.message)
        return None
    return admin.preview_template(body, institution, now=utcnow())


@blueprint.get("/templat")
def templates():
    return render_template("staff/admin/templates.html", templates=admin.list_templates(_actor()),
                           placeholders=admin.PLACEHOLDERS)


@blueprint.route("/templat/baru", methods=["GET", "POST"])
def template_new():
    form = TemplateForm()
    _institution_choices(form.institution)
    if request.method == "GET":
        return _render_template_form(form, None)
    if not form.validate():
        return _render_template_form(form, None, status=422)
    if form.preview.data:
        institution = next((i for i in admin.managed_institutions(_actor())
                            if i.id == form.institution.data), None)
        preview = _preview(form, institution)
        return _render_template_form(form, None, preview=preview,
                                     status=200 if preview is not None else 422)
    _, done = _attempt(form, lambda: admin.create_template(
        _actor(), institution_id=form.institution.data, title=form.title.data,
        body=form.body.data, now=utcnow()))
    if done:
        flash(_l("Template saved."), "info")
        return redirect(url_for("staff_admin.templates"))
    return _render_template_form(form, None, status=422)


@blueprint.route("/templat/<int:template_id>", methods=["GET", "POST"])
def template_edit(template_id: int):
    template = _lookup(admin.get_template, template_id)
    form = TemplateForm(obj=template)
    del form.institution  # a template stays with its institution
    if request.method == "GET":
        preview = admin.preview_template(template.body, template.institution, now=utcnow())
        return _render_template_form(form, template, preview=preview)
    if not form.validate():
        return _render_template_form(form, template, status=422)
    if form.preview.data:
        preview = _preview(form, template.institution)
        return _render_template_form(form, template, preview=preview,
                                     status=200 if preview is not None else 422)
    _, done = _attempt(form, lambda: admin.update_template(
        _actor(), template_id, title=form.title.data, body=form.body.data, now=utcnow()))
    if done:
        flash(_l("Template saved."), "info")
        return redirect(url_for("staff_admin.templates"))
    return _render_template_form(form, template, status=422)


@blueprint.post("/templat/<int:template_id>/hapus")
def template_delete(template_id: int):
    _, done = _act(lambda: admin.delete_template(_actor(), template_id, now=utcnow()),
                   _l("Template deleted."))
    if done:
        return redirect(url_for("staff_admin.templates"))
    return redirect(url_for("staff_admin.template_edit", template_id=template_id))



from portal.staff import admin_deadlines  # noqa: E402,F401  (the deadline pages)
from portal.staff import admin_feed  # noqa: E402,F401  (the feed sources page)
from portal.staff import admin_api_clients  # noqa: E402,F401  (the Open311 API keys page)

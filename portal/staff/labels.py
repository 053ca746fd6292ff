"""What the staff workspace calls actions, roles and audit entries, in the user's language."""
from portal.domain.workflow import Action
from portal.i18n import lazy_gettext as _l
from portal.labels import ROLE  # noqa: F401  (re-exported for the staff templates)
from portal.models import ArchiveReason, AuditAction

ACTION = {
    Action.ROUTE: _l("Send to an institution"),
    Action.VERIFY: _l("Verify"),
    Action.POSTPONE: _l("Postpone"),
    Action.NOT_IN_AUTHORITY: _l("Not in our authority"),
    Action.ARCHIVE: _l("Archive"),
    Action.DISPOSITION: _l("Forward to a unit"),
    Action.ACCEPT: _l("Accept for the unit"),
    Action.ASSIGN: _l("Assign an operator"),
    Action.SEND_BACK: _l("Send back to the institution admin"),
    Action.FOLLOW_UP: _l("Record a follow-up"),
    Action.ANSWER: _l("Send the answer"),
    Action.COMPLETE: _l("Complete"),
    Action.NOTE: _l("Add an internal note"),
    Action.REQUEST_CLARIFICATION: _l("Ask the reporter for a clarification"),
    Action.EXTEND: _l("Extend the answer time (once)"),
}

# What the message box is called for each action.
MESSAGE = {
    Action.ROUTE: _l("Note for the institution (optional)"),
    Action.VERIFY: _l("Note (optional)"),
    Action.POSTPONE: _l("Reason for postponing"),
    Action.NOT_IN_AUTHORITY: _l("Reason"),
    Action.ARCHIVE: _l("Note (optional)"),
    Action.DISPOSITION: _l("Instruction to the unit (internal, optional)"),
    Action.ACCEPT: _l("Note (optional)"),
    Action.ASSIGN: _l("Instruction to the operator (optional)"),
    Action.SEND_BACK: _l("Why the unit sends it back"),
    Action.FOLLOW_UP: _l("What was done"),
    Action.ANSWER: _l("Answer to the reporter"),
    Action.COMPLETE: _l("Closing note (optional)"),
    Action.NOTE: _l("Internal note"),
    Action.REQUEST_CLARIFICATION: _l("Question to the reporter (the deadline stops until "
                                     "they reply)"),
    Action.EXTEND: _l("Reason for the extension (shown to the reporter)"),
}

TARGET = {
    Action.ROUTE: _l("Institution"),
    Action.NOT_IN_AUTHORITY: _l("Forward to institution (optional)"),
    Action.DISPOSITION: _l("Unit"),
}

ARCHIVE_REASON = {
    ArchiveReason.DUPLICATE: _l("Duplicate of another report"),
    ArchiveReason.NOT_ACTIONABLE: _l("Cannot be acted upon"),
    ArchiveReason.TOO_GENERAL: _l("Too general"),
    ArchiveReason.IRRELEVANT: _l("Not relevant"),
}


AUDIT = {
    AuditAction.IDENTITY_VIEWED: _l("Reporter's identity viewed"),
    AuditAction.ROLE_GRANTED: _l("Role granted"),
    AuditAction.ROLE_REVOKED: _l("Role revoked"),
    AuditAction.EXPORT: _l("Data exported"),
    AuditAction.LOGIN_FAILED: _l("Failed sign-in"),
    AuditAction.LOGIN_LOCKED: _l("Sign-in refused: account paused"),
    AuditAction.DEADLINE_POLICY_SAVED: _l("Deadlines changed"),
    AuditAction.HOLIDAY_ADDED: _l("Holiday added"),
    AuditAction.HOLIDAY_REMOVED: _l("Holiday removed"),
    AuditAction.WEBHOOK_CHANGED: _l("Webhook for deadline notices changed"),
    AuditAction.FEED_SOURCE_CHANGED: _l("Feed source changed"),
}

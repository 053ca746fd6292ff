"""What each state and kind is called on screen, in the user's language."""
from portal.i18n import lazy_gettext as _l
from portal.models import Channel, DeadlineKind, EventKind, ReportKind, ReportStatus, Role

KIND = {
    ReportKind.ASPIRATION: _l("Aspiration"),
    ReportKind.COMPLAINT: _l("Complaint"),
    ReportKind.INFORMATION_REQUEST: _l("Information request"),
}
KIND_HINT = {
    ReportKind.ASPIRATION: _l("An idea or a suggestion for better public services."),
    ReportKind.COMPLAINT: _l("A problem with a public service that needs to be put right."),
    ReportKind.INFORMATION_REQUEST: _l("A question to a government agency about public information."),
}
STATUS = {
    ReportStatus.SUBMITTED: _l("Submitted"),
    ReportStatus.VERIFIED: _l("Verified"),
    ReportStatus.DISPOSITIONED: _l("Forwarded to the unit"),
    ReportStatus.IN_PROGRESS: _l("In progress"),
    ReportStatus.ANSWERED: _l("Answered"),
    ReportStatus.COMPLETED: _l("Completed"),
    ReportStatus.POSTPONED: _l("Postponed"),
    ReportStatus.NOT_IN_AUTHORITY: _l("Not in this agency's authority"),
    ReportStatus.ARCHIVED: _l("Archived"),
    ReportStatus.REOPENED: _l("Reopened"),
}
CHANNEL = {
    Channel.WEB: _l("Website"),
    Channel.NATIONAL_FEED: _l("National feed"),
    Channel.SMS: _l("SMS"),
    Channel.SOCIAL_MEDIA: _l("Social media"),
    Channel.PHONE: _l("Phone"),
    Channel.WALK_IN: _l("Walk-in"),
    Channel.WHATSAPP: _l("WhatsApp"),
    Channel.EMAIL: _l("E-mail"),
    Channel.MOBILE_APP: _l("Mobile app"),
}
EVENT = {
    EventKind.SUBMITTED: _l("Report received"),
    EventKind.VERIFIED: _l("Report verified"),
    EventKind.ROUTED: _l("Sent to the responsible institution"),
    EventKind.DISPOSITIONED: _l("Forwarded to the responsible unit"),
    EventKind.ACCEPTED: _l("Accepted by the unit"),
    EventKind.ASSIGNED: _l("Assigned to an officer"),
    EventKind.SENT_BACK: _l("Sent back for re-routing"),
    EventKind.FOLLOW_UP: _l("Follow-up"),
    EventKind.ANSWERED: _l("Answer"),
    EventKind.POSTPONED: _l("Postponed"),
    EventKind.NOT_IN_AUTHORITY: _l("Not in this agency's authority"),
    EventKind.ARCHIVED: _l("Archived"),
    EventKind.REOPENED: _l("Reopened"),
    EventKind.COMPLETED: _l("Completed"),
    EventKind.REPORTER_REPLY: _l("Reply from the reporter"),
    EventKind.RATED: _l("Rated by the reporter"),
    EventKind.NOTE: _l("Note"),
    EventKind.CLARIFICATION_REQUESTED: _l("Question to the reporter"),
    EventKind.DEADLINE_EXTENDED: _l("Answer time extended"),
    EventKind.OVERDUE: _l("Deadline passed: under supervision"),
    EventKind.DUPLICATE_MERGED: _l("A duplicate of this report was archived"),
}
ROLE = {
    Role.NATIONAL_ADMIN: _l("National administrator"),
    Role.INSTITUTION_ADMIN: _l("Institution administrator"),
    Role.LIAISON: _l("Liaison officer (pejabat penghubung)"),
    Role.OPERATOR: _l("Operator"),
    Role.SUPERVISOR: _l("Supervisor (inspektorat)"),
}
# The staff deadline clock (portal/domain/deadlines.py): a word for every state, never colour only.
CLOCK_STATE = {
    "green": _l("On time"),
    "yellow": _l("Due soon"),
    "red": _l("Overdue"),
    "paused": _l("Paused: waiting for the reporter"),
}
DEADLINE_KIND = {
    DeadlineKind.VERIFICATION: _l("Verification"),
    DeadlineKind.FOLLOW_UP: _l("Follow-up by the unit"),
    DeadlineKind.INFORMATION_ANSWER: _l("Answer to the information request"),
}

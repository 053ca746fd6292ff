"""Response templates: an institution's ready-made answers, filled in for one report."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from portal.models import Report, ResponseTemplate

JAKARTA = ZoneInfo("Asia/Jakarta")
PLACEHOLDER = re.compile(r"\{(nomor|judul|unit|instansi|tanggal)\}")


def fill_response(template: ResponseTemplate, report: Report, *, now: datetime) -> str:
    """Replace the known placeholders; anything else in braces is left as written."""
    values = {
        "nomor": report.public_number or "",
        "judul": report.title,
        "unit": report.current_unit.name if report.current_unit else "",
        "instansi": report.current_institution.name if report.current_institution else "",
        "tanggal": now.astimezone(JAKARTA).strftime("%d-%m-%Y"),
    }
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template.body)

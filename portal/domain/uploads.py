"""Checking uploaded files: type from the bytes, size, and images re-encoded without metadata."""
import io
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.domain import DomainError
from portal.i18n import lazy_gettext as _l

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
# A photo from a phone is 12-50 megapixels; anything far beyond is a decompression bomb.
MAX_IMAGE_PIXELS = 80_000_000


@dataclass(frozen=True)
class PreparedUpload:
    original_name: str
    content_type: str
    extension: str
    data: bytes


class UploadRejected(DomainError):
    pass


def clean_original_name(name: str | None) -> str:
    """The name the reporter gave, reduced to its last path part; metadata only."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "berkas"


def prepare_upload(original_name: str | None, data: bytes, max_bytes: int) -> PreparedUpload:
    name = clean_original_name(original_name)
    if len(data) == 0:
        raise UploadRejected(_l("The file %(name)s is empty.", name=name), field="attachments")
    if len(data) > max_bytes:
        raise UploadRejected(
            _l("The file %(name)s is larger than %(limit)s MB.", name=name,
               limit=max_bytes // (1024 * 1024)),
            field="attachments",
        )
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime in IMAGE_TYPES:
        return PreparedUpload(name, mime, IMAGE_TYPES[mime], _reencode_image(data, mime, name))
    if mime in DOCUMENT_TYPES:
        return PreparedUpload(name, mime, DOCUMENT_TYPES[mime], data)
    raise UploadRejected(
        _l("The file %(name)s is not a photo (JPEG, PNG, WebP) or a document (PDF, DOCX).",
           name=name),
        field="attachments",
    )


def _reencode_image(data: bytes, mime: str, name: str) -> bytes:
    """Decode and encode again: EXIF (GPS position, camera serial) and every other chunk of
    metadata stay behind; the picture is turned upright first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                image.load()
                upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if mime == "image/jpeg":
            clean = Image.new(upright.mode if upright.mode in ("RGB", "L") else "RGB", upright.size)
            clean.paste(upright.convert(clean.mode))
            clean.save(out, format="JPEG", quality=88, optimize=True)
        elif mime == "image/png":
            clean = Image.new(upright.mode if upright.mode in ("RGB", "RGBA", "L", "LA") else "RGBA",
                              upright.size)
            clean.paste(upright.convert(clean.mode))
            clean.save(out, format="PNG", optimize=True)
        else:
            clean = Image.new("RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB", upright.size)
            clean.paste(upright.convert(clean.mode))
            clean.save(out, format="WEBP", quality=88)
        return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(
            _l("The photo %(name)s could not be read.", name=name), field="attachments"
        ) from exc

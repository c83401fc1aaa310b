"""Reading request bodies with a size limit, from raw posts or multipart uploads."""

from __future__ import annotations

from fastapi import Request

from app.errors import PayloadTooLarge, VerbatimError


async def read_limited(request: Request, max_bytes: int) -> tuple[bytes, str | None]:
    """The body (or the uploaded file of a multipart form) and its content type."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    content_type = request.headers.get("content-type")
    if content_type and content_type.lower().startswith("multipart/form-data"):
        return await _upload(request, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks), content_type


async def _upload(request: Request, max_bytes: int) -> tuple[bytes, str | None]:
    async with request.form(max_files=1, max_fields=50, max_part_size=max_bytes) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise VerbatimError("multipart upload needs a 'file' field", code="missing_file",
                                detail={"field": "file"})
        data = await upload.read(max_bytes + 1)
        filename = upload.filename
        content_type = upload.content_type
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if content_type in (None, "application/octet-stream") and filename:
        content_type = _by_extension(filename)
    return data, content_type


def _by_extension(filename: str) -> str | None:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {"vtt": "text/vtt", "srt": "application/x-subrip", "txt": "text/plain",
            "json": "application/json"}.get(ext)


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {max_bytes} bytes",
                           detail={"max_bytes": max_bytes})

"""TikTok's media restrictions, checked against the video metadata a pipeline announces.

Each broken rule becomes one line in plain words, so someone can cancel before TikTok
fails the upload. Missing fields are not judged.
"""

from __future__ import annotations

from decimal import Decimal

FORMATS = {"mp4": "MP4", "webm": "WebM", "mov": "MOV", "quicktime": "MOV"}
CODECS = {"h264": "H.264", "h265": "H.265", "hevc": "H.265", "vp8": "VP8", "vp9": "VP9"}
MIN_FPS, MAX_FPS = 23, 60
MIN_SIDE, MAX_SIDE = 360, 4096
MAX_DURATION_S = 10 * 60
MAX_SIZE_BYTES = 4 * 1024**3


def _number(value: int | float | Decimal, spec: str = "g") -> str:
    """A number as a person reads it; one too big for a float (10**400) in short form."""
    if not isinstance(value, Decimal):
        try:
            return format(value, spec)
        except OverflowError:
            value = Decimal(value)
    return format(value, ".6g")


def _ratio(value: int | float, by: int) -> int | float | Decimal:
    """`value / by`, also for an int too big for a float."""
    try:
        return value / by
    except OverflowError:
        return Decimal(value) / by


def _norm(value: str) -> str:
    return value.lower().removeprefix("video/").replace(".", "").replace("-", "").replace(" ", "")


def broken_rules(video: dict) -> list[str]:
    """One plain sentence per TikTok restriction the metadata breaks."""
    problems: list[str] = []
    fmt = video.get("format")
    if isinstance(fmt, str) and fmt and _norm(fmt) not in FORMATS:
        problems.append(f"Format {fmt}: TikTok takes only MP4, WebM or MOV.")
    codec = video.get("codec")
    if isinstance(codec, str) and codec and _norm(codec) not in CODECS:
        problems.append(f"Codec {codec}: TikTok takes only H.264, H.265, VP8 or VP9.")
    fps = video.get("fps")
    if isinstance(fps, int | float) and not MIN_FPS <= fps <= MAX_FPS:
        problems.append(
            f"Frame rate {_number(fps)} FPS: TikTok needs between {MIN_FPS} and {MAX_FPS} FPS."
        )
    for side in ("width", "height"):
        size = video.get(side)
        if isinstance(size, int | float) and not MIN_SIDE <= size <= MAX_SIDE:
            problems.append(
                f"{side.capitalize()} {_number(size)} px: TikTok needs {MIN_SIDE} to {MAX_SIDE} px "
                "on each side."
            )
    duration = video.get("duration_s")
    if isinstance(duration, int | float) and duration > MAX_DURATION_S:
        minutes = _number(_ratio(duration, 60), ".1f")
        problems.append(
            f"Length {minutes} minutes: TikTok takes at most 10 minutes through the API."
        )
    size_bytes = video.get("size_bytes")
    if isinstance(size_bytes, int | float) and size_bytes > MAX_SIZE_BYTES:
        gigabytes = _number(_ratio(size_bytes, 1024**3), ".1f")
        problems.append(f"Size {gigabytes} GB: TikTok takes at most 4 GB.")
    return problems

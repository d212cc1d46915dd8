"""What the upload pipeline's credential may post: `UPLOAD_ACCOUNTS` (which team accounts) and
`UPLOAD_URL_PREFIXES` (which `source_url`s: the prefixes verified at TikTok). A `source_url`
with a user:password part is always refused: TikTok would be handed the credential, and the
announcement would show it.

`check` runs after the body is parsed (`handlers.web.pipeline_request.parse_upload`) and
before anything is stored or sent, for `POST /uploads` and `python -m bot upload` alike.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from bot.settings import Settings
from bot.uploads.announcing import AnnounceError
from bot.uploads.held import UploadRequest


def check(request: UploadRequest, settings: Settings) -> None:
    """`AnnounceError(400, …)` naming the account or the source_url's problem; else nothing."""
    allowed = settings.upload_accounts
    if allowed and request.account not in allowed:
        raise AnnounceError(
            400,
            f"account {request.account} is not one this pipeline may post as "
            "(UPLOAD_ACCOUNTS lists them)",
        )
    url = request.source_url
    try:
        parts = urlsplit(url)
    except ValueError:  # a broken [IPv6] host, characters NFKC turns into / ? # @ :
        raise AnnounceError(400, "source_url is not a URL that can be read") from None
    if "@" in parts.netloc:
        raise AnnounceError(
            400, "source_url must not carry a user name or password (user:password@)"
        )
    if any(s in (".", "..") for s in unquote(parts.path).replace("\\", "/").split("/")):
        raise AnnounceError(400, "source_url must not contain . or .. path segments")
    prefixes = settings.upload_url_prefixes
    if prefixes and not url.startswith(prefixes):
        raise AnnounceError(
            400,
            "source_url is outside the URL prefixes this pipeline may use "
            "(UPLOAD_URL_PREFIXES lists them; TikTok pulls only from verified ones)",
        )

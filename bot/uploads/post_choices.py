"""The post page's choices, checked one way for the Slack modal and the web page.

TikTok asks a Direct Post app for a person's express consent on a post page (tiktok-api.md
§11.4): an editable caption; a privacy level picked from the creator's current options, with
no default; comment, duet and stitch off unless ticked, and not offered where the creator
turned them off; the commercial-content disclosure (when on, "Your brand" and/or "Branded
content" must be ticked, and branded content can't be private); a video no longer than the
creator may post. `check` turns what the form sent into `PostChoices`, or into one problem
code per field (worded by `bot.messages.post_page`) for the form to show next to it.
Pure: no Slack, no TikTok, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.interactions import CAPTION_FIELD, COMMERCIAL_KIND_FIELD, PRIVACY_FIELD

MAX_CAPTION = 2200  # TikTok's caption limit
INTERACTIONS = ("comment", "duet", "stitch")
KINDS = ("your_brand", "branded")
# The names the form's fields have, on the modal (block ids) and the web page (input names).
CAPTION, PRIVACY, COMMERCIAL_KIND = CAPTION_FIELD, PRIVACY_FIELD, COMMERCIAL_KIND_FIELD
PRIVATE = "SELF_ONLY"
CHOICE_KEYS = (
    "title",
    "privacy_level",
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
)


@dataclass(frozen=True)
class CreatorFacts:
    """What a fresh creator_info says about the account the upload would be posted as."""

    nickname: str = ""
    avatar_url: str = ""
    privacy_options: tuple[str, ...] = ()
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_duration_s: float | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> CreatorFacts:
        longest = data.get("max_video_post_duration_sec")
        options = data.get("privacy_level_options") or []
        return cls(
            nickname=str(data.get("creator_nickname") or ""),
            avatar_url=str(data.get("creator_avatar_url") or ""),
            privacy_options=tuple(str(o) for o in options if isinstance(o, str)),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_duration_s=float(longest)
            if isinstance(longest, int | float) and not isinstance(longest, bool)
            else None,
        )

    def disabled(self, interaction: str) -> bool:
        return bool(getattr(self, f"{interaction}_disabled"))

    def too_long(self, duration_s: Any) -> bool:
        return (
            self.max_duration_s is not None
            and isinstance(duration_s, int | float)
            and duration_s > self.max_duration_s
        )


@dataclass(frozen=True)
class PostForm:
    """What a post page sent, unchecked: the modal's state values or the web form's fields."""

    caption: str = ""
    privacy: str = ""
    interactions: tuple[str, ...] = ()
    commercial: bool = False
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostChoices:
    """A checked post page: what the approver chose."""

    title: str
    privacy_level: str
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    commercial: bool = False
    your_brand: bool = False
    branded: bool = False

    def post_fields(self) -> dict[str, Any]:
        """TikTok's post_info fields for these choices."""
        fields: dict[str, Any] = {
            "privacy_level": self.privacy_level,
            "disable_comment": not self.allow_comment,
            "disable_duet": not self.allow_duet,
            "disable_stitch": not self.allow_stitch,
            "brand_content_toggle": self.commercial and self.branded,
            "brand_organic_toggle": self.commercial and self.your_brand,
        }
        if self.title:
            fields["title"] = self.title
        return fields

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostChoices:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})  # noqa: SLF001


def post_with(requested: dict[str, Any], choices: PostChoices) -> dict[str, Any]:
    """The post the start sends: the pipeline's other fields (AI-generated label, cover
    frame), with everything the post page decides taken from the approver's choices."""
    kept = {k: v for k, v in requested.items() if k not in CHOICE_KEYS}
    return {**kept, **choices.post_fields()}


def edits(requested: dict[str, Any], chosen: dict[str, Any]) -> list[str]:
    """Which of the post page's fields the approver set otherwise than the pipeline asked."""
    changed = []
    for key in CHOICE_KEYS:
        before = requested.get(key, "" if key == "title" else False)
        if key == "privacy_level":
            before = requested.get(key, "")
        if chosen.get(key, "" if key in ("title", "privacy_level") else False) != before:
            changed.append(key)
    return changed


def check(
    form: PostForm, facts: CreatorFacts, duration_s: Any = None
) -> tuple[PostChoices | None, dict[str, str]]:
    """The choices, or the problems (field name → a code `bot.messages.post_page` words)."""
    errors: dict[str, str] = {}
    caption = form.caption.strip()
    if len(caption) > MAX_CAPTION:
        errors[CAPTION] = "caption_too_long"
    privacy = form.privacy
    if not privacy:
        errors[PRIVACY] = "privacy_missing"
    elif privacy not in facts.privacy_options:
        errors[PRIVACY] = "privacy_not_offered"
    kinds = set(form.kinds) & set(KINDS)
    if form.commercial and not kinds:
        errors[COMMERCIAL_KIND] = "kind_missing"
    if form.commercial and "branded" in kinds and privacy == PRIVATE:
        errors[PRIVACY] = "branded_private"
    if facts.too_long(duration_s):
        errors[CAPTION if CAPTION not in errors else PRIVACY] = "too_long"
    if errors:
        return None, errors
    ticked = set(form.interactions)
    return (
        PostChoices(
            title=caption,
            privacy_level=privacy,
            allow_comment="comment" in ticked and not facts.comment_disabled,
            allow_duet="duet" in ticked and not facts.duet_disabled,
            allow_stitch="stitch" in ticked and not facts.stitch_disabled,
            commercial=form.commercial,
            your_brand=form.commercial and "your_brand" in kinds,
            branded=form.commercial and "branded" in kinds,
        ),
        {},
    )


def facts_from_metadata(meta: dict[str, Any]) -> CreatorFacts:
    """The facts a modal was built from, as `bot.messages.post_page.metadata` kept them."""
    off = set(meta.get("d") or [])
    longest = meta.get("m")
    return CreatorFacts(
        privacy_options=tuple(str(o) for o in meta.get("o") or [] if isinstance(o, str)),
        comment_disabled="comment" in off,
        duet_disabled="duet" in off,
        stitch_disabled="stitch" in off,
        max_duration_s=float(longest)
        if isinstance(longest, int | float) and not isinstance(longest, bool)
        else None,
    )

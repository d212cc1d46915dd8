"""Plain-language explanations of every TikTok outcome, kept as data.

One entry per code: cancel and status error codes, status values, fail reasons, OAuth
errors, and the faults we meet on the way (timeout, 5xx, non-JSON body, refused
connection). The command, the button, `status` and `explain` all read this table, so a
code reads the same everywhere. Unknown codes fall back to a generic entry.

Placeholders, filled by `bot.messages` (already mrkdwn-escaped there):
  {upload}  the upload as a person names it: its title in quotes, or "upload `<id>`"
  {id}      the publish_id, escaped, to be placed inside a code span by the template
  {verb}    what we tried: "cancel" or "check"
  {account} the TikTok account that acted, e.g. "@brand_social"
  {cmd}     the slash command, "/tiktok-cancel"
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Running(Enum):
    """Is the upload still running after this outcome?"""

    NO = "no"
    YES = "yes"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Explanation:
    code: str
    kind: str  # "cancel", "fault", "status", "fail_reason", "oauth", "bot"
    headline: str  # the outcome, one sentence, no jargon
    what: str  # what happened, for someone who never read the API docs
    running: Running
    running_note: str  # completes "Still running: yes — …"; may be ""
    next_step: str  # an action the reader can take now


E = Explanation
R = Running

# Codes shared by cancel and status say {verb}, so they read right for both. Their
# `running` is from the cancel side: TikTok turned the request down, so whatever the
# upload was doing, it carries on.
ENTRIES: tuple[Explanation, ...] = (
    # --- cancel and status answers (shared ones say {verb}) ---------------------------
    E(
        "ok",
        "cancel",
        "Cancelled {upload}.",
        "TikTok stopped fetching the video before it finished, so it will not be posted.",
        R.NO,
        "",
        "Nothing more to do. To double-check, run `{cmd} status {id}` in a minute; it should show "
        "as cancelled.",
    ),
    E(
        "publish_not_cancellable",
        "cancel",
        "Couldn't cancel {upload}: TikTok had already finished with it, so there was nothing left "
        "to stop.",
        "The upload had already reached its end (posted, sent to the inbox, or failed) before the "
        "cancel arrived. TikTok can only stop a video while it is still fetching it from its "
        "link.",
        R.NO,
        "",
        "See where it ended up with `{cmd} status {id}`. If it went live and shouldn't have, "
        "delete the post in the TikTok app.",
    ),
    E(
        "invalid_publish_id",
        "cancel",
        "Couldn't {verb} {upload}: TikTok doesn't know this upload.",
        "TikTok has no upload with the ID `{id}`. The ID may be cut short or mistyped, or it may "
        "belong to a different TikTok app than this bot.",
        R.UNKNOWN,
        "TikTok couldn't find it, so we can't tell",
        "Copy the full ID again from the upload's announcement or your pipeline's log and run "
        "`{cmd} status` with it. If the ID is right, ask whoever runs your upload pipeline which "
        "TikTok app started it.",
    ),
    E(
        "token_not_authorized_for_specified_publish_id",
        "cancel",
        "Couldn't {verb} {upload}: {account} didn't start this upload, so TikTok won't let it "
        "{verb} it.",
        "TikTok only lets the account that started an upload cancel it or look at it, and "
        "{account} is a different account.",
        R.YES,
        "we didn't stop it, so it carries on unless TikTok has already finished it",
        "Ask someone who can use the account that started it to run `{cmd} {id}`. If that's a "
        "team account, an admin can grant it to you; `{cmd} accounts` shows the ones you may "
        "already use.",
    ),
    E(
        "url_ownership_unverified",
        "cancel",
        "Couldn't {verb} {upload}: TikTok doesn't accept the website the video comes from for "
        "this bot's TikTok app.",
        "TikTok only works with videos hosted on websites the TikTok app's owner has proved they "
        "control, and the site in this upload's link hasn't been verified.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Check with `{cmd} status {id}`. Then ask the person who installed tiktok-cancel in this "
        "workspace to verify the video's website (domain or URL prefix) in the TikTok developer "
        "portal.",
    ),
    E(
        "access_token_invalid",
        "cancel",
        "Couldn't {verb} {upload}: the TikTok link for {account} has expired or was removed.",
        "TikTok no longer accepts this bot's access to {account}. We tried to renew it and TikTok "
        "said no, which happens when the link is very old or was removed in the TikTok app.",
        R.YES,
        "nothing was cancelled",
        "Link the account again with `{cmd} connect` (or ask whoever linked the team account to "
        "link it again), then try again.",
    ),
    E(
        "scope_not_authorized",
        "cancel",
        "Couldn't {verb} {upload}: the TikTok link for {account} doesn't include permission to "
        "manage uploads.",
        "When the account was linked, the permission to upload or post videos wasn't allowed on "
        "TikTok's page, so TikTok won't let this bot touch uploads for it.",
        R.YES,
        "nothing was cancelled",
        "Run `{cmd} connect` and allow everything TikTok's page asks for (for a team account, "
        "ask whoever linked it to link it again), then try again.",
    ),
    E(
        "rate_limit_exceeded",
        "cancel",
        "Couldn't {verb} {upload}: TikTok is getting too many requests from this account right "
        "now — we tried several times.",
        "TikTok only accepts a limited number of requests per minute for each account, and that "
        "limit was reached. It frees up within a minute.",
        R.YES,
        "we didn't stop it, so it carries on unless TikTok has already finished it",
        "Try again in a minute with `{cmd} {id}` (or `{cmd} status {id}` to check it).",
    ),
    E(
        "internal_error",
        "cancel",
        "Couldn't {verb} {upload}: TikTok had a problem on its side — we tried several times.",
        "TikTok's servers failed while handling the request. This is on TikTok's end and usually "
        "clears up in a minute or two.",
        R.UNKNOWN,
        "TikTok didn't say whether anything happened",
        "Wait a minute, check with `{cmd} status {id}`, and cancel again with `{cmd} {id}` if "
        "it's still going; asking twice is safe. If it keeps failing, share the log ID below with "
        "the person who installed tiktok-cancel in this workspace, who can raise it with TikTok.",
    ),
    E(
        "invalid_params",
        "cancel",
        "Couldn't {verb} {upload}: TikTok says the request was incomplete or malformed.",
        "TikTok rejected the request before looking at the upload. Most often the ID is cut short "
        "or has stray characters in it.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Copy the full ID again from the announcement or your pipeline's log and try once more. "
        "If it happens again with the right ID, share the log ID below with the person who "
        "installed tiktok-cancel in this workspace.",
    ),
    E(
        "invalid_param",
        "cancel",
        "Couldn't {verb} {upload}: TikTok says one of the details sent was not valid.",
        "TikTok rejected the request before looking at the upload, because one value in it was "
        "wrong. When starting an upload, this is often the video link, the caption or the privacy "
        "setting.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Check with `{cmd} status {id}`. If an upload was refused this way, ask whoever runs your "
        "upload pipeline to check the details it sends; if it was a cancel, share the log ID "
        "below with the person who installed tiktok-cancel in this workspace.",
    ),
    E(
        "invalid_file_upload",
        "cancel",
        "Couldn't {verb} {upload}: TikTok says the video file details don't add up.",
        "TikTok rejected the size or chunk details given for the video file, so it would not take "
        "the file.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Check with `{cmd} status {id}`. To upload it again, ask whoever runs your upload "
        "pipeline to check the file size and chunk settings it sends to TikTok.",
    ),
    E(
        "scope_permission_missed",
        "cancel",
        "Couldn't {verb} {upload}: this bot's TikTok app hasn't been given the permission this "
        "needs.",
        "TikTok says the app behind this bot isn't approved for uploading or posting videos, so "
        "linking accounts again won't help by itself.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Ask the person who installed tiktok-cancel in this workspace to add Content Posting "
        "(video upload and publish) to the TikTok app in the TikTok developer portal; then run "
        "`{cmd} connect` again.",
    ),
    E(
        "app_version_check_failed",
        "cancel",
        "Couldn't {verb} {upload}: the TikTok app on the creator's phone is too old for this kind "
        "of post.",
        "Some posts, such as photo posts sent to the inbox, need TikTok app version 31.8 or newer "
        "on the phone of the account that receives them.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Ask whoever uses {account} on their phone to update the TikTok app, then upload again.",
    ),
    E(
        "spam_risk_too_many_pending_share",
        "cancel",
        "Couldn't {verb} {upload}: this account already has too many drafts waiting in its TikTok "
        "inbox.",
        "TikTok allows at most 5 unposted drafts sent by apps in 24 hours. Until some are posted "
        "or deleted, it refuses new ones.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Ask whoever uses {account} to post or delete the drafts waiting in the TikTok app's "
        "inbox, or wait a day, then upload again.",
    ),
    E(
        "reached_active_user_cap",
        "cancel",
        "Couldn't {verb} {upload}: this bot's TikTok app has reached its daily limit of accounts.",
        "TikTok caps how many different accounts an app can post for each day, and that cap was "
        "reached today. This isn't about your account.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Try again tomorrow. If it keeps happening, ask the person who installed tiktok-cancel in "
        "this workspace to request a higher limit for the TikTok app from TikTok.",
    ),
    E(
        "unaudited_client_can_only_post_to_private_accounts",
        "cancel",
        "Couldn't {verb} {upload}: this bot's TikTok app may only post to private accounts until "
        "TikTok has reviewed it.",
        "TikTok hasn't finished reviewing the app behind this bot yet, and until then it can only "
        "post to accounts set to private.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Ask the person who installed tiktok-cancel in this workspace to submit the TikTok app "
        "for TikTok's review, or, for testing, set {account} to private and upload again.",
    ),
    E(
        "privacy_level_option_mismatch",
        "cancel",
        "Couldn't {verb} {upload}: the privacy setting asked for isn't one this account offers.",
        "Each TikTok account offers its own set of privacy options (for example, everyone, "
        "friends, or only me), and the upload asked for one that isn't in it.",
        R.UNKNOWN,
        "TikTok turned the request down, so we can't tell",
        "Ask whoever runs your upload pipeline to pick one of the privacy options {account} "
        "allows, then upload again.",
    ),
    # --- faults on the way to TikTok -------------------------------------------------
    E(
        "timeout",
        "fault",
        "TikTok didn't answer our request to {verb} {upload} in time, so we don't know the "
        "outcome yet.",
        "We asked TikTok, but no reply came back within the time we wait. If it was a cancel, "
        "TikTok may still have stopped the upload.",
        R.UNKNOWN,
        "TikTok may or may not have acted on it",
        "Check in a minute with `{cmd} status {id}`. Asking to cancel again with `{cmd} {id}` is "
        "safe.",
    ),
    E(
        "server_error",
        "fault",
        "Couldn't {verb} {upload}: TikTok is having trouble on its side — we tried several times.",
        "TikTok's servers kept failing and gave no reason. This is on TikTok's end and usually "
        "passes within a few minutes.",
        R.UNKNOWN,
        "TikTok didn't say whether anything happened",
        "Wait a minute, check with `{cmd} status {id}`, and cancel again with `{cmd} {id}` if "
        "it's still going; asking twice is safe.",
    ),
    E(
        "bad_response",
        "fault",
        "Couldn't {verb} {upload}: TikTok's reply was garbled, so we can't tell what happened.",
        "Instead of a proper answer, TikTok sent back a web page or nothing at all. This usually "
        "means TikTok, or something between us and TikTok, is having a bad moment.",
        R.UNKNOWN,
        "we couldn't read TikTok's reply",
        "Check in a minute with `{cmd} status {id}`, and cancel again with `{cmd} {id}` if it's "
        "still going; asking twice is safe.",
    ),
    E(
        "connection_failed",
        "fault",
        "Couldn't {verb} {upload}: we couldn't reach TikTok at all.",
        "The connection to TikTok was refused or cut off, so TikTok most likely never got the "
        "request.",
        R.UNKNOWN,
        "TikTok most likely never got the request, so probably nothing was stopped",
        "Try again in a minute with `{cmd} {id}` (or `{cmd} status {id}` to check it). If it "
        "keeps failing, tell the person who installed tiktok-cancel in this workspace: the server "
        "it runs on may have lost its connection.",
    ),
    # --- where an upload is (status) -------------------------------------------------
    E(
        "PROCESSING_UPLOAD",
        "status",
        "{upload} is still being uploaded to TikTok.",
        "The video file is being sent to TikTok piece by piece, or TikTok is processing it. This "
        "bot can only cancel videos that TikTok fetches from a link, so it can't stop this one.",
        R.YES,
        "it will post (or land in the creator's inbox) once TikTok finishes",
        "Check again shortly with `{cmd} status {id}`. If it goes live and shouldn't, delete the "
        "post in the TikTok app.",
    ),
    E(
        "PROCESSING_DOWNLOAD",
        "status",
        "{upload} is still downloading: TikTok is fetching the video from its link.",
        "TikTok hasn't finished fetching the video yet, so it can still be stopped, though one "
        "that is nearly done may slip through.",
        R.YES,
        "it will post (or land in the creator's inbox) unless someone stops it",
        "To stop it, cancel now with `{cmd} {id}`.",
    ),
    E(
        "SEND_TO_USER_INBOX",
        "status",
        "{upload} is waiting as a draft in the creator's TikTok inbox — it isn't posted.",
        "TikTok has finished with the video and sent it to the account's inbox. Nothing goes live "
        "unless someone opens it in the TikTok app and posts it.",
        R.NO,
        "it won't post unless someone posts it from the TikTok app",
        "If it shouldn't go out, ask whoever uses {account} to delete the draft from the TikTok "
        "app's inbox. It's too late to cancel it here.",
    ),
    E(
        "PUBLISH_COMPLETE",
        "status",
        "{upload} has been posted on TikTok.",
        "TikTok finished the upload and the video is on the account. It may take a few minutes "
        "(rarely hours) to show publicly while TikTok reviews it.",
        R.NO,
        "",
        "Nothing left to cancel. If it shouldn't be live, delete the post in the TikTok app, "
        "signed in as {account}.",
    ),
    E(
        "FAILED",
        "status",
        "{upload} failed at TikTok, so it won't be posted.",
        "TikTok stopped the upload before it was posted. The reason is below.",
        R.NO,
        "",
        "See the reason below: it says whether trying again makes sense and what to fix first.",
    ),
    # --- why an upload failed (fail_reason) ------------------------------------------
    E(
        "file_format_check_failed",
        "fail_reason",
        "{upload} failed: TikTok couldn't accept the video's file format.",
        "TikTok takes MP4 (recommended), WebM or MOV files encoded with H.264 (recommended), "
        "H.265, VP8 or VP9, and this file isn't one of those.",
        R.NO,
        "",
        "Re-export the video as MP4 with H.264 and upload it again.",
    ),
    E(
        "duration_check_failed",
        "fail_reason",
        "{upload} failed: the video is longer than this account may post.",
        "TikTok allows videos of up to 10 minutes through apps, and some accounts only 3 or 5 "
        "minutes. This video's length is outside what {account} allows.",
        R.NO,
        "",
        "Trim the video to fit the account's limit (10 minutes at most, 3 or 5 for some accounts) "
        "and upload it again.",
    ),
    E(
        "frame_rate_check_failed",
        "fail_reason",
        "{upload} failed: the video's frame rate isn't one TikTok accepts.",
        "TikTok needs between 23 and 60 frames per second, and this video is outside that range.",
        R.NO,
        "",
        "Re-export the video at 23 to 60 frames per second (30 is a safe choice) and upload it "
        "again.",
    ),
    E(
        "picture_size_check_failed",
        "fail_reason",
        "{upload} failed: the video's picture size isn't one TikTok accepts.",
        "TikTok needs each side of the picture to be between 360 and 4096 pixels, and this video "
        "is smaller or larger than that.",
        R.NO,
        "",
        "Re-export the video with each side between 360 and 4096 pixels (1080 x 1920 is a safe "
        "choice) and upload it again.",
    ),
    E(
        "internal",
        "fail_reason",
        "{upload} failed because of a problem on TikTok's side.",
        "Something went wrong inside TikTok while it handled the video. The video itself is "
        "probably fine.",
        R.NO,
        "",
        "Upload it again; this kind of failure usually clears on a retry. If it fails the same "
        "way twice, share the log ID below with the person who installed tiktok-cancel in this "
        "workspace.",
    ),
    E(
        "video_pull_failed",
        "fail_reason",
        "{upload} failed: TikTok couldn't download the video from its link.",
        "TikTok lost the connection to the video's link, or the download took longer than the 1 "
        "hour TikTok allows.",
        R.NO,
        "",
        "Check that the link opens the video directly over https (no redirects) and stays up "
        "until the upload is done, then upload it again. A very large file on a slow server may "
        "need a faster host.",
    ),
    E(
        "photo_pull_failed",
        "fail_reason",
        "{upload} failed: TikTok couldn't download the photos from their links.",
        "TikTok lost the connection to a photo's link, or the download took longer than the 1 "
        "hour TikTok allows.",
        R.NO,
        "",
        "Check that each photo link opens directly over https (no redirects) and stays up until "
        "the upload is done, then upload it again.",
    ),
    E(
        "publish_cancelled",
        "fail_reason",
        "{upload} was cancelled, so it won't be posted.",
        "Someone cancelled the upload while TikTok was still fetching the video, and TikTok "
        "stopped it.",
        R.NO,
        "",
        "Nothing more to do. To post it after all, start the upload again from your pipeline.",
    ),
    E(
        "auth_removed",
        "fail_reason",
        "{upload} failed: the account's permission for this bot was removed during the upload.",
        "While TikTok was handling the video, the link between {account} and this bot was removed "
        "(in the TikTok app, or because the account changed), so TikTok dropped the upload.",
        R.NO,
        "",
        "Retrying won't work until the account is linked again: run `{cmd} connect` (for a team "
        "account, ask whoever linked it), then upload it again.",
    ),
    E(
        "spam_risk_too_many_posts",
        "fail_reason",
        "{upload} failed: this account has posted too many times through apps today.",
        "TikTok limits how many posts an account can make through apps in 24 hours, and {account} "
        "has reached that limit.",
        R.NO,
        "",
        "Don't retry now; it will fail the same way. Wait until the 24 hours are up before "
        "uploading it again.",
    ),
    E(
        "spam_risk_user_banned_from_posting",
        "fail_reason",
        "{upload} failed: TikTok has blocked this account from posting for now.",
        "TikTok has stopped {account} from posting, so it refuses every new post from it, "
        "whatever the video.",
        R.NO,
        "",
        "Don't retry; it will fail the same way. Ask whoever uses {account} to check the notices "
        "in the TikTok app, which say why and for how long.",
    ),
    E(
        "spam_risk_text",
        "fail_reason",
        "{upload} failed: TikTok flagged the caption as possible spam.",
        "TikTok's spam checks objected to the post's text (its caption, hashtags or mentions).",
        R.NO,
        "",
        "Don't send it again as it is. Rewrite the caption (fewer links, hashtags and mentions) "
        "before uploading it again.",
    ),
    E(
        "spam_risk",
        "fail_reason",
        "{upload} failed: TikTok flagged the post as possible spam.",
        "TikTok's spam checks turned the post down and gave no more detail.",
        R.NO,
        "",
        "Don't retry right away; it will fail the same way. Ask whoever uses {account} to check "
        "the notices in the TikTok app.",
    ),
    # --- linking a TikTok account (OAuth) --------------------------------------------
    E(
        "access_denied",
        "oauth",
        "Your TikTok account wasn't linked: permission wasn't given on TikTok's page.",
        "TikTok's sign-in page was closed, or the request to allow tiktok-cancel was declined, so "
        "the bot can't act for the account.",
        R.YES,
        "nothing was cancelled",
        "Run `{cmd} connect` again and agree on TikTok's page to let tiktok-cancel use the "
        "account.",
    ),
    E(
        "invalid_client",
        "oauth",
        "TikTok didn't accept this bot's own app settings, so it can't act for your account right "
        "now.",
        "TikTok didn't recognise the key or secret this bot uses to identify itself. There is "
        "nothing wrong with your account, and nothing you can fix from here.",
        R.YES,
        "nothing was cancelled",
        "Ask the person who installed tiktok-cancel in this workspace to check the TikTok app's "
        "client key and secret.",
    ),
    E(
        "invalid_grant",
        "oauth",
        "Your TikTok link has expired or was removed, so it needs to be made again.",
        "TikTok no longer accepts the link: it ran out, was removed in the TikTok app, or the "
        "sign-in took too long to finish.",
        R.YES,
        "nothing was cancelled",
        "Link again with `{cmd} connect` (for a team account, ask whoever linked it to link it "
        "again), then try once more.",
    ),
    E(
        "invalid_request",
        "oauth",
        "TikTok turned down the bot's sign-in request as incomplete, so your account isn't linked.",
        "Part of the request was missing or didn't match what TikTok expects, most often the "
        "return address registered for the bot's TikTok app.",
        R.YES,
        "nothing was cancelled",
        "Try `{cmd} connect` once more. If it fails again, ask the person who installed "
        "tiktok-cancel in this workspace to check that TIKTOK_REDIRECT_URI matches the redirect "
        "address registered in the TikTok developer portal.",
    ),
    E(
        "invalid_scope",
        "oauth",
        "Your TikTok account wasn't linked: the bot asked for permissions its TikTok app doesn't "
        "have.",
        "The bot asks TikTok for permission to read basic account details and manage uploads, and "
        "TikTok says its app isn't set up for one of them.",
        R.YES,
        "nothing was cancelled",
        "Ask the person who installed tiktok-cancel in this workspace to enable Login Kit and "
        "Content Posting for the TikTok app in the TikTok developer portal.",
    ),
    E(
        "unauthorized_client",
        "oauth",
        "TikTok isn't letting this bot's app act for TikTok accounts yet, so your account can't "
        "be used.",
        "The TikTok app behind this bot isn't allowed to link accounts this way, for example "
        "because it hasn't been approved or is missing a setting.",
        R.YES,
        "nothing was cancelled",
        "Ask the person who installed tiktok-cancel in this workspace to check the TikTok app's "
        "status and settings in the TikTok developer portal.",
    ),
    E(
        "unsupported_grant_type",
        "oauth",
        "TikTok refused the way this bot signs in, so it can't act for your account right now.",
        "The bot's request to TikTok used a kind of sign-in TikTok doesn't support for its app. "
        "This is a setup problem in the bot, not with your account.",
        R.YES,
        "nothing was cancelled",
        "Ask the person who installed tiktok-cancel in this workspace to check the TikTok app's "
        "settings and share the log ID below with them.",
    ),
    E(
        "unsupported_response_type",
        "oauth",
        "Couldn't link with TikTok: TikTok refused the way this bot asked to sign in.",
        "TikTok's sign-in page didn't accept the kind of answer the bot asked for. This is a "
        "setup problem in the bot, not with your account.",
        R.YES,
        "nothing was cancelled",
        "Ask the person who installed tiktok-cancel in this workspace to check the TikTok app's "
        "settings and share the log ID below with them.",
    ),
    # --- the bot's own answers -------------------------------------------------------
    E(
        "not_linked",
        "bot",
        "Couldn't {verb} {upload}: you haven't linked a TikTok account yet.",
        "This bot acts with your own TikTok account, or with a team account an admin granted you, "
        "and you have neither. Nothing was sent to TikTok.",
        R.YES,
        "nothing was cancelled",
        "Press the Connect button below (or run `{cmd} connect`), then try again. "
        "`{cmd} accounts` shows any team accounts you may use.",
    ),
    E(
        "link_expired",
        "bot",
        "Couldn't {verb} {upload}: your TikTok link has expired.",
        "The bot tried to renew your link with TikTok and TikTok said no: it ran out or was "
        "removed in the TikTok app. Nothing was cancelled.",
        R.YES,
        "nothing was cancelled",
        "Press the Connect button below to link your account again (or run `{cmd} connect`), then "
        "try again.",
    ),
    E(
        "link_unreadable",
        "bot",
        "Couldn't {verb} {upload}: your TikTok link needs to be made again.",
        "The bot's security key was changed, so the link it stored for you can't be read any "
        "more. Nothing was sent to TikTok.",
        R.YES,
        "nothing was cancelled",
        "Link your account again with `{cmd} connect`, then try again.",
    ),
    E(
        "in_flight",
        "bot",
        "A cancel for {upload} is already under way.",
        "You or someone else asked to cancel this upload a moment ago, and TikTok hasn't answered "
        "that request yet. We didn't send a second one.",
        R.UNKNOWN,
        "the cancel under way will tell",
        "Wait a few seconds: its answer will appear here or in the upload's thread. No need to "
        "press again.",
    ),
    E(
        "team_link_expired",
        "bot",
        "Couldn't {verb} {upload}: the team account {account} needs to be linked again.",
        "TikTok no longer accepts the bot's access to this shared account: it ran out or was "
        "removed in the TikTok app. Nothing was cancelled.",
        R.YES,
        "nothing was cancelled",
        "Ask someone listed below to run `{cmd} team connect {account}` (grants are kept), "
        "or cancel with your own linked account: `{cmd} {id}`.",
    ),
    E(
        "not_granted",
        "bot",
        "Couldn't {verb} {upload}: you haven't been given the team account {account}.",
        "Team accounts are shared TikTok accounts that an admin lets named people use. You "
        "aren't on the list for this one, so nothing was sent to TikTok.",
        R.YES,
        "nothing was cancelled",
        "Ask someone listed below to run `{cmd} team grant {account} @you`, or use your own "
        "linked account with `{cmd} {id}`.",
    ),
    E(
        "no_such_account",
        "bot",
        "Couldn't {verb} {upload}: there is no team account called {account}.",
        "No team account with that name has been linked in this workspace, so nothing was sent "
        "to TikTok.",
        R.YES,
        "nothing was cancelled",
        "See the team accounts you may use with `{cmd} accounts`, or cancel with your own link: "
        "`{cmd} {id}`.",
    ),
    # --- added by links ---
    E(
        "refresh_unavailable",
        "fault",
        "Couldn't {verb} {upload}: TikTok is having trouble renewing our access to {account}.",
        "We renew the access to {account} with TikTok when it runs out, and TikTok's sign-in "
        "service didn't answer properly (it was busy, failing or too slow), so TikTok didn't act "
        "on this request. Your link is kept: nothing is wrong with it.",
        R.YES,
        "nothing was stopped, so it carries on unless TikTok has already finished it",
        "Try again in a minute with `{cmd} {id}`; asking again is safe. `{cmd} status {id}` shows "
        "where the upload is.",
    ),
    E(
        "refresh_misconfigured",
        "bot",
        "Couldn't {verb} {upload}: TikTok refused this bot's own app settings when we renewed our "
        "access to {account}.",
        "TikTok didn't accept the client key or secret this bot identifies itself with. That is "
        "our configuration, not your account: your link is kept and works again once the "
        "settings are fixed. TikTok didn't act on this request.",
        R.YES,
        "nothing was stopped, so it carries on unless TikTok has already finished it",
        "Ask an admin listed below to check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET against "
        "the app in the TikTok developer portal; then `{cmd} {id}` works again, no need to link "
        "again.",
    ),
)

FALLBACK = E(
    "unknown",
    "fault",
    "TikTok answered with something we don't recognise, so we can't tell whether {upload} "
    "was affected.",
    "TikTok replied with a code this bot does not know yet.",
    R.UNKNOWN,
    "",
    "Check with `{cmd} status {id}`; asking again is safe. Share the log ID below with "
    "TikTok support if it keeps happening.",
)

CATALOG: dict[str, Explanation] = {e.code: e for e in ENTRIES}


def explain(code: str | None) -> Explanation:
    """The entry for `code`, or the fallback (with the unknown code kept) for anything new."""
    if code and code in CATALOG:
        return CATALOG[code]
    if not code:
        return FALLBACK
    return Explanation(
        code=code,
        kind=FALLBACK.kind,
        headline=FALLBACK.headline,
        what=FALLBACK.what,
        running=FALLBACK.running,
        running_note=FALLBACK.running_note,
        next_step=FALLBACK.next_step,
    )


def is_known(code: str) -> bool:
    return code in CATALOG

"""What Slack calls the bot by: the slash command and every button's `action_id`.

Defined once here; the message builders (`bot.messages`) put them on buttons and in next
steps, and the listeners (`handlers.slack`) register for them. Imports nothing.
"""

COMMAND = "/tiktok-cancel"  # the one slash command (manifest.yml declares it too)

CANCEL_ACTION = "cancel_upload"  # an announcement's or an answer's Cancel button (value: id)
RETRY_ACTION = "retry_cancel"  # retry a cancel (value: JSON with publish_id and reason)
RETRY_KEY_ACTION = "retry_cancel_key"  # the "Cancel it now" button after linking (value: a key)
CONNECT_ACTION = "connect_tiktok"  # a URL button: the browser does the rest
DISCONNECT_ACTION = "disconnect_tiktok"  # the App Home's Disconnect button
CANCEL_HELD_ACTION = "cancel_held"  # a held upload's Cancel (value: its upload_key)
START_HELD_ACTION = "start_held"  # a held upload's Start now (value: its upload_key)
REVIEW_ACTION = "review_upload"  # an approval card's Review and approve (value: upload_key)
REJECT_ACTION = "reject_upload"  # an approval card's Reject (value: upload_key)
APPROVE_VIEW = "approve_upload"  # the post-page modal's callback_id (metadata: upload_key)
REJECT_VIEW = "reject_upload_reason"  # the rejection modal's callback_id (metadata: upload_key)
OPEN_POST_PAGE_ACTION = "open_post_page"  # a URL button to the web post page (browser only)

# The post page's fields: the modal's input block ids and the web form's input names.
CAPTION_FIELD = "caption"
PRIVACY_FIELD = "privacy"
INTERACTIONS_FIELD = "interactions"  # values: comment, duet, stitch
COMMERCIAL_FIELD = "commercial"  # value: on
COMMERCIAL_KIND_FIELD = "commercial_kind"  # values: your_brand, branded
REASON_FIELD = "reason"  # the rejection modal's reason
WATCH_VIDEO_ACTION = "watch_video"  # a URL button to the video itself (browser only)

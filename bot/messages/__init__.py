"""Every message a person reads in Slack, one module per family, plain dicts only.

`blocks` holds the shared pieces (escaping, names, times, sections, buttons); `outcomes` the
cancel and status answers and audit entries; `cancel_follow` the direct message saying how
an unannounced upload's cancel ended; `announcements` the channel message of an
upload; `settings` a workspace's settings (`settings …`, and the Home's section);
`team`, `linking`, `help` and `home` the rest. Everything echoed back is escaped for
mrkdwn, so no input can ping a channel, render a link or break a message. Callers use
`from bot import messages` and the names re-exported here.

Builders take plain values: strings, numbers, `bot.outcome.Outcome`, and small views defined
here (`AnnouncedView`, `HeldView`, `FollowedView`, `LinkView`, `ForgottenView`) that a caller
copies from its stored row with `View.of(row)`. They return plain dicts; slack_sdk's Block Kit
models check them in the tests only. May import `bot.tiktok` and the shared modules at the top
of `bot/`; never `storage`, `slack_sdk`, another room of `bot/`, `handlers` or `sandbox`.
"""

from bot.messages.announcements import (
    AnnouncedView,
    announcement_message,
    final_state_message,
    last_attempt_line,
    list_message,
    status_line,
)
from bot.messages.blocks import (
    LINKING_NOT_CONFIGURED,
    Message,
    cancel_button,
    code,
    connect_button,
    escape,
    upload_name,
    when,
    who_can_grant,
)
from bot.messages.cancel_follow import (
    FollowedView,
    cancel_ending_dm,
    cancel_unknown_dm,
    told_ending,
)
from bot.messages.held import HeldView
from bot.messages.help import (
    HELP_TEXT,
    NOT_INSTALLED_TEXT,
    PROBLEMS,
    help_message,
    usage_message,
)
from bot.messages.home import home_view
from bot.messages.linking import (
    ForgottenView,
    LinkView,
    authorization_removed_dm,
    connect_message,
    disconnect_message,
    link_forgotten_message,
    link_unreadable_message,
    linked_dm,
    not_linked_message,
    reason_number,
    removed_reason,
    retry_button,
    retry_gone_message,
    team_authorization_removed_dm,
    team_linked_dm,
    whoami_message,
)
from bot.messages.outcomes import (
    audit_entry,
    context_line,
    explain_message,
    explanation_blocks,
    fill,
    in_flight_ack,
    internal_problem_message,
    is_personal,
    outcome_message,
    running_line,
    stale_button_message,
)
from bot.messages.settings import settings_change_message
from bot.messages.team import (
    accounts_message,
    approvers_message,
    not_admin_message,
    team_change_message,
    team_connect_message,
)

__all__ = [
    "AnnouncedView",
    "FollowedView",
    "ForgottenView",
    "HeldView",
    "LinkView",
    "HELP_TEXT",
    "LINKING_NOT_CONFIGURED",
    "PROBLEMS",
    "authorization_removed_dm",
    "link_forgotten_message",
    "reason_number",
    "removed_reason",
    "retry_gone_message",
    "team_authorization_removed_dm",
    "Message",
    "accounts_message",
    "approvers_message",
    "announcement_message",
    "audit_entry",
    "cancel_button",
    "cancel_ending_dm",
    "cancel_unknown_dm",
    "code",
    "connect_button",
    "connect_message",
    "context_line",
    "disconnect_message",
    "escape",
    "explain_message",
    "explanation_blocks",
    "fill",
    "final_state_message",
    "help_message",
    "NOT_INSTALLED_TEXT",
    "home_view",
    "in_flight_ack",
    "internal_problem_message",
    "is_personal",
    "last_attempt_line",
    "link_unreadable_message",
    "linked_dm",
    "list_message",
    "not_admin_message",
    "not_linked_message",
    "outcome_message",
    "retry_button",
    "running_line",
    "settings_change_message",
    "stale_button_message",
    "usage_message",
    "status_line",
    "team_change_message",
    "team_connect_message",
    "team_linked_dm",
    "told_ending",
    "upload_name",
    "when",
    "who_can_grant",
    "whoami_message",
]

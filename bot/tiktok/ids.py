"""What a TikTok publish_id looks like, and the longest value the bot accepts in any field.

Shared by the command parser and the pipeline's announcement body, so a publish_id is the same
thing at every door.
"""

from __future__ import annotations

import re

MAX_VALUE_LENGTH = 256
# TikTok's ids look like v_pub_url~v2.123456789; treat them as opaque but printable.
PUBLISH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:+=/-]*")

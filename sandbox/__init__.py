"""The sandbox: the real bot against stand-ins of Slack and TikTok, with a page to try it.

`sandbox.fakes` holds the stand-ins (also what the tests run against); `sandbox.server`
wires them to the real bot. Production code never imports this package; only
`python -m bot sandbox` does.
"""

"""Schemathesis hooks for scripts/api-check.sh.

The events and snapshot routes take NDJSON (one JSON value a line), which
schemathesis has no serializer for: send what it generates for them as
text, so those routes are fuzzed too.
"""

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")

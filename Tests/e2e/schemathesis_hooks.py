"""Schemathesis hooks for Kinko's contract run (loaded through SCHEMATHESIS_HOOKS by run.sh).

The API takes NDJSON bodies (POST /v1/ledger/transfers, POST /v1/monitoring/events), which
Schemathesis has no serializer for: a string goes on the wire as it is, a list as one JSON
value per line, anything else as one JSON line.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode("utf-8")
    return (json.dumps(value) + "\n").encode("utf-8")

# Reads a JSON list of messages (latin1 text) on stdin and prints, for each, how
# Python's email package reads its MIME structure under both of its policies
# (compat32, the default of message_from_bytes, and policy.default): the top-level
# content type, the boundary, and the content types of the parts one level down.
import email
import json
import sys
from email import policy


def view(raw, pol):
    try:
        msg = email.message_from_bytes(raw, policy=pol)
        parts = msg.get_payload() if msg.is_multipart() else None
        return {
            "type": msg.get_content_type(),
            "boundary": msg.get_boundary(),
            "parts": [p.get_content_type() for p in parts] if isinstance(parts, list) else None,
        }
    except Exception as e:  # a parser error is one more reading
        return {"error": type(e).__name__}


out = []
for text in json.load(sys.stdin):
    raw = text.encode("latin1")
    out.append({"compat32": view(raw, policy.compat32), "default": view(raw, policy.default)})
print(json.dumps(out))

# Reads a JSON list of messages (latin1 text) on stdin and prints, for each, how
# Python's email package (policy compat32, which keeps header values raw) reads
# it: the header fields as [name, unfolded value] pairs in order, the body, and
# the names of the defects it noted.
import email
import json
import re
import sys
from email import policy


def view(text):
    try:
        msg = email.message_from_string(text, policy=policy.compat32)
        # RFC 5322 §2.2.3: unfolding removes each line break before WSP (Python breaks
        # lines at CRLF, LF and a bare CR, so no other CR or LF is left in a value).
        fields = [[k, re.sub(r"[\r\n]", "", v).strip(" \t")] for k, v in msg.items()]
        body = msg.get_payload()
        return {
            "fields": fields,
            "body": body if isinstance(body, str) else None,
            "defects": [type(d).__name__ for d in msg.defects],
        }
    except Exception as e:  # a parser error is one more reading
        return {"error": type(e).__name__}


print(json.dumps([view(text) for text in json.load(sys.stdin)]))

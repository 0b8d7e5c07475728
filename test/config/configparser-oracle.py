# Reads a JSON list of {"path": ...} or {"text": ...} on stdin and prints, for each,
# what Python's RawConfigParser(strict=True) makes of it: the sections with their
# options in order, or the error class and line number.
import configparser
import io
import json
import sys

KINDS = {
    "MissingSectionHeaderError": "missing-section-header",
    "DuplicateSectionError": "duplicate-section",
    "DuplicateOptionError": "duplicate-option",
    "ParsingError": "invalid-line",
}


def parse(item):
    parser = configparser.RawConfigParser(strict=True)
    try:
        if "path" in item:
            with open(item["path"], encoding="utf-8") as f:
                parser.read_file(f, item["path"])
        else:
            parser.read_file(io.StringIO(item["text"], newline=None), "<text>")
    except configparser.Error as e:
        kind = KINDS[type(e).__name__]
        line = e.errors[0][0] if kind == "invalid-line" else e.lineno
        return {"ok": False, "kind": kind, "line": line}
    sections = [[name, list(options.items())] for name, options in parser._sections.items()]
    return {"ok": True, "defaults": list(parser.defaults().items()), "sections": sections}


print(json.dumps([parse(item) for item in json.load(sys.stdin)]))

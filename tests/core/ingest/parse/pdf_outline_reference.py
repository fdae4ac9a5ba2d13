#!/usr/bin/env python3
"""Independent reference for ParsePdf.PageTitlesFollowTheOutline: prints, one line per page of a
PDF, the title of the outline entry whose destination is that page (the first such entry), else
the last entry pointing to an earlier page, else an empty line. Outline destinations and page
objects come from qpdf --json (Debian package qpdf), not from poppler."""
import json
import subprocess
import sys

pdf = sys.argv[1]
data = json.loads(subprocess.run(
    ["qpdf", "--json", "--json-key=outlines", "--json-key=pages", pdf],
    check=True, capture_output=True).stdout)
page_of = {p["object"]: i + 1 for i, p in enumerate(data["pages"])}
entries = []


def walk(items):
    for item in items:
        dest = item.get("dest")
        if isinstance(dest, dict):
            dest = dest.get("/D")
        page = page_of.get(dest[0]) if isinstance(dest, list) and dest else None
        entries.append((" ".join(item["title"].split()), page))
        walk(item["kids"])


walk(data["outlines"])
for p in range(1, len(data["pages"]) + 1):
    here = [t for t, pg in entries if pg == p]
    before = [t for t, pg in entries if pg is not None and pg < p]
    print(here[0] if here else (before[-1] if before else ""))

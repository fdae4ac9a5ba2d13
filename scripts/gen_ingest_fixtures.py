#!/usr/bin/env python3
"""Writes the small synthetic fixtures of the document-parser tests into tests/data/ingest/.

Run from anywhere: python3 scripts/gen_ingest_fixtures.py. Deterministic (fixed zip timestamps,
no randomness) apart from qpdf's encryption salt; needs qpdf (Debian package qpdf) for
encrypted.pdf. The tests read the committed outputs; rerun this after changing it.
"""
import os
import subprocess
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "ingest")
DATE = (2024, 1, 1, 0, 0, 0)


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def write_zip(name, entries, stored=("mimetype",)):
    """entries: list of (name, bytes-or-str); 'mimetype' is stored uncompressed and first."""
    path = os.path.join(OUT, name)
    with zipfile.ZipFile(path, "w") as z:
        for entry, data in entries:
            info = zipfile.ZipInfo(entry, DATE)
            info.compress_type = zipfile.ZIP_STORED if entry in stored else zipfile.ZIP_DEFLATED
            z.writestr(info, data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- Plain text in legacy encodings -------------------------------------------------------------
LATIN1 = ("Les élèves français étaient très fâchés: « Où est le garçon? » demanda l'hôtesse.\n"
          "Ça coûte cinq francs, répondit-il, et déjà trop cher pour un café crème.\n") * 4
write("latin1.txt", LATIN1.encode("latin-1"))
CP1252 = ("\u201cSmart quotes\u201d cost \u20ac5 \u2014 or so the na\u00efve caf\u00e9 owner "
          "said \u2018twice\u2019.\n") * 6
write("cp1252.txt", CP1252.encode("cp1252"))
UTF16 = "Grüße aus Köln — Ελληνικά και 日本語のテキスト.\nSecond line.\n"
write("utf16le_bom.txt", b"\xff\xfe" + UTF16.encode("utf-16-le"))
EUCKR = ("대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 "
         "나온다. 대한민국의 국민이 되는 요건은 법률로 정한다. 국가는 법률이 정하는 바에 의하여 "
         "재외국민을 보호할 의무를 진다.\n") * 3
write("euckr.txt", EUCKR.encode("euc-kr"))
write("gutenberg.txt", """The Project Gutenberg eBook of A Tiny Tale

Title: A Tiny Tale
Author: Ann Example
Language: English

*** START OF THE PROJECT GUTENBERG EBOOK A TINY TALE ***

CHAPTER I.

It was a dark night.
The wind blew.

CHAPTER II.

Morning came at last.

*** END OF THE PROJECT GUTENBERG EBOOK A TINY TALE ***

This license text must not be ingested.
""")

# --- Markdown -----------------------------------------------------------------------------------
write("sample.md", """---
title: "Field Notes"
author: Jo Writer
---
Intro paragraph with **bold**, *italic*, `code_span` and a [link text](https://example.com/x).

# First Heading

An image ![a red fox](fox.png) sits here; snake_case_names stay intact.
Second line of the same paragraph.

- item one
- item _two_

```
int main() {
    return 0;
}
```

Setext Heading
--------------

> Quoted ~~old~~ text with <https://example.org> autolink.

[ref]: https://example.com/ref
## Closing ##

Last words.
""")

# --- HTML ---------------------------------------------------------------------------------------
write("sample.html", """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Garden Guide</title>
<style>body { color: red; }</style><script>var hidden = "SCRIPT TEXT";</script></head>
<body>
<nav><a href="/">NAV LINK</a></nav>
<p>Welcome   to the <b>garden</b>.
   Plants &amp; flowers.</p>
<h1>Roses</h1>
<p>Roses need sun.</p><div>Water them <i>weekly</i>.</div>
<h2>Pruning</h2>
<ul><li>Cut dead wood</li><li>Shape the bush</li></ul>
<h4>Minor note</h4>
<pre>line one
  line two</pre>
<img src="x.png" alt="A rose in bloom">
<h3>Pests</h3><p>Aphids are common.<br>Use soap.</p>
</body></html>
""")

# --- DOCX ---------------------------------------------------------------------------------------
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def para(text, style=None):
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    runs = "".join(f'<w:r><w:t xml:space="preserve">{t}</w:t></w:r>' for t in text.split("|"))
    return f"<w:p>{ppr}{runs}</w:p>"


DOCX_BODY = "".join([
    para("Quarterly Report", "Title"),
    para("Prepared for the |board."),
    para("Summary", "Heading1"),
    para("Revenue grew by |twelve percent."),
    para("Details", "Heading2"),
    para("Costs fell."),
    '<w:tbl><w:tr><w:tc>' + para("Cell A") + '</w:tc><w:tc>' + para("Cell B") +
    '</w:tc></w:tr></w:tbl>',
    para("Outlook", "Heading1"),
    para("Stable."),
])
DOCX_DOCUMENT = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 f'<w:document xmlns:w="{W}"><w:body>{DOCX_BODY}<w:sectPr/></w:body></w:document>')
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""
CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Q3 Report</dc:title><dc:creator>Dana Analyst</dc:creator><dc:language>en-GB</dc:language>
</cp:coreProperties>"""
write_zip("sample.docx", [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS),
                          ("word/document.xml", DOCX_DOCUMENT), ("docProps/core.xml", CORE)])

# A zip that is neither an EPUB nor a DOCX.
write_zip("plain.zip", [("notes/a.txt", "hello"), ("notes/b.txt", "world")])

# --- EPUB ---------------------------------------------------------------------------------------
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def opf(items, spine, title="Mini Book", extra_meta=""):
    manifest = "\n".join(f'<item id="{i}" href="{h}" media-type="{m}"{p}/>'
                         for i, h, m, p in items)
    refs = "\n".join(f'<itemref idref="{r}"/>' for r in spine)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">mini</dc:identifier><dc:title>{title}</dc:title>
<dc:creator>Eve Author</dc:creator><dc:language>fr</dc:language>{extra_meta}
</metadata>
<manifest>
{manifest}
</manifest>
<spine>
{refs}
</spine>
</package>"""


def xhtml(title, body):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body>{body}</body></html>"""


X = "application/xhtml+xml"
NAV = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>Contents</title></head><body>
<nav epub:type="toc"><ol>
<li><a href="text/chapter%201.xhtml">The Beginning</a></li>
<li><a href="text/ch2.xhtml#start">The Middle</a>
  <ol><li><a href="text/ch2.xhtml#part">A Detail</a></li></ol></li>
</ol></nav></body></html>"""
MINI_ITEMS = [("nav", "nav.xhtml", X, ' properties="nav"'),
              ("c1", "text/chapter%201.xhtml", X, ""),
              ("c2", "text/ch2.xhtml", X, ""),
              ("c3", "text/ch3.xhtml", X, ""),
              ("css", "style.css", "text/css", "")]
MINI = [("mimetype", "application/epub+zip"), ("META-INF/container.xml", CONTAINER),
        ("OPS/book.opf", opf(MINI_ITEMS, ["c1", "c2", "c3"])),
        ("OPS/nav.xhtml", NAV),
        ("OPS/text/chapter 1.xhtml", xhtml("c1", "<h1>Chapter One</h1><p>Il était une fois.</p>")),
        ("OPS/text/ch2.xhtml", xhtml("c2", '<h1 id="start">The Middle</h1><p>Then things happened.</p>'
                                      '<h2 id="part">A Detail</h2><p>Small but important.</p>')),
        ("OPS/text/ch3.xhtml", xhtml("c3", "<h2>Unlisted End</h2><p>The end.</p>")),
        ("OPS/style.css", "p { margin: 0; }")]
write_zip("mini.epub", MINI)
# The same book with an unreadable table of contents: a nav document without a toc <nav> and an
# NCX that declares entities (refused). Titles must come from the chapters' first headings.
BAD_TOC_ITEMS = MINI_ITEMS + [("ncx", "toc.ncx", "application/x-dtbncx+xml", "")]
BAD_TOC = [(n, d) for n, d in MINI if n not in ("OPS/book.opf", "OPS/nav.xhtml")] + [
    ("OPS/book.opf", opf(BAD_TOC_ITEMS, ["c1", "c2", "c3"]).replace("<spine>", '<spine toc="ncx">')),
    ("OPS/nav.xhtml", "<html><body><p>not a toc</p></body></html>"),
    ("OPS/toc.ncx", '<?xml version="1.0"?><!DOCTYPE ncx [<!ENTITY x "y">]><ncx><navMap><navPoint>'
                    '<navLabel><text>&x;</text></navLabel><content src="text/ch2.xhtml"/>'
                    '</navPoint></navMap></ncx>')]
write_zip("bad_toc.epub", BAD_TOC)


def hostile_epub(name, href):
    items = [("c1", "text/ok.xhtml", X, ""), ("bad", href, X, "")]
    write_zip(name, [("mimetype", "application/epub+zip"), ("META-INF/container.xml", CONTAINER),
                     ("OPS/book.opf", opf(items, ["c1", "bad"])),
                     ("OPS/text/ok.xhtml", xhtml("ok", "<p>fine</p>")),
                     ("secret.xhtml", xhtml("s", "<p>SECRET</p>"))])


hostile_epub("traversal.epub", "../../../etc/passwd")
hostile_epub("traversal_encoded.epub", "text/%2e%2e/%2e%2e/%2e%2e/secret.xhtml")
hostile_epub("absolute.epub", "/etc/passwd")
hostile_epub("file_url.epub", "file:///etc/passwd")
hostile_epub("missing_item.epub", "text/not-there.xhtml")

write_zip("malformed_opf.epub", [("mimetype", "application/epub+zip"),
                                 ("META-INF/container.xml", CONTAINER),
                                 ("OPS/book.opf", '<?xml version="1.0"?><package><metadata>'
                                                  '<dc:title>Broken</title></package')])
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE package [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol9;</dc:title></metadata>
<manifest/><spine/></package>"""
write_zip("billion_laughs.epub", [("mimetype", "application/epub+zip"),
                                  ("META-INF/container.xml", CONTAINER), ("OPS/book.opf", LAUGHS)])
LAUGHS_DOCX = LAUGHS.replace("<!DOCTYPE package", "<!DOCTYPE w:document").split("<package")[0] + \
    f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
write_zip("billion_laughs.docx", [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS),
                                  ("word/document.xml", LAUGHS_DOCX)])

# Zip bombs. Ratio: one 32 MiB entry of zeros (~32 KiB compressed, ~1000x).
write_zip("bomb_ratio.epub", [("mimetype", "application/epub+zip"),
                              ("META-INF/container.xml", CONTAINER),
                              ("OPS/zeros.xhtml", b"\0" * (32 << 20))])
# Total: 40 entries of 64 KiB of text = 2.5 MiB uncompressed; the test sets
# max_uncompressed_bytes to 1 MiB. Entries under 1 MiB are not ratio-checked, so this trips only
# the total. (A real 512 MiB total would not be a small fixture; the check is the same sum.)
text = ("All work and no play makes a dull book. " * 1700)[: 64 << 10]
write_zip("bomb_total.epub", [("mimetype", "application/epub+zip"),
                              ("META-INF/container.xml", CONTAINER)] +
          [(f"OPS/part{i}.xhtml", text) for i in range(40)])

# --- PDF ----------------------------------------------------------------------------------------


def tiny_pdf(text):
    """A one-page PDF with `text` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Title (Tiny Secret) /Author (Pat Tester) >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return out


plain = write("tiny.pdf", tiny_pdf("Hello from a tiny PDF"))
subprocess.run(["qpdf", "--static-id", "--static-aes-iv", "--encrypt", "user-pw", "owner-pw", "256", "--", plain,
                os.path.join(OUT, "encrypted.pdf")], check=True)
# Broken: the header and the first object, then nothing (no xref, no pages).
write("truncated.pdf", tiny_pdf("Hello")[:60])
print("fixtures written to", os.path.normpath(OUT))

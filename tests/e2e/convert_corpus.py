"""The converter's test corpus: real documents made with real tools, each with the answers a
test checks (pages, colour pages, words pdftotext must find), and the hostile set.

  LibreOffice (soffice --headless --convert-to) writes Word, Excel, PowerPoint (OOXML and
  97-2003), OpenDocument and RTF from HTML, CSV and flat ODF text written here;
  Ghostscript makes PDFs (and multi-page documents) from PostScript written here;
  ImageMagick (convert) makes JPEG, PNG, GIF, multi-page TIFF, BMP and WebP; heif-enc makes
  a HEIC from a PNG; Python writes Latin-1, UTF-16 and UTF-8 text and an HTML mail body.

The hostile documents are made by hand (no tool would write them): a docx whose
word/document.xml inflates to 1 GiB of "0" characters, a 50,000 x 50,000 PNG (header and a
tiny IDAT: no pixels are allocated), a PDF of 100,000 pages sharing one content stream, a
PostScript infinite loop, a file that starts like a PDF but is not one, and an HTML page, an
ODT and a docx that link /etc/passwd (images, a linked section, an INCLUDETEXT field, an
external relationship).

Building takes about 20 s (soffice dominates), so tests build it once per session
(`corpus` fixture in test_convert.py); bench/convert builds it too. Run as a script to keep
one: /usr/bin/python3 tests/e2e/convert_corpus.py DIR
"""

import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

SOFFICE_TIMEOUT_S = 300


class Doc:
    """One corpus document and what a correct conversion of it shows."""

    def __init__(self, name, kind, pages=None, color_pages=None, words=(), hostile=None):
        self.name = name          # file name; its stem is unique in the corpus
        self.path = None          # set when written
        self.kind = kind          # pdf, postscript, image, text, html, office
        self.pages = pages        # expected page count, None when layout decides
        self.color_pages = color_pages
        self.words = list(words)  # pdftotext of the PDF must contain each
        self.hostile = hostile    # None, or what it attacks ("zip bomb", …)

    @property
    def stem(self):
        return os.path.splitext(self.name)[0]

    def __repr__(self):
        return f"Doc({self.name})"


def run(args, cwd=None, env=None, timeout=120):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: "
                           f"{proc.stderr.strip()[-1000:]}")
    return proc


# --- PostScript and PDF ------------------------------------------------------------------

def postscript(pages):
    """A DSC PostScript document on A4. pages: list of (text, colour) where colour is None
    (grey box, black text) or an (r, g, b) fill for a box on that page."""
    out = ["%!PS-Adobe-3.0", f"%%Pages: {len(pages)}", "%%DocumentMedia: A4 595 842 0 () ()",
           "%%EndComments", "%%BeginSetup", "<< /PageSize [595 842] >> setpagedevice",
           "%%EndSetup"]
    for n, (text, colour) in enumerate(pages, 1):
        out.append(f"%%Page: {n} {n}")
        if colour is None:
            out.append("0.7 setgray 72 500 300 120 rectfill")
        else:
            out.append("%g %g %g setrgbcolor 72 500 300 120 rectfill" % colour)
        out.append("0 setgray /Helvetica findfont 24 scalefont setfont")
        out.append(f"72 720 moveto ({text}) show showpage")
    out.append("%%EOF")
    return "\n".join(out) + "\n"


def ps_to_pdf(ps_path, pdf_path):
    run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
         f"-sOutputFile={pdf_path}", ps_path])


# --- Office documents through LibreOffice -------------------------------------------------

WRITER_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Pullprint corpus</title></head><body>
<p>Writerpage one alphaquartz.</p>
<p style="page-break-before: always"><font color="#d00000">Writerpage two bravokilo in red.</font></p>
<p style="page-break-before: always">Writerpage three charlielima.</p>
</body></html>
"""

SHEET_CSV = "Name,Amount,Remark\nfoxtrotoscar,12,sheetword\ngolfpapa,34,tabulated\n"

SLIDES_FODP = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:automatic-styles>
  <style:style style:name="T1" style:family="text"><style:text-properties fo:color="#d00000"/></style:style>
  <style:style style:name="gr1" style:family="graphic"><style:graphic-properties draw:fill="none" draw:stroke="none"/></style:style>
 </office:automatic-styles>
 <office:body><office:presentation>
  <draw:page draw:name="one">
   <draw:frame draw:style-name="gr1" svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>
    <text:p>Slideone deltamike</text:p></draw:text-box></draw:frame>
  </draw:page>
  <draw:page draw:name="two">
   <draw:frame draw:style-name="gr1" svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>
    <text:p><text:span text:style-name="T1">Slidetwo echonovember</text:span></text:p>
   </draw:text-box></draw:frame>
  </draw:page>
 </office:presentation></office:body>
</office:document>
"""


class Soffice:
    """soffice --headless with a private profile and HOME under work_dir."""

    def __init__(self, work_dir):
        self.home = os.path.join(work_dir, "lo-home")
        self.profile = os.path.join(work_dir, "lo-profile")
        os.makedirs(self.home, exist_ok=True)

    def argv(self):
        return ["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless",
                "--norestore", "--nolockcheck", "--nodefault"]

    def env(self):
        return dict(os.environ, HOME=self.home)

    def convert(self, target, inputs, out_dir):
        """soffice --convert-to target of every input into out_dir; returns the paths."""
        run(self.argv() + ["--convert-to", target, "--outdir", out_dir] + list(inputs),
            env=self.env(), timeout=SOFFICE_TIMEOUT_S)
        ext = target.split(":", 1)[0]
        made = []
        for src in inputs:
            path = os.path.join(out_dir, os.path.splitext(os.path.basename(src))[0] + "." + ext)
            if not os.path.exists(path):
                raise RuntimeError(f"soffice --convert-to {target} wrote no {path}")
            made.append(path)
        return made


# --- hostile documents -------------------------------------------------------------------

def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def huge_png(path, width=50000, height=50000):
    """A PNG that claims width x height RGB pixels: a valid header and a tiny IDAT (four
    rows of zeros), so a decoder that trusts the header asks for 7.5 GB."""
    rows = zlib.compress(b"\0" * (1 + width * 3) * 4, 9)
    data = (b"\x89PNG\r\n\x1a\n" +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def many_pages_pdf(path, pages=100_000, fanout=1000):
    """A valid PDF of `pages` A4 pages under a two-level page tree, every page drawing the
    same content stream (about 10 MB)."""
    content = b"BT /F1 24 Tf 72 770 Td (One of very many pages) Tj ET"
    nodes = (pages + fanout - 1) // fanout
    # 1 catalog, 2 root, 3 font, 4 content, 5.. intermediate nodes, then pages.
    first_node, first_page = 5, 5 + nodes
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def obj(num, body):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % (first_node + i) for i in range(nodes))
    obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
    obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    obj(4, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    for i in range(nodes):
        lo, hi = i * fanout, min(pages, (i + 1) * fanout)
        kids = b" ".join(b"%d 0 R" % (first_page + p) for p in range(lo, hi))
        obj(first_node + i, b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (
            kids, hi - lo))
    for p in range(pages):
        obj(first_page + p, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
            b"/Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>" % (
                first_node + p // fanout))
    size = first_page + pages
    xref = len(out)
    out.extend(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    out.extend(b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size)))
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    with open(path, "wb") as f:
        f.write(out)


def zip_bomb_docx(template_docx, path, inflated=1 << 30):
    """The entries of a real docx, with word/document.xml replaced by one that inflates to
    `inflated` bytes: a paragraph whose text is that many "0" characters (deflated to about
    4.7 MB)."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
            b'main"><w:body><w:p><w:r><w:t>')
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    zeros = b"0" * (1 << 20)
    with zipfile.ZipFile(template_docx) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                entry = zipfile.ZipInfo("word/document.xml", date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry._compresslevel = 1  # 2 s instead of 6 s at the default level
                with dst.open(entry, "w") as f:
                    f.write(head)
                    left = inflated - len(head) - len(tail)
                    while left > 0:
                        f.write(zeros[:min(left, len(zeros))])
                        left -= len(zeros)
                    f.write(tail)
            else:
                dst.writestr(info, src.read(info.filename))


PASSWD_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Invoice</title>
<link rel="stylesheet" href="file:///etc/passwd"></head><body>
<p>Linkedhtml sierrayankee: the attachments below are links.</p>
<img src="file:///etc/passwd" alt="">
<img src="/etc/passwd" alt="">
<iframe src="file:///etc/passwd"></iframe>
<object data="file:///etc/passwd" type="text/plain"></object>
<embed src="file:///etc/passwd" type="text/plain">
</body></html>
"""

ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""

PASSWD_ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2">
 <office:body><office:text>
  <text:p>Linkedodt tangouniform: a section and a picture linked to a local file.</text:p>
  <text:section text:name="Linked">
   <text:section-source xlink:href="file:///etc/passwd" xlink:type="simple" text:filter-name="Text"/>
   <text:p>stale copy of the linked section</text:p>
  </text:section>
  <text:p><draw:frame draw:name="Img" svg:width="5cm" svg:height="5cm"><draw:image
   xlink:href="file:///etc/passwd" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>
  <text:p><text:a xlink:type="simple" xlink:href="file:///etc/passwd">a link</text:a></text:p>
 </office:text></office:body>
</office:document-content>
"""

DOCX_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
 <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
 <Default Extension="xml" ContentType="application/xml"/>
 <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>
"""

DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
 <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>
"""

PASSWD_DOCX_DOC_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
 <Relationship Id="rIdImg" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="file:///etc/passwd" TargetMode="External"/>
 <Relationship Id="rIdSub" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/subDocument" Target="file:///etc/passwd" TargetMode="External"/>
</Relationships>
"""

PASSWD_DOCX_DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"
 xmlns:v="urn:schemas-microsoft-com:vml">
 <w:body>
  <w:p><w:r><w:t>Linkeddocx victorwhiskey: an included file and a linked picture.</w:t></w:r></w:p>
  <w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;/etc/passwd&quot; "><w:r><w:t>stale include</w:t></w:r></w:fldSimple></w:p>
  <w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;file:///etc/passwd&quot; \\! "><w:r><w:t>stale include two</w:t></w:r></w:fldSimple></w:p>
  <w:p><w:r><w:pict><v:shape style="width:100pt;height:100pt"><v:imagedata r:id="rIdImg"/></v:shape></w:pict></w:r></w:p>
  <w:p><w:subDoc r:id="rIdSub"/></w:p>
 </w:body>
</w:document>
"""


def passwd_odt(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", ODT_MANIFEST, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", PASSWD_ODT_CONTENT, zipfile.ZIP_DEFLATED)


def passwd_docx(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        z.writestr("_rels/.rels", DOCX_RELS)
        z.writestr("word/_rels/document.xml.rels", PASSWD_DOCX_DOC_RELS)
        z.writestr("word/document.xml", PASSWD_DOCX_DOCUMENT)


def passwd_lines():
    """Lines of /etc/passwd long enough to be recognised in extracted text."""
    with open("/etc/passwd", encoding="utf-8", errors="replace") as f:
        return [line.strip() for line in f if len(line.strip()) > 12]


# --- the corpus --------------------------------------------------------------------------

class Corpus:
    def __init__(self, directory):
        self.dir = directory
        self.docs = {}  # name -> Doc

    def add(self, doc, path=None):
        doc.path = path or os.path.join(self.dir, doc.name)
        assert os.path.exists(doc.path), doc.path
        # `pullprint-convert file` names its outputs by the stem: one stem, one document.
        assert all(d.stem != doc.stem for d in self.docs.values()), doc.name
        self.docs[doc.name] = doc
        return doc

    def __getitem__(self, name):
        return self.docs[name]

    def normal(self):
        return [d for d in self.docs.values() if d.hostile is None]

    def hostile(self):
        return [d for d in self.docs.values() if d.hostile is not None]


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)
    return path


def build(directory, hostile=True):
    """Writes the corpus into directory (created) and returns the Corpus."""
    os.makedirs(directory, exist_ok=True)
    c = Corpus(directory)
    src = os.path.join(directory, "sources")
    os.makedirs(src, exist_ok=True)
    j = os.path.join

    # PostScript and PDF: 4 pages, 2 and 4 in colour; a 10-page grey document.
    colour_pages = [("Pspage one indiawhiskey", None), ("Pspage two julietxray", (1, 0, 0)),
                    ("Pspage three kilozulu", None), ("Pspage four limabravo", (0, 0, 1))]
    write(j(directory, "colour-ps.ps"), postscript(colour_pages), "w")
    c.add(Doc("colour-ps.ps", "postscript", 4, 2, ["indiawhiskey", "julietxray", "limabravo"]))
    ps_to_pdf(j(directory, "colour-ps.ps"), j(directory, "colour.pdf"))
    c.add(Doc("colour.pdf", "pdf", 4, 2, ["indiawhiskey", "kilozulu", "limabravo"]))
    write(j(src, "ten.ps"), postscript([(f"Tenpage {n} mikealpha", None)
                                        for n in range(1, 11)]), "w")
    ps_to_pdf(j(src, "ten.ps"), j(directory, "ten-pages.pdf"))
    c.add(Doc("ten-pages.pdf", "pdf", 10, 0, ["mikealpha"]))

    # Images: ImageMagick, and heif-enc for HEIC.
    im = ["convert"]
    run(im + ["-size", "1200x800", "gradient:#e00000-#0000e0", j(directory, "photo.jpg")])
    c.add(Doc("photo.jpg", "image", 1, 1))
    run(im + ["-size", "800x600", "gradient:white-black", "-colorspace", "Gray",
              j(directory, "grey.jpg")])
    c.add(Doc("grey.jpg", "image", 1, 0))
    run(im + ["-size", "640x480", "xc:white", "-fill", "#00a000", "-draw",
              "circle 320,240 320,100", j(directory, "picture.png")])
    c.add(Doc("picture.png", "image", 1, 1))
    run(im + [j(directory, "picture.png"), j(directory, "picture-gif.gif")])
    c.add(Doc("picture-gif.gif", "image", 1, 1))
    run(im + [j(directory, "picture.png"), j(directory, "picture-bmp.bmp")])
    c.add(Doc("picture-bmp.bmp", "image", 1, 1))
    run(im + [j(directory, "picture.png"), j(directory, "picture-webp.webp")])
    c.add(Doc("picture-webp.webp", "image", 1, 1))
    run(im + ["-size", "600x800", "gradient:white-gray40", "-colorspace", "Gray",
              j(src, "grey1.png")])
    run(im + ["-size", "600x800", "xc:gray90", j(src, "grey2.png")])
    run(im + [j(src, "grey1.png"), j(directory, "photo.jpg"), j(src, "grey2.png"),
              j(directory, "scan.tiff")])
    c.add(Doc("scan.tiff", "image", 3, 1))
    run(["heif-enc", "-q", "80", "-o", j(directory, "photo-heic.heic"),
         j(directory, "picture.png")])
    c.add(Doc("photo-heic.heic", "image", 1, 1))

    # Text in three encodings and an HTML mail body.
    latin1 = "Grüße aus Köln, café crème. Latinword kilosierra.\n"
    write(j(directory, "latin1.txt"), latin1.encode("latin-1"))
    c.add(Doc("latin1.txt", "text", 1, 0, ["kilosierra", "Grüße", "café"]))
    utf16 = "Zürich naïve façade. Utfword papaoscar.\n"
    write(j(directory, "utf16.txt"), utf16.encode("utf-16"))  # with its BOM
    c.add(Doc("utf16.txt", "text", 1, 0, ["papaoscar", "Zürich", "naïve"]))
    write(j(directory, "plain.txt"), "Plainword quebecromeo\nsecond line sierrahotel\n", "w")
    c.add(Doc("plain.txt", "text", 1, 0, ["quebecromeo", "sierrahotel"]))
    write(j(directory, "mail.html"),
          "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Mail</title></head>"
          "<body><h1 style=\"color:#c00000\">Mailheading romeotango</h1>"
          "<p>Mailbody uniformvictor, regards.</p></body></html>\n", "w")
    c.add(Doc("mail.html", "html", 1, 1, ["romeotango", "uniformvictor"]))

    # Office documents: LibreOffice, one run per output format.
    lo = Soffice(directory)
    write(j(src, "writer.html"), WRITER_HTML, "w")
    write(j(src, "sheet.csv"), SHEET_CSV, "w")
    write(j(src, "slides.fodp"), SLIDES_FODP, "w")
    lo.convert("docx:MS Word 2007 XML", [j(src, "writer.html")], directory)
    writer_words = ["alphaquartz", "bravokilo", "charlielima"]
    c.add(Doc("writer.docx", "office", 3, 1, writer_words))
    # The other text formats from the docx (from HTML, Writer/Web would write an .oth-like ODT).
    for target, ext in (("odt:writer8", "odt"), ("rtf:Rich Text Format", "rtf"),
                        ("doc:MS Word 97", "doc")):
        tmp = j(src, ext)
        os.makedirs(tmp, exist_ok=True)
        made = lo.convert(target, [j(directory, "writer.docx")], tmp)[0]
        shutil.move(made, j(directory, f"writer-{ext}.{ext}"))
        c.add(Doc(f"writer-{ext}.{ext}", "office", 3, 1, writer_words))
    for target, ext in (("xlsx:Calc Office Open XML", "xlsx"), ("xls:MS Excel 97", "xls")):
        lo.convert(target, [j(src, "sheet.csv")], src)
        shutil.move(j(src, f"sheet.{ext}"), j(directory, f"sheet-{ext}.{ext}"))
        c.add(Doc(f"sheet-{ext}.{ext}", "office", 1, 0, ["foxtrotoscar", "golfpapa",
                                                          "tabulated"]))
    for target, ext in (("pptx:Impress MS PowerPoint 2007 XML", "pptx"),
                        ("ppt:MS PowerPoint 97", "ppt")):
        lo.convert(target, [j(src, "slides.fodp")], src)
        shutil.move(j(src, f"slides.{ext}"), j(directory, f"slides-{ext}.{ext}"))
        c.add(Doc(f"slides-{ext}.{ext}", "office", 2, 1, ["deltamike", "echonovember"]))

    if hostile:
        build_hostile(c)
    return c


def build_hostile(c):
    j = os.path.join
    d = c.dir
    zip_bomb_docx(c["writer.docx"].path, j(d, "bomb.docx"))
    c.add(Doc("bomb.docx", "office", hostile="zip bomb (1 GiB document.xml)"))
    huge_png(j(d, "huge.png"))
    c.add(Doc("huge.png", "image", hostile="50,000 x 50,000 pixels"))
    many_pages_pdf(j(d, "pages100k.pdf"))
    c.add(Doc("pages100k.pdf", "pdf", hostile="100,000 pages"))
    write(j(d, "loop.ps"), "%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\n{} loop\nshowpage\n",
          "w")
    c.add(Doc("loop.ps", "postscript", hostile="infinite loop"))
    write(j(d, "fake.pdf"), b"%PDF-1.7\nThis is not a PDF: a text that starts like one.\n" +
          bytes(range(256)) * 64)
    c.add(Doc("fake.pdf", "pdf", hostile="claims to be a PDF"))
    write(j(d, "passwd-html.html"), PASSWD_HTML, "w")
    c.add(Doc("passwd-html.html", "html", words=["sierrayankee"], hostile="links /etc/passwd"))
    passwd_odt(j(d, "passwd-odt.odt"))
    c.add(Doc("passwd-odt.odt", "office", words=["tangouniform"], hostile="links /etc/passwd"))
    passwd_docx(j(d, "passwd-docx.docx"))
    c.add(Doc("passwd-docx.docx", "office", words=["victorwhiskey"], hostile="links /etc/passwd"))


# --- checks shared by the tests and the benchmark ----------------------------------------

def pdf_pages(path):
    out = run(["pdfinfo", path]).stdout
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise RuntimeError("pdfinfo printed no page count for " + path)


def pdf_text(path):
    return run(["pdftotext", "-enc", "UTF-8", path, "-"]).stdout


def jpeg_size(path):
    """(width, height) from a JPEG's first SOF marker; raises on anything else."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"{path} is not a JPEG (starts {data[:4]!r})")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xff:
            raise ValueError(f"{path}: bad marker at {i}")
        marker = data[i + 1]
        if marker == 0xff:
            i += 1
            continue
        if marker in (0xd8, 0x01) or 0xd0 <= marker <= 0xd7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd,
                      0xce, 0xcf):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise ValueError(f"{path}: no SOF marker")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: convert_corpus.py DIR")
    corpus = build(sys.argv[1])
    for doc in corpus.docs.values():
        print(f"{doc.name:16} {doc.kind:10} pages={doc.pages} colour={doc.color_pages} "
              f"{doc.hostile or ''}")

"""Sample documents the end-to-end tests print: small but valid, made here (Debian ships
none with ipptool)."""


def pdf(width_pt=595, height_pt=842, pages=1, text="Pullprint test page"):
    """A small valid PDF (A4 by default): pages of the given size, each with a grey box and
    the line text and its number, and a correct cross-reference table."""
    objs = []
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for i in range(pages):
        page, content, font = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        stream = (f"0.8 g 72 72 {width_pt - 144} 144 re f 0 g BT /F1 24 Tf 72 "
                  f"{height_pt - 108} Td ({text} {i + 1}) Tj ET").encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] "
                    f"/Contents {content} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>"
                    .encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        assert page == len(objs) - 2
    data = b"%PDF-1.4\n"
    offsets = []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    data += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1,
                                                                             xref)
    return data

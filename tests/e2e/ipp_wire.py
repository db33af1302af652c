"""A tiny IPP encoder and decoder for the end-to-end tests (standard library only): enough to
send any operation with chosen attributes, bytes and all, and to read a response's status and
attribute values."""

import struct


def attr(tag, name, value):
    name = name.encode()
    return struct.pack(">BH", tag, len(name)) + name + struct.pack(">H", len(value)) + value


def ipp_request(op, uri, operation=b"", job=b"", request_id=1, version=(2, 0)):
    body = struct.pack(">BBHI", version[0], version[1], op, request_id) + b"\x01"
    body += attr(0x47, "attributes-charset", b"utf-8")
    body += attr(0x48, "attributes-natural-language", b"en")
    body += attr(0x45, "printer-uri", uri.encode()) + operation
    if job:
        body += b"\x02" + job
    return body + b"\x03"


def ipp_status(content):
    assert len(content) >= 8, content
    return struct.unpack(">H", content[2:4])[0]


def ipp_values(content, name, tags):
    """Every value (raw bytes) of attribute name with a value tag in tags."""
    values, pos, current = [], 8, None
    while pos < len(content):
        tag = content[pos]
        pos += 1
        if tag < 0x10:
            if tag == 0x03:
                break
            continue
        nlen = struct.unpack(">H", content[pos:pos + 2])[0]
        aname = content[pos + 2:pos + 2 + nlen].decode(errors="replace")
        pos += 2 + nlen
        vlen = struct.unpack(">H", content[pos:pos + 2])[0]
        value = content[pos + 2:pos + 2 + vlen]
        pos += 2 + vlen
        if nlen:
            current = aname
        if current == name and tag in tags:
            values.append(value)
    return values


def ipp_strings(content, name):
    """Every keyword/text/name/uri value of attribute name in a response."""
    return [v.decode() for v in ipp_values(content, name, (0x41, 0x42, 0x44, 0x45))]


def ipp_ints(content, name):
    """Every integer/enum value of attribute name in a response."""
    return [struct.unpack(">i", v)[0] for v in ipp_values(content, name, (0x21, 0x23))
            if len(v) == 4]

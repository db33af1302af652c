#!/usr/bin/python3
"""An snmpd `pass` helper that serves fixed Printer-MIB and HOST-RESOURCES-MIB values from a
JSON file, so that a real snmpd (which implements neither table for a printer) answers like a
network printer: snmpd speaks SNMP, this script only looks values up.

Called by snmpd as: snmp_printer_pass.py DATA.json -g OID   (get)
                    snmp_printer_pass.py DATA.json -n OID   (get-next)
DATA.json maps dotted OIDs to [type, value] with pass types (string, integer, octet, ...);
an octet value is hex bytes separated by spaces. Prints nothing when there is no such OID.
"""

import json
import sys


def key(oid):
    return tuple(int(part) for part in oid.strip(".").split("."))


def main():
    if len(sys.argv) < 4:
        return
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    table = sorted((key(oid), kind, value) for oid, (kind, value) in data.items())
    op, oid = sys.argv[2], key(sys.argv[3])
    if op == "-g":
        hit = next((row for row in table if row[0] == oid), None)
    elif op == "-n":
        hit = next((row for row in table if row[0] > oid), None)
    else:
        hit = None  # -s (set): not writable
    if hit is not None:
        sys.stdout.write("." + ".".join(map(str, hit[0])) + "\n" + hit[1] + "\n" +
                         str(hit[2]) + "\n")


if __name__ == "__main__":
    main()

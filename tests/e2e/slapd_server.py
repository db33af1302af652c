"""A private OpenLDAP server for the directory tests: Debian's /usr/sbin/slapd with a
temporary slapd.conf (mdb backend), a test CA and server certificate made here with openssl,
listening on 127.0.0.1 only (ldap:// for StartTLS and ldaps://, ephemeral ports) plus an
ldapi:// socket for the fixture's own changes, stopped by PID.

Data: dc=example,dc=com with ou=people (OpenLDAP-style inetOrgPerson users), ou=ad (users
with Active Directory attributes: sAMAccountName, userPrincipalName, proxyAddresses,
department, memberOf, from a small schema written here with AD's OIDs), ou=groups (printers,
admins as groupOfNames) and a service account cn=svc.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=example,dc=com"
ROOT_DN = "cn=admin," + SUFFIX
ROOT_PW = "root-secret-1"
SVC_DN = "cn=svc," + SUFFIX
SVC_PW = "svc-secret-1"
PRINT_GROUP = "cn=printers,ou=groups," + SUFFIX
ADMIN_GROUP = "cn=admins,ou=groups," + SUFFIX

AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'ppTestAdUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ userPrincipalName $ proxyAddresses $ department $ memberOf ) )
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def person(uid, mail=None, name=None, dept=None, cost=None, password=None, base="ou=people"):
    """LDIF of one inetOrgPerson under base."""
    lines = [f"dn: uid={uid},{base},{SUFFIX}", "objectClass: inetOrgPerson", f"uid: {uid}",
             f"cn: {name or uid}", f"sn: {uid}"]
    if name:
        lines.append(f"displayName: {name}")
    if mail:
        lines.append(f"mail: {mail}")
    if dept:
        lines.append(f"departmentNumber: {dept}")
    if cost:
        lines.append(f"employeeNumber: {cost}")
    if password:
        lines.append(f"userPassword: {password}")
    return "\n".join(lines) + "\n\n"


def base_ldif():
    return (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\n"
            "dc: example\n\n"
            f"dn: {SVC_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: svc\nuserPassword: {SVC_PW}\n\n"
            f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n"
            f"dn: ou=ad,{SUFFIX}\nobjectClass: organizationalUnit\nou: ad\n\n"
            f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n")


def group(cn, members):
    lines = [f"dn: cn={cn},ou=groups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: {m}" for m in members] or [f"member: {ROOT_DN}"]
    return "\n".join(lines) + "\n\n"


class Slapd:
    """One slapd with its own directory of files; start() loads ldif offline first."""

    def __init__(self, root=None):
        self.dir = root or tempfile.mkdtemp(prefix="pp-slapd-")
        self.ldap_port = free_port()
        self.ldaps_port = free_port()
        while self.ldaps_port == self.ldap_port:
            self.ldaps_port = free_port()
        self.sock = os.path.join(self.dir, "ldapi")
        self.proc = None
        self.ca = os.path.join(self.dir, "ca.pem")
        self.other_ca = os.path.join(self.dir, "other-ca.pem")
        self.log_path = os.path.join(self.dir, "slapd.log")

    @property
    def ldap_uri(self):
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_uri(self):
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def ldapi_uri(self):
        return "ldapi://" + urllib.parse.quote(self.sock, safe="")

    def _run(self, *argv, input=None):
        proc = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"{argv[0]} exited {proc.returncode}: {proc.stderr}")
        return proc

    def make_certs(self):
        """A test CA, a server certificate for 127.0.0.1/localhost, and an unrelated CA."""
        d = self.dir
        for name in ("ca", "other-ca"):
            self._run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                      f"/CN=Pullprint test {name}", "-keyout", os.path.join(d, name + ".key"),
                      "-out", os.path.join(d, name + ".pem"),
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(d, "server.key"),
                  "-out", os.path.join(d, "server.csr"))
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        self._run("openssl", "x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA",
                  self.ca, "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "2",
                  "-extfile", ext, "-out", os.path.join(d, "server.pem"))

    def write_config(self):
        d = self.dir
        with open(os.path.join(d, "ad.schema"), "w") as f:
            f.write(AD_SCHEMA)
        os.makedirs(os.path.join(d, "db"), mode=0o700, exist_ok=True)
        schema = "/etc/ldap/schema"
        conf = f"""include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/nis.schema
include {schema}/inetorgperson.schema
include {d}/ad.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {self.ca}
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key
sizelimit unlimited
sortvals member uniqueMember
database mdb
maxsize 1073741824
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {d}/db
index objectClass eq
index uid,mail,cn,sAMAccountName,userPrincipalName,proxyAddresses eq
index member,uniqueMember eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""
        self.conf = os.path.join(d, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def load(self, ldif):
        """Loads entries offline (before start)."""
        path = os.path.join(self.dir, f"load-{time.monotonic_ns()}.ldif")
        with open(path, "w") as f:
            f.write(ldif)
        self._run(SLAPADD, "-q", "-f", self.conf, "-l", path)

    def start(self):
        self.log = open(self.log_path, "a")
        urls = f"{self.ldap_uri}/ {self.ldaps_uri}/ {self.ldapi_uri}"
        # -d 0: stay in the foreground (no fork), so the PID is ours to stop.
        self.proc = subprocess.Popen([SLAPD, "-d", "0", "-f", self.conf, "-h", urls],
                                     stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("slapd exited: " + open(self.log_path).read())
            try:
                with socket.create_connection(("127.0.0.1", self.ldaps_port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("slapd did not start: " + open(self.log_path).read())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def modify(self, tool, ldif):
        """Runs ldapadd/ldapmodify/ldapdelete as the root DN over the ldapi socket."""
        return self._run(tool, "-x", "-H", self.ldapi_uri, "-D", ROOT_DN, "-w", ROOT_PW,
                         input=ldif)

    def delete(self, dn):
        return self._run("ldapdelete", "-x", "-H", self.ldapi_uri, "-D", ROOT_DN, "-w",
                         ROOT_PW, dn)


def make_slapd(ldif, root=None):
    """A configured, loaded, started slapd."""
    s = Slapd(root)
    s.make_certs()
    s.write_config()
    s.load(base_ldif() + ldif)
    return s.start()

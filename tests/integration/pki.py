"""Test certificates made at test time with the openssl CLI: a CA, and server or client
certificates it signs (P-256 keys, valid for two days)."""

import os

import world


def openssl(directory, *args):
    world.run(["openssl", *args], cwd=directory)


def make_ca(directory, name):
    """A self-signed CA; returns the paths of its certificate and key."""
    cert, key = (os.path.join(directory, name + suffix) for suffix in (".pem", ".key"))
    openssl(directory, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert, key


def make_certificate(directory, ca, name, client=False, base="server", subject=None):
    """A certificate for `name` (a DNS name: subjectAltName, and CN unless `subject` is given
    in openssl's "/O=.../CN=..." form) signed by `ca` (certificate, key), for a server or a
    client; returns (key, cert)."""
    key, csr, cert, extensions = (os.path.join(directory, base + suffix)
                                  for suffix in (".key", ".csr", ".pem", ".ext"))
    with open(extensions, "w") as out:
        out.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n"
                  % (name, "clientAuth" if client else "serverAuth"))
    openssl(directory, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key, "-out", csr, "-subj", subject or "/CN=" + name)
    openssl(directory, "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", cert)
    return key, cert


def make_test_pki(directory, server_name):
    """In `directory` (made here): a CA with a server certificate for `server_name` and a
    client certificate, a guest client certificate (subject CN=guest.test,OU=guests,
    O=dnsvagt test), and another CA that signed none. Returns {"ca", "other_ca": CA
    certificate paths, "ca_pair": the CA's (certificate, key), "server", "client", "guest":
    (key, cert)}."""
    os.makedirs(directory)
    ca = make_ca(directory, "test-ca")
    return {"ca": ca[0], "ca_pair": ca, "other_ca": make_ca(directory, "other-ca")[0],
            "server": make_certificate(directory, ca, server_name),
            "client": make_certificate(directory, ca, "client.test", client=True,
                                       base="client"),
            "guest": make_certificate(directory, ca, "guest.test", client=True, base="guest",
                                      subject="/O=dnsvagt test/OU=guests/CN=guest.test")}

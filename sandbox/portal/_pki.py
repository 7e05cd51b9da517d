"""A sandbox test CA for the destination's encryption keys, and the sender's check of ``x5c``.

In FIT-Connect a destination's encryption key comes with a certificate chain (JWK ``x5c``,
RFC 7517 §4.7: base64 DER, the key's own certificate first) from the administration PKI; a
sender checks the chain against its trust anchor before it encrypts anything to that key. The
sandbox plays the PKI with a CA of its own: ``sandbox-ca.json`` (key and certificate, 0600)
and ``trust-anchor.pem`` (the certificate alone, to configure a sender with).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = ["TestCA", "load_or_create_ca", "verify_x5c"]

CA_FILE = "sandbox-ca.json"
TRUST_ANCHOR_FILE = "trust-anchor.pem"


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


@dataclass(frozen=True)
class TestCA:
    """The sandbox's issuing CA."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def x5c(self, jwk: dict[str, Any], subject: str) -> list[str]:
        """A certificate chain for the RSA public key of `jwk` (leaf first, then the CA)."""
        public = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
        now = dt.datetime.now(dt.UTC)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(self.cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA512())
        )
        return [
            base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
            for c in (leaf, self.cert)
        ]


def load_or_create_ca(data_dir: Path, key_size: int) -> TestCA:
    """The sandbox CA of `data_dir`, created (with ``trust-anchor.pem``) on first use."""
    path = data_dir / CA_FILE
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(stored["key"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return TestCA(key, x509.load_pem_x509_certificate(stored["cert"].encode()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sandbox Musterstadt"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox Test-CA Zustellpunkte"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA512())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"key": key_pem, "cert": cert_pem}, fh)
    tmp.replace(path)
    (data_dir / TRUST_ANCHOR_FILE).write_text(cert_pem, encoding="utf-8")
    return TestCA(key, cert)


def verify_x5c(jwk: dict[str, Any], anchor_pem: bytes, *, now: dt.datetime | None = None) -> None:
    """Check that `jwk`'s ``x5c`` chain leads to the trust anchor and certifies this very key.

    Each certificate must be issued by the next one (signature and names), the issuers must be
    CAs, all must be valid now, the last one must be issued by the anchor (or be it), and the
    first one must hold the JWK's public key.

    Raises:
        ValueError: No chain, a broken chain, an expired certificate, another anchor, or a
            certificate for another key.
    """
    chain_b64 = jwk.get("x5c")
    if not isinstance(chain_b64, list) or not chain_b64:
        raise ValueError("destination key carries no x5c certificate chain")
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain_b64]
        anchor = x509.load_pem_x509_certificate(anchor_pem)
    except ValueError as exc:
        raise ValueError("x5c or trust anchor is not a certificate") from exc
    moment = now or dt.datetime.now(dt.UTC)
    for cert in chain:
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise ValueError("a certificate of the x5c chain is not valid now")
    if len(chain) > 1 and chain[-1] == anchor:
        chain = chain[:-1]  # the chain may end with the anchor itself
    issuers = [*chain[1:], anchor]
    try:
        for cert, issuer in zip(chain, issuers, strict=True):
            constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints)
            if not constraints.value.ca:
                raise ValueError("an issuer of the x5c chain is no CA")
            cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, TypeError, x509.ExtensionNotFound) as exc:
        raise ValueError("x5c chain does not lead to the trust anchor") from exc
    leaf = chain[0].public_key()
    if not isinstance(leaf, rsa.RSAPublicKey):
        raise ValueError("x5c certifies no RSA key")
    numbers = leaf.public_numbers()
    if numbers.n != _b64url_int(jwk["n"]) or numbers.e != _b64url_int(jwk["e"]):
        raise ValueError("x5c certifies another key than the JWK")

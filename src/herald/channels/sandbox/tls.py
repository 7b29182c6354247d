"""A throwaway certificate so the sandbox can speak STARTTLS on loopback.

Generated at start (an EC key takes milliseconds), valid for ``127.0.0.1``
and ``localhost``, never written anywhere but a private temporary directory
that is removed at once. Clients trust it by taking its PEM as their only
trusted certificate (``EmailSettings.tls_ca_pem``).
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 7


def self_signed_pem(host: str) -> tuple[str, str]:
    """(certificate PEM, private key PEM) for ``host``, ``127.0.0.1`` and ``localhost``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Herald sandbox SMTP")])
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in {host, "127.0.0.1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return cert_pem, key_pem


def self_signed_context(host: str) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a fresh certificate, and that certificate's PEM."""
    cert_pem, key_pem = self_signed_pem(host)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="herald-sandbox-tls-") as directory:
        cert_path, key_path = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        cert_path.write_text(cert_pem, encoding="ascii")
        key_path.write_text(key_pem, encoding="ascii")
        key_path.chmod(0o600)
        context.load_cert_chain(cert_path, key_path)
    return context, cert_pem

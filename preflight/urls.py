"""Which inputs are URLs (``s3://``, ``https://``; read by ``preflight.inputs.remote``): plain text, so
that every layer can tell a URL from a path without importing the readers."""

from __future__ import annotations

STORES = ("s3://",)
WEB = ("https://", "http://")
NOT_YET = ("gs://", "gcs://", "az://", "abfs://")  # object stores not read yet: one clear line


def is_remote(text: str) -> bool:
    return text.lower().startswith(STORES + WEB + NOT_YET)


def normalized(url: str) -> str:
    """The URL with its scheme in lower case (``S3://`` is ``s3://``; pyarrow takes only the latter)."""
    scheme, sep, rest = url.partition("://")
    return scheme.lower() + sep + rest

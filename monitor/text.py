"""Text that reaches a terminal or a log: one line, no control characters, no passwords."""

from __future__ import annotations

import re

SECRET_KEY = re.compile(r"(?i)(?:ssl)?password")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PARAMETER_PASSWORD = re.compile(r"(?i)\b((?:ssl)?password\s*=\s*)('[^']*'|[^&\s;]*)")


def redacted(text: str) -> str:
    """`text` with every password a database URL or libpq parameter can carry blanked out: `user:PASSWORD@`,
    `?password=` and `sslpassword=` (in a URL or a key=value connection string)."""
    return _PARAMETER_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1***@", text))


def printable(text: object) -> str:
    """`text` safe to show on one terminal line: control characters (escape codes, newlines) written as escapes,
    and every password a database URL may carry blanked out."""
    return redacted("".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in str(text)))

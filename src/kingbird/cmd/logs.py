"""Logging set-up of the console scripts.

Each line carries the process id and the request id (``-`` outside a request),
so one grep follows an API request into the engine that carried it out. Secrets
are masked before a line is written, as a second line of defence: nothing should
log a token or a password in the first place.
"""

from __future__ import annotations

import logging
import re

from kingbird.core.requestlog import RequestIdFilter

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"

_SECRETS = [
    # Keystone Fernet tokens (and Fernet-encrypted blobs) start with gAAAAA.
    (re.compile(r"gAAAAA[A-Za-z0-9_\-=]{16,}"), "***"),
    (re.compile(r"(?i)(x-auth-token|x-subject-token|x-service-token)(\W+)[^\s,'\"}]+"),
     r"\1\2***"),
    (re.compile(r"(?i)((?:password|passwd|secret|master_key|token)['\"]?\s*[:=]\s*['\"]?)"
                r"[^\s,'\"}&]+"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1***@"),  # URL credentials
]


def redact(text: str) -> str:
    """``text`` with tokens and passwords masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


_TRACEBACKS = logging.Formatter()


class RedactFilter(logging.Filter):
    """Masks secrets in every record a handler writes: its message, its traceback
    (formatted here, once, into ``exc_text``, which the formatter then writes as it
    is) and its stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup(level: str = "INFO", path: str | None = None) -> None:
    handler: logging.Handler = (logging.FileHandler(path) if path else logging.StreamHandler())
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # keystonemiddleware and urllib3 are chatty at INFO about every token and socket.
    for noisy in ("keystonemiddleware", "urllib3", "stevedore", "keystoneauth"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

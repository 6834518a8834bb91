"""E-mail (.eml, the standard library's email): the subject as title; From, To and Date lines;
the text body (the HTML part through the HTML loader when there is no text part). Attachments
of the formats rag reads are their own documents, cited as ``mail.eml/attachment-name``."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path


def parse(path: Path) -> tuple[str, str, list[tuple[str, bytes]]]:
    """(text, subject, attachments as (file name, bytes))."""
    from .html import page_text

    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if not msg.keys():
        raise ValueError("no e-mail headers in it")
    subject = " ".join(str(msg.get("subject", "")).split())
    head = [f"{name}: {' '.join(str(msg[name]).split())}" for name in ("From", "To", "Cc", "Date")
            if msg.get(name)]
    if subject:
        head.insert(0, f"Subject: {subject}")
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        if body.get_content_type() == "text/html":
            content, _ = page_text(content, "all")
        text = "\n\n".join(b.strip() for b in content.replace("\r\n", "\n").split("\n\n")
                           if b.strip())
    attachments = []
    for part in msg.iter_attachments():
        name = Path(part.get_filename() or "").name
        payload = part.get_payload(decode=True)
        if name and payload:
            attachments.append((name, payload))
    # Each header field is a block of its own: read as one sentence they were cited as the
    # answer to whatever the subject line names; alone, each is a label (signals.py).
    return "\n\n".join([*head, text] if text else head), subject, attachments


def mail_file(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    """The mail itself (its attachments are read by rag.ingest.loading as documents apart)."""
    text, subject, _ = parse(path)
    return text, subject, ()

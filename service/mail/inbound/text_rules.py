"""Line rules shared by the HTML and plain-text readings: attributions, signatures, tidying."""

from __future__ import annotations

import re

#: The end of a quote's attribution line, in the languages mail clients are used in:
#: "On … wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:", "W dniu … napisał:".
_ATTRIBUTION = re.compile(
    r"(?:wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef|escreveu|skrev|kirjoitti|"
    r"napisał(?:\(a\)|a)?|pisze|написал(?:\(а\)|а)?)\s*:\s*$",
    re.IGNORECASE,
)
#: Signatures a phone or a mail app adds by itself ("Sent from my iPhone").
_MOBILE = re.compile(
    r"^(?:sent from my [\w .-]{1,40}|sent from (?:outlook|mail|yahoo mail)\b.{0,40}|"
    r"get outlook for (?:ios|android)|sent from proton ?mail.{0,30}|"
    r"von meinem [\w .-]{1,30} gesendet|gesendet von meinem [\w .-]{1,30}|"
    r"envoyé de mon [\w .-]{1,30}|enviado desde mi [\w .-]{1,30}|inviato da(?:l mio)? [\w .-]{1,30}|"
    r"verzonden (?:vanaf|met) mijn [\w .-]{1,30}|skickat från min [\w .-]{1,30}|"
    r"wysłane z mojego [\w .-]{1,30}|отправлено с (?:моего )?[\w .-]{1,30})$",
    re.IGNORECASE,
)
#: The RFC 3676 signature separator "-- " (some clients lose its space).
_SEPARATOR = re.compile(r"(?m)^-- ?$")


def is_attribution(text: str) -> bool:
    """Whether `text` (one element or line) reads like "On <date>, <someone> wrote:"."""
    flat = " ".join(text.split())
    return 0 < len(flat) <= 400 and _ATTRIBUTION.search(flat) is not None


def is_mobile_signature(text: str) -> bool:
    """Whether `text` is a signature a device added by itself."""
    flat = " ".join(text.split())
    return 0 < len(flat) <= 60 and _MOBILE.match(flat) is not None


def cut_signature(text: str) -> str:
    """`text` up to a "-- " signature separator line."""
    match = _SEPARATOR.search(text)
    return text[: match.start()] if match else text


def tidy(text: str) -> str:
    """One canonical form: no signature, no trailing spaces or device signatures, paragraphs
    separated by one blank line."""
    text = cut_signature(text.replace("\r\n", "\n").replace("\ufeff", ""))
    lines = [line.rstrip(" \t\u00a0") for line in text.split("\n")]
    lines = ["" if not line.strip(" \t\u00a0") else line for line in lines]
    while lines and (not lines[-1] or is_mobile_signature(lines[-1])):
        lines.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")

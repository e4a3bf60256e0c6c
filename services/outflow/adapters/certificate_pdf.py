"""The activity certificate (流动党员活动证) as a printable PDF.

Chinese text uses reportlab's built-in CID font STSong-Light (the reader's own Song typeface; no
font file is shipped or downloaded). Numbers and dates are also drawn in Helvetica, so the
certificate number stands in the file as plain text (a scanner or a search finds it); pages are
left uncompressed for the same reason (the file stays a few kilobytes).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from reportlab.lib.pagesizes import A5, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

SONG = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(SONG))


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _fitting(text: str, room: float) -> float:
    """A long employer or branch name is set smaller (down to 8 points) to stay on the card."""
    size = 12.0
    while size > 8 and pdfmetrics.stringWidth(text, SONG, size) > room:
        size -= 0.5
    return size


def _cut(text: str, room: float) -> str:
    while text and pdfmetrics.stringWidth(text, SONG, 8) > room:
        text = text[:-2] + "…"
    return text


def render_certificate(c: dict[str, Any]) -> bytes:
    """`c`: number, name, origin_place(+_name), origin_branch, host_place(+_name), employer,
    departed_on, issued_on, valid_until, state."""
    out = io.BytesIO()
    width, height = landscape(A5)
    pdf = canvas.Canvas(out, pagesize=(width, height), pageCompression=0)
    pdf.setTitle(f"流动党员活动证 {c['number']}")
    pdf.setSubject(c["number"])
    pdf.setAuthor(c["origin_place_name"] or c["origin_place"])
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setFont(SONG, 22)
    pdf.drawCentredString(width / 2, height - 70, "流动党员活动证")
    pdf.setFont("Helvetica", 12)
    pdf.drawCentredString(width / 2, height - 92, f"No. {c['number']}")
    rows = [
        ("姓　　名", c["name"]),
        ("流 出 地", f"{c['origin_place_name'] or ''}（{c['origin_place']}）{c['origin_branch']}"),
        ("流 入 地", f"{c['host_place_name'] or ''}（{c['host_place']}）{c['employer'] or ''}"),
        ("外出日期", _day(c["departed_on"])),
        ("发证日期", _day(c["issued_on"])),
        ("有效期至", _day(c["valid_until"])),
    ]
    y = height - 130
    room = width - 60 - 150
    for label, value in rows:
        pdf.setFont(SONG, 12)
        pdf.drawString(60, y, f"{label}：")
        pdf.setFont(SONG, _fitting(value, room))
        pdf.drawString(150, y, _cut(value, room))
        y -= 26
    pdf.setFont(SONG, 9)
    pdf.drawCentredString(
        width / 2, 58, "凭此证向流入地党组织报到；遗失须向流出地党组织申请补发，原证号作废。"
    )
    pdf.setFont("Helvetica", 9)
    valid = f"{c['number']}  valid {_day(c['issued_on'])} .. {_day(c['valid_until'])}"
    pdf.drawCentredString(width / 2, 40, valid)
    pdf.showPage()
    pdf.save()
    return out.getvalue()

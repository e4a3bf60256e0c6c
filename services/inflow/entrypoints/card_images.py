"""The pioneer card as images: its QR code (SVG, PNG) and a printable card (SVG, ID-1 size).

The QR code holds the card number only: an organisation's phone scans it and sends the number
to the check-in endpoint. No name or ID number is in it, so a lost card tells a finder nothing.
Always a full QR code (never a Micro QR, which segno picks for short texts and most phone
scanners do not read).
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

import segno

from shared.validation.places import place_name

#: Quiet zone around the code, in modules: the QR standard asks for four.
BORDER = 4


def qr_of(card_no: str) -> segno.QRCode:
    return segno.make(card_no, error="m", micro=False)


def qr_svg(card_no: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr_of(card_no).save(out, kind="svg", scale=scale, border=BORDER, title=card_no)
    return out.getvalue()


def qr_png(card_no: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr_of(card_no).save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()


def _modules_path(card_no: str) -> tuple[str, int]:
    """The dark modules as one SVG path (a run of dark modules per stroke), and the side."""
    rows = list(qr_of(card_no).matrix_iter(border=BORDER))
    parts = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return "".join(parts), len(rows)


def printable_card(*, card_no: str, place: str, name: str, issued_on: date) -> bytes:
    """An 85.6 × 54 mm card (the size of a resident ID card), to print at 100 %."""
    path, side = _modules_path(card_no)
    district = place_name(place) or place
    qr_size = 40  # mm
    text = [
        (6, 10, 5.2, "bold", "区域共管先锋卡"),
        (6, 17, 3.2, "normal", escape(district)),
        (6, 27, 4.2, "normal", f"姓名 {escape(name)}"),
        (6, 34, 3.4, "normal", f"发卡日期 {issued_on.isoformat()}"),
        (6, 47, 3.6, "bold", escape(card_no)),
    ]
    lines = "".join(
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}">{value}</text>'
        for x, y, size, weight, value in text
    )
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="85.6mm" height="54mm" '
        'viewBox="0 0 85.6 54">'
        f"<title>区域共管先锋卡 {escape(card_no)}</title>"
        '<rect x="0.2" y="0.2" width="85.2" height="53.6" rx="3" fill="#fff" '
        'stroke="#b71c1c" stroke-width="0.4"/>'
        '<rect x="0.2" y="0.2" width="85.2" height="3" fill="#b71c1c"/>'
        f'<g font-family="Noto Sans CJK SC, Source Han Sans SC, SimHei, sans-serif" '
        f'fill="#222">{lines}</g>'
        f'<g transform="translate(43 8) scale({qr_size / side})">'
        f'<path fill="#000" d="{path}"/></g>'
        "</svg>"
    )
    return svg.encode()

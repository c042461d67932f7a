"""Printable forms: HTML for A4 printing and DOCX an officer can edit in Word (pure: bytes).

Both show the privacy notice first, then numbered questions with their routing ("Answer
only if …", "If No, go to Q12"), a response box per answer and the fixed introductions
(ONS4). A wording not yet checked against its published source carries a dagger (†) and a
footnote, so a draft is never mistaken for an official standard.
"""

from __future__ import annotations

import html
import io

from harmonise.questionnaire.layout import FormLayout, Question

DAGGER = "†"
UNCHECKED_NOTE = (f"{DAGGER} Wording not yet checked word for word against its published "
                  "source: check before fieldwork (see the codebook's wording_source).")
BOX = "☐"

_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; color: #000;
       max-width: 178mm; margin: 0 auto; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; border-bottom: 1px solid #444; }
.privacy { border: 1px solid #444; padding: 3mm 4mm; margin: 0 0 5mm; font-size: 10pt; }
.draft { font-size: 9pt; color: #333; }
.q { break-inside: avoid; page-break-inside: avoid; margin: 0 0 5mm; }
.qn { font-weight: bold; display: inline-block; min-width: 11mm; }
.stem { font-weight: bold; }
.intro, .hint, .route { font-size: 10pt; font-style: italic; }
.route { margin: 1mm 0; }
.skip { font-size: 10pt; font-weight: bold; margin: 1mm 0 0 11mm; }
ul.answers { list-style: none; margin: 1mm 0 0 11mm; padding: 0; }
ul.answers li { margin: 0.6mm 0; }
ul.answers li .box { display: inline-block; width: 4mm; height: 4mm; border: 1px solid #000;
       margin-right: 2.5mm; vertical-align: -0.6mm; }
ul.answers li.heading { font-weight: bold; margin-top: 1.5mm; }
ul.scale11 li { display: inline-block; margin-right: 1.2mm; font-size: 9.5pt; }
ul.scale11 li .box { margin-right: 0.8mm; }
.numbox { display: inline-block; width: 18mm; height: 7mm; border: 1px solid #000;
          margin: 1mm 0 0 11mm; }
footer { font-size: 9pt; margin-top: 8mm; border-top: 1px solid #999; padding-top: 2mm; }
@media print { a { color: #000; text-decoration: none; } }
"""


def _stem(q: Question) -> str:
    return q.label + (f" {DAGGER}" if q.wording_status != "verified" else "")


def _q_html(q: Question) -> str:
    e = html.escape
    parts = ['<div class="q" id="q' + str(q.number) + '">']
    if q.intro:
        parts.append(f'<p class="intro">{e(q.intro)}</p>')
    if q.ask_when:
        parts.append(f'<p class="route">Answer Q{q.number} only if {e(q.ask_when)}.</p>')
    parts.append(f'<p><span class="qn">Q{q.number}</span><span class="stem">{e(_stem(q))}'
                 f'</span></p>')
    if q.hint:
        parts.append(f'<p class="hint" style="margin-left:11mm">{e(q.hint)}</p>')
    if q.kind == "integer":
        parts.append('<div class="numbox" aria-label="write your answer"></div>')
    else:
        missing = dict(q.missing)
        groups = [[c for c in q.choices if c.name not in missing],
                  [c for c in q.choices if c.name in missing]]
        for k, choices in enumerate(g for g in groups if g):
            cls = "answers scale11" if q.scale == "ls11" and k == 0 else "answers"
            parts.append(f'<ul class="{cls}">')
            heading = ""
            for c in choices:
                if c.heading and c.heading != heading:
                    heading = c.heading
                    parts.append(f'<li class="heading">{e(heading)}</li>')
                parts.append(f'<li><span class="box"></span>{e(c.label)}</li>')
            parts.append("</ul>")
    for s in q.skips:
        parts.append(f'<p class="skip">{e(s)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def render_html(layout: FormLayout) -> str:
    """A self-contained HTML page (inline CSS, A4 print rules) of one form."""
    e = html.escape
    body = [f"<h1>{e(layout.title)}</h1>",
            f'<p class="draft">{e(layout.spec.title)} — {e(layout.spec.ref)}, draft. '
            f"Form {e(layout.form_id)}.</p>",
            f'<div class="privacy"><strong>How we use your answers.</strong> '
            f"{e(' '.join(layout.spec.privacy_notice.split()))}</div>"]
    for module_id, title in layout.modules:
        body.append(f"<h2>{e(title)}</h2>")
        body += [_q_html(q) for q in layout.questions if q.module == module_id]
    body.append("<p><strong>Thank you for taking part.</strong></p>")
    if any(q.wording_status != "verified" for q in layout.questions):
        body.append(f"<footer>{e(UNCHECKED_NOTE)}</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{e(layout.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def docx_bytes(layout: FormLayout) -> bytes:
    """The form as a Word document: numbered questions, routing, ☐ boxes, privacy notice."""
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.author = "harmonise"
    doc.core_properties.title = layout.title
    doc.add_heading(layout.title, level=1)
    doc.add_paragraph(f"{layout.spec.title} — {layout.spec.ref}, draft. Form {layout.form_id}.")
    notice = doc.add_paragraph()
    notice.add_run("How we use your answers. ").bold = True
    notice.add_run(" ".join(layout.spec.privacy_notice.split()))
    for module_id, title in layout.modules:
        doc.add_heading(title, level=2)
        for q in (q for q in layout.questions if q.module == module_id):
            if q.intro:
                doc.add_paragraph(q.intro).runs[0].italic = True
            if q.ask_when:
                doc.add_paragraph(f"Answer Q{q.number} only if {q.ask_when}.").runs[0].italic = True
            p = doc.add_paragraph()
            p.add_run(f"Q{q.number}  ").bold = True
            p.add_run(_stem(q)).bold = True
            if q.hint:
                doc.add_paragraph(q.hint).runs[0].italic = True
            if q.kind == "integer":
                doc.add_paragraph("Age in years: [      ]")
            else:
                heading = ""
                for c in q.choices:
                    if c.heading and c.heading != heading:
                        heading = c.heading
                        doc.add_paragraph(heading).runs[0].bold = True
                    doc.add_paragraph(f"{BOX} {c.label}")
            for s in q.skips:
                doc.add_paragraph(s).runs[0].bold = True
    doc.add_paragraph("Thank you for taking part.").runs[0].bold = True
    if any(q.wording_status != "verified" for q in layout.questions):
        doc.add_paragraph(UNCHECKED_NOTE)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()

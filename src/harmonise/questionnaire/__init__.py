"""The joint community safety survey: from a spec of schema concepts to forms and crosswalks.

Owns the questionnaire spec (``questionnaire/<name>-vN.yaml``: which schema concepts, in
which modules and forms, for whom, with which routing) and everything built from it:

    spec.py        QuestionnaireSpec model, load_spec/check_spec (errors name the spec line)
    layout.py      spec + schema -> FormLayout (numbered questions, choices, routing)
    xlsform.py     FormLayout -> XLSForm rows/workbook; pyxform + ODK Validate (convert)
    printable.py   FormLayout -> A4 HTML and DOCX (routing in words, boxes, privacy notice)
    codebook.py    FormLayout -> codebook table, CSV and XLSX
    crosswalks.py  FormLayout -> the joint survey's own crosswalks (identical by construction)
    simulate.py    XLSForm rows -> simulated Kobo CSV export (routing honoured)
    build.py       everything above in memory, then written all at once

Wordings, scales and codes always come from the schema (``crosswalks/schema/``); nothing
here invents a wording. The bridge from the old questions, the transition plan and the
sample size live beside this package (``bridge.py``, ``transition.py``, ``samplesize.py``).
"""

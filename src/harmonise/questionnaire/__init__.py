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
here invents a wording. Beside them, the plan for the switch (pure, except plan_write.py):

    bridge.py      old crosswalk items -> new questions: grade, what changes, expected effect
    samplesize.py  two-proportion n (R power.prop.test), design effects, margins, allocations
    measure.py     design effects measured on the current surveys, planned per form
    transition.py  the overlap wave: items in both forms, split-sample arm sizes, precedents
    plan.py        the sample-size plan per form; plan and bridge documents (sections, tables)
    plan_write.py  documents -> Markdown, HTML, XLSX, written as one set
"""

"""Disclosure control: what may be published from an estimate table.

- :mod:`.cells` — the rules (:class:`~.cells.DisclosureRules`) and per-table small-cell,
  complement and secondary suppression;
- :mod:`.linked` — the release-wide differencing check across nested and overlapping
  breakdowns of both estimate tables, from respondents' membership;
- :mod:`.counts` — the same protection for the audit and margins counts that add up to
  published totals.
"""

"""Comparing estimates: between surveys of one wave, and between waves of one series.

- :mod:`.pairs` — the comparability gate (grades, populations, age-restricted ranges, modes),
  differences with their SEs, multiplicity control, the comparability matrix;
- :mod:`.subgroups` — differences between groups within one survey (who and where);
- :mod:`.trends` — change between waves of one survey series, flagged where the crosswalk
  changed.
"""

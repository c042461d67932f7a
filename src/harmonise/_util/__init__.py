"""Private helpers shared by several stages; nothing here knows about surveys.

- :mod:`.arrays` — small numpy helpers for ``weight/`` and ``estimate/`` (dense codes, grouped
  sums, read-only copies, row lists for messages);
- :mod:`.files` — SHA-256 of bytes, text and files (locks, provenance, report outputs);
- :mod:`.yamlio` — reading the YAML files people edit (YAML 1.2 booleans, errors naming fields).
"""

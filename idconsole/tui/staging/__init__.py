"""Staging from the console, and what the change screens show, in single-job modules.

- `operations` — what can be staged: each operation's fields, label and help (the dialog's table)
- `forms`      — dialog fields <-> an engine `Change`
- `describe`   — a `Change` as one table row (vendor, op, subject, detail)
- `plan_view`, `results_view`, `progress_view` — view models: plans, apply reports and journal
  entries, progress updates, read in one place as plain rows the screens draw
- `actions`    — staging from anywhere (Lookup, Profile, the editor): the dialog, then the staged set
- `freshness`  — noticing that another process changed staged.json

Nothing is imported here: a screen imports the module it needs, so start-up pays only for those.
"""

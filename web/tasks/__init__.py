"""The tasks pages, one module per kind of page: ``assignments`` (my tasks, an assignment, HQ's review),
``items`` (the checklist and HQ's change of an item), ``plans`` (HQ's plan uploads), ``campaigns``
(HQ's campaigns: copy, publish, close, reopen)."""

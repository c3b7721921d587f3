"""Building blocks every app uses, with no models of their own: reading and writing office files
(``tables``, ``office``, ``pdfs``, ``uploads``, ``storage``), the refusals (``errors``), input parsing
(``params``), Chinese text (``cn``), the PostgreSQL fast-path switch (``db``) and the scoped, audited
admin (``adminkit``). The project's own configuration stays in ``ops/``."""

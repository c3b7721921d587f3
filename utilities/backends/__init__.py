"""This project's database backends: Django's PostgreSQL and SQLite backends with their SELECT statements
kept by shape (``utilities.backends.kept``); ``ops.settings`` names them as the ENGINE of ``DATABASE_URL``."""

ENGINES = {
    "django.db.backends.postgresql": "utilities.backends.postgresql",
    "django.db.backends.sqlite3": "utilities.backends.sqlite3",
}

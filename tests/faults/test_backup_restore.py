"""Backups: ``scripts/backup`` of a seeded database and its files, ``scripts/restore`` into a fresh
database and an empty MEDIA_ROOT, then compared from outside — rows per table and the sequences of both
databases, every stored file's bytes against the original and its row's SHA-256. A damaged backup and
a database that is not empty are refused."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from inspections.models import Photo
from inspections.services import log_finding
from tasks.models import Assignment, Evidence
from tasks.services.progress import report_progress
from tests import pdffiles
from tests.faults.test_disk_full import png
from tests.processes import ROOT, database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="pg_dump / pg_restore: PostgreSQL only"
    ),
]


def connect(name: str):
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=name, user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"])
    conn.autocommit = True
    return conn


def state(name: str) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per table and the last value of every sequence, read with a query of the test's own."""
    conn = connect(name)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            rows = {}
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                rows[table] = cursor.fetchone()[0]
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            return rows, dict(cursor.fetchall())
    finally:
        conn.close()


@pytest.fixture
def fresh_database():
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    conn = connect("postgres")
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def run(script: str, *args: str, database: str, media: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database, "MEDIA_ROOT": str(media), "PYTHON": os.sys.executable}
    return subprocess.run([str(ROOT / "scripts" / script), *args], env=env, capture_output=True, text=True)


@pytest.fixture
def seeded(city, published) -> list[tuple[str, str]]:
    """Reports with evidence and findings with photos; returns (stored name, SHA-256) of each file."""
    for n, code in enumerate(["33031001", "33031002", "33032001"]):
        lead = (
            city["station_lead"]
            if code == "33031001"
            else city["east_lead"]
            if code == "33031002"
            else city["west_lead"]
        )
        a = Assignment.objects.get(item__code="1.1", unit__code=code)
        report_progress(
            assignment=a,
            by=lead,
            value=n + 1,
            text=f"第{n + 1}次",
            files=[SimpleUploadedFile(f"现场{n}.png", png(5000, n)), SimpleUploadedFile("表.pdf", pdffiles.blank())],
        )
        log_finding(
            by=city["inspector"],
            unit=a.unit,
            place=f"场所{n}",
            description="灭火器过期",
            campaign=published,
            photos=[SimpleUploadedFile(f"问题{n}.png", png(3000, 10 + n))],
        )
    stored = [*Evidence.objects.values_list("file", "sha256"), *Photo.objects.values_list("file", "sha256")]
    assert len(stored) == 9
    return stored


def test_backup_and_restore_into_a_fresh_database(seeded, fresh_database, tmp_path, figures):
    media = Path(settings.MEDIA_ROOT)
    made = run("backup", str(tmp_path / "backups"), database=database_url(), media=media)
    assert made.returncode == 0, made.stderr
    [directory] = (tmp_path / "backups").iterdir()
    assert directory.name.startswith("tracker-") and not directory.name.endswith(".partial")
    assert sorted(p.name for p in directory.iterdir()) == [
        "SHA256SUMS",
        "counts.json",
        "db.dump",
        "manifest.json",
        "media.tar",
    ]

    restored_media = tmp_path / "restored-media"
    target = database_url().rsplit("/", 1)[0] + "/" + fresh_database
    back = run("restore", str(directory), database=target, media=restored_media)
    assert back.returncode == 0, back.stdout + back.stderr
    assert "逐表一致" in back.stdout and "迁移：与代码一致" in back.stdout and "缺失 0，校验不符 0" in back.stdout

    rows, sequences = state(connection.settings_dict["NAME"])
    assert state(fresh_database) == (rows, sequences)  # every table, every sequence
    for name, sha256 in seeded:
        original, copy = (media / name).read_bytes(), (restored_media / name).read_bytes()
        assert copy == original and hashlib.sha256(copy).hexdigest() == sha256
    figures.update(
        {
            "tables compared": len(rows),
            "rows compared": sum(rows.values()),
            "sequences": len(sequences),
            "files compared (bytes + SHA-256)": len(seeded),
        }
    )

    # a second restore into the now full database is refused, and so is a damaged backup
    again = run("restore", str(directory), database=target, media=tmp_path / "other-media")
    assert again.returncode == 2 and "不是空库" in again.stderr
    with (directory / "media.tar").open("r+b") as tar:
        tar.seek(700)
        byte = tar.read(1)
        tar.seek(700)
        tar.write(bytes([byte[0] ^ 1]))
    damaged = run("restore", str(directory), database=target, media=tmp_path / "other-media")
    assert damaged.returncode == 2 and "media.tar 与 SHA256SUMS 不符" in damaged.stderr

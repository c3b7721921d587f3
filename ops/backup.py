"""Backups: the database (pg_dump custom format) and the uploaded files (a tar of MEDIA_ROOT), and their
restore into an empty database, checked. Called by ``scripts/backup`` and ``scripts/restore``
(docs/deployment.md, "Backups"); tested by tests/faults/test_backup_restore.py.

A backup is a directory ``tracker-<date>T<time>/`` holding ``db.dump``, ``media.tar``, ``counts.json``
(rows per table), ``manifest.json`` and ``SHA256SUMS``; it is written under ``.partial`` and renamed
when complete, so a directory with the final name is a whole backup. The rows are counted in the very
snapshot pg_dump reads (``pg_export_snapshot``), so a restore can be compared row for row while the
app keeps writing. The files are archived after the dump: every file a dumped row names is in the
tar (files are written before their rows commit and never changed after); a few newer files may be
there too, harmless.

A restore verifies the checksums, refuses a database that has tables or a MEDIA_ROOT that has files,
runs pg_restore, unpacks the files, runs ``manage.py migrate --check``, and compares the rows per
table with ``counts.json`` and every evidence file and finding photo with the SHA-256 its row keeps.
Exit status 0 only if everything is equal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
from django.utils import timezone

from utilities.backends import ENGINES

BASE_DIR = Path(__file__).resolve().parent.parent
FILES = ("db.dump", "media.tar", "counts.json", "manifest.json")


class BackupError(Exception):
    pass


def _settings():
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] not in ("django.db.backends.postgresql", ENGINES["django.db.backends.postgresql"]):
        raise BackupError("备份与恢复需要 PostgreSQL（DATABASE_URL=postgres://…）；SQLite 演示库请直接复制 var/ 目录。")
    return db, Path(settings.MEDIA_ROOT)


def _libpq_env(db: dict) -> dict[str, str]:
    """The connection for pg_dump / pg_restore, by libpq's variables (no password on a command line)."""
    env = {
        **os.environ,
        "PGDATABASE": db["NAME"],
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
    }
    if db["USER"]:
        env["PGUSER"] = db["USER"]
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    if sslmode := (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    return env


def _program(name: str) -> str:
    """pg_dump / pg_restore from ``PG_BIN`` if set (their version must be at least the server's), else the PATH."""
    found = shutil.which(name, path=os.environ.get("PG_BIN")) or shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}（apt-get install postgresql-client，或以 PG_BIN 指定其目录）")
    return found


@contextmanager
def _snapshot(db: dict) -> Iterator:
    """A read-only REPEATABLE READ transaction whose snapshot other sessions (pg_dump) can share."""
    import psycopg2

    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cursor:
            yield cursor
        conn.rollback()
    finally:
        conn.close()


def _count_rows(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [t for (t,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (names from the catalogue)
        counts[table] = cursor.fetchone()[0]
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(root: Path) -> Path:
    db, media = _settings()
    stamp = timezone.localtime().strftime("%Y-%m-%dT%H%M%S")  # the office's time (TIME_ZONE)
    final = root / f"tracker-{stamp}"
    partial = root / f"tracker-{stamp}.partial"
    if final.exists():
        raise BackupError(f"{final} 已存在")
    partial.mkdir(parents=True)
    try:
        _write(partial, db, media)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # never half a backup under a name that looks whole
        raise
    partial.rename(final)
    manifest = json.loads((final / "manifest.json").read_text())
    print(f"备份完成：{final}")
    print(
        f"  数据库 {db['NAME']}：{manifest['tables']} 张表，{manifest['rows']} 行（db.dump {_size(final / 'db.dump')}）"
    )
    print(f"  附件 {media}：{manifest['media_files']} 个文件，{_size_n(manifest['media_bytes'])}（media.tar）")
    return final


def _write(partial: Path, db: dict, media: Path) -> None:
    with _snapshot(db) as cursor:
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version'), now()")
        snapshot, server, taken_at = cursor.fetchone()
        dump = subprocess.run(  # noqa: S603
            [_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--file", str(partial / "db.dump")],
            env=_libpq_env(db),
            capture_output=True,
            text=True,
        )
        if dump.returncode != 0:
            raise BackupError(f"pg_dump 失败：{dump.stderr.strip()}")
        counts = _count_rows(cursor)
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        migrations = dict(cursor.fetchall())
    files = size = 0
    with tarfile.open(partial / "media.tar", "w") as tar:
        if media.is_dir():
            for path in sorted(media.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(media)), recursive=False)
                    files, size = files + 1, size + path.stat().st_size
    (partial / "counts.json").write_text(json.dumps(counts, indent=1, sort_keys=True))
    manifest = {
        "taken_at": taken_at.isoformat(),
        "database": db["NAME"],
        "server_version": server,
        "pg_dump": subprocess.run([_program("pg_dump"), "--version"], capture_output=True, text=True).stdout.strip(),  # noqa: S603
        "media_root": str(media),
        "media_files": files,
        "media_bytes": size,
        "tables": len(counts),
        "rows": sum(counts.values()),
        "migrations": migrations,
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    (partial / "SHA256SUMS").write_text("".join(f"{_sha256(partial / name)}  {name}\n" for name in FILES))


def verify(directory: Path) -> None:
    sums = directory / "SHA256SUMS"
    if not sums.exists():
        raise BackupError(f"{directory} 不是完整的备份（缺少 SHA256SUMS）")
    listed = dict(reversed(line.split("  ", 1)) for line in sums.read_text().splitlines())
    for name in FILES:
        if name not in listed or not (directory / name).is_file():
            raise BackupError(f"{directory} 不是完整的备份（缺少 {name}）")
        if _sha256(directory / name) != listed[name]:
            raise BackupError(f"校验失败：{name} 与 SHA256SUMS 不符，备份已损坏")


def restore(directory: Path) -> bool:
    verify(directory)
    db, media = _settings()
    with _snapshot(db) as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            raise BackupError(f"目标数据库 {db['NAME']} 不是空库：请恢复到新建的空数据库（createdb）")
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        raise BackupError(f"附件目录 {media} 不是空的：请指定空目录（MEDIA_ROOT）")
    done = subprocess.run(  # noqa: S603
        [
            _program("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--dbname",
            db["NAME"],
            str(directory / "db.dump"),
        ],
        env=_libpq_env(db),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败：{done.stderr.strip()}")
    media.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / "media.tar") as tar:
        tar.extractall(media, filter="data")  # no absolute paths, no "..", no devices
    print(f"已恢复到数据库 {db['NAME']}，附件到 {media}")

    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check", "--noinput"], cwd=BASE_DIR, capture_output=True, text=True
    )
    print(
        "  迁移：与代码一致"
        if check.returncode == 0
        else "  迁移：有未执行的迁移（代码比备份新），请执行 manage.py migrate"
    )

    expected = json.loads((directory / "counts.json").read_text())
    with _snapshot(db) as cursor:
        restored = _count_rows(cursor)
    differ = {
        t: (expected.get(t), restored.get(t))
        for t in sorted(expected.keys() | restored.keys())
        if expected.get(t) != restored.get(t)
    }
    print(f"  行数：{len(expected)} 张表，备份 {sum(expected.values())} 行，恢复 {sum(restored.values())} 行", end="")
    print("，逐表一致" if not differ else "，不一致：")
    for table, (before, after) in differ.items():
        print(f"    {table}: 备份 {before}，恢复 {after}")

    files = _check_files(media)
    print(f"  附件：数据库记录 {files['named']} 个，缺失 {len(files['missing'])}，校验不符 {len(files['mismatched'])}")
    for name in files["missing"] + files["mismatched"]:
        print(f"    {name}")
    return not differ and not files["missing"] and not files["mismatched"]


def _check_files(media: Path) -> dict:
    """Every evidence file and finding photo named by a row: there, with the SHA-256 the row keeps."""
    from inspections.models import Photo
    from tasks.models import Evidence

    named, missing, mismatched = 0, [], []
    for model in (Evidence, Photo):
        for name, sha256 in model.objects.values_list("file", "sha256").iterator():
            named += 1
            path = media / name
            if not path.is_file():
                missing.append(name)
            elif _sha256(path) != sha256:
                mismatched.append(name)
    return {"named": named, "missing": missing, "mismatched": mismatched}


def _size(path: Path) -> str:
    return _size_n(path.stat().st_size)


def _size_n(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/backup | scripts/restore")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("backup", help="back up DATABASE_URL and MEDIA_ROOT")
    made.add_argument("root", nargs="?", default=os.environ.get("BACKUP_DIR", ""), help="where (default var/backups)")
    back = commands.add_parser("restore", help="restore a backup into the empty DATABASE_URL and MEDIA_ROOT")
    back.add_argument("directory")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ops.settings")
    django.setup()
    try:
        if args.command == "backup":
            from django.conf import settings

            backup(Path(args.root) if args.root else Path(settings.VAR_DIR) / "backups")
            return 0
        return 0 if restore(Path(args.directory)) else 1
    except BackupError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

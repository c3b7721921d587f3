"""The disk storage of uploads (evidence, finding photos) and exports: a file is stored whole or not at all.

Django's ``FileSystemStorage`` leaves the part already written behind when a write fails (disk full,
quota, I/O error), and a full disk reaches the user as a bare 500. Here a file that cannot be written
whole is removed again — only the file this call created (``O_EXCL``), never another one of the same
name — and a full disk is raised as ``StorageFull``, whose message the API (507) and the pages show.
The services store files inside their transaction and delete them if it fails, so a refused upload
leaves no row, no audit event and no file (tests/faults/test_disk_full.py).
"""

from __future__ import annotations

import errno
import os

from django.core.files.storage import FileSystemStorage

from .errors import Refused

FULL = {errno.ENOSPC, errno.EDQUOT}
MESSAGE = "服务器存储空间已满，文件未能保存，本次提交未生效。请稍后再试，或联系系统管理员。"


class StorageFull(Refused):
    """The server's file storage has no room: nothing was saved; the user should try later. 507: the
    disk, not the request, is at fault."""

    status_code = 507

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)
        self.message = message


class MediaStorage(FileSystemStorage):
    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        try:
            os.makedirs(os.path.dirname(full_path), exist_ok=True)
            while True:
                try:
                    fd = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
                except FileExistsError:  # taken since get_available_name: another name, as Django does
                    name = self.get_available_name(name)
                    full_path = self.path(name)
                    continue
                break
            try:
                # streamed in chunks whether the upload is in memory or in a temporary file (on another
                # filesystem a move is a copy too, and Django's copy leaves its part behind as well)
                with os.fdopen(fd, "wb") as out:
                    for chunk in content.chunks():
                        out.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            except BaseException:
                os.remove(full_path)  # ours: created above with O_EXCL
                raise
        except OSError as exc:
            if exc.errno in FULL:
                raise StorageFull from exc
            raise
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        return os.path.relpath(full_path, self.location).replace("\\", "/")

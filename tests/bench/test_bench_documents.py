"""The documents' benchmark (``manage.py bench_documents``): its bulletin fills the pages asked for
(pdfinfo), both writers make their files, and the issue's figure holds (under 3 s each)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from bench.documents import LIMIT, bulletin_content, measure, pdf_pages
from documents.render.pdf import render_pdf


def test_the_bulletin_grows_with_its_units():
    assert pdf_pages(render_pdf(bulletin_content(12))) < pdf_pages(render_pdf(bulletin_content(60)))


def test_a_five_page_bulletin_is_written_under_the_limit():
    r = measure(pages=5, runs=1)
    assert r["pages"] == 5
    for name in ("docx", "pdf"):
        assert r[name]["bytes"] > 10_000 and max(r[name]["worst"], r[name]["first"]) < LIMIT, r


def test_the_command_prints_its_figures():
    out = StringIO()
    call_command("bench_documents", pages=4, runs=1, stdout=out)
    assert "4 PDF pages (pdfinfo)" in out.getvalue() and out.getvalue().count(" ok") == 2

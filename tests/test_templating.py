"""Compiled templates are shared by every app a process makes (the tests make one each), and
never stale: an edited template is compiled again, whichever app renders it."""

from __future__ import annotations

import os
from pathlib import Path

from codesign.web.templating import make_templates


def test_an_edited_template_is_compiled_again_by_the_next_app(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ who }} first</p>")
    assert make_templates(tmp_path).env.get_template("page.html").render(who="A") == "<p>A first</p>"
    page.write_text("<p>{{ who }} second</p>")
    assert make_templates(tmp_path).env.get_template("page.html").render(who="B") == "<p>B second</p>"


def test_the_same_name_in_another_folder_is_another_template(tmp_path: Path) -> None:
    for folder, text in (("one", "1"), ("two", "2")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "page.html").write_text(text)
    assert make_templates(tmp_path / "one").env.get_template("page.html").render() == "1"
    assert make_templates(tmp_path / "two").env.get_template("page.html").render() == "2"


def test_a_running_app_sees_an_edit_only_where_asked_to(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("old")
    editing, serving = make_templates(tmp_path, auto_reload=True), make_templates(tmp_path, auto_reload=False)
    assert editing.env.get_template("page.html").render() == serving.env.get_template("page.html").render() == "old"
    page.write_text("new, and longer")
    os.utime(page, (page.stat().st_atime, page.stat().st_mtime + 10))  # edited later, whatever the clock's grain
    assert editing.env.get_template("page.html").render() == "new, and longer"  # make run (development)
    assert serving.env.get_template("page.html").render() == "old"  # production: no look at the file per page

"""The rules of an upload (ui/uploads.py): names that trust no path, types, sizes."""
import pytest

from ui import uploads


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\notes.md", "notes.md"),
    (".hidden.txt", "hidden.txt"),
    ("we ird<>name.PDF", "we_ird_name.pdf"),
    ("....txt", "upload.txt"),
])
def test_upload_names_trust_no_path(name, expected):
    assert uploads.safe_name(name, set()) == expected


def test_upload_names_are_unique_and_checked():
    assert uploads.safe_name("a.txt", {"a.txt", "a-2.txt"}) == "a-3.txt"
    assert uploads.check("x.exe", 10).kind == "type"
    assert "not accepted" in uploads.check("x.exe", 10).reason
    too_big = uploads.check("dir/x.txt", uploads.MAX_UPLOAD_BYTES + 1)
    assert too_big.kind == "size" and too_big.name == "x.txt" and "limit" in too_big.reason
    assert uploads.check("x.pdf", 100) is None


def test_the_stored_name_keeps_the_type_it_is_read_as():
    assert uploads.safe_name("Policy 2024.PDF", set()) == "Policy_2024.pdf"
    assert uploads.safe_name("slides.pptx", {"slides.pptx"}) == "slides-2.pptx"

"""onprem.stack.path_mode: the permission bits of a control-node path (preflight's
check that stack_credentials_dir is private), read on this host's real filesystem."""
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.path_mode import path_mode


@pytest.mark.parametrize("mode", [0o700, 0o750, 0o755, 0o1777])
def test_directory_mode_as_four_octal_digits(tmp_path, mode):
    target = tmp_path / "creds"
    target.mkdir()
    os.chmod(target, mode)
    assert path_mode(str(target)) == "%04o" % mode


def test_file_mode(tmp_path):
    target = tmp_path / "secret"
    target.write_text("x", encoding="utf-8")
    os.chmod(target, 0o600)
    assert path_mode(str(target)) == "0600"


def test_absent_path_is_empty(tmp_path):
    assert path_mode(str(tmp_path / "missing")) == ""


def test_link_is_followed(tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    os.chmod(target, 0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert path_mode(str(link)) == "0700"


def test_dangling_link_counts_as_absent(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    assert path_mode(str(link)) == ""


@pytest.mark.parametrize("bad", [None, "", 5, ["/tmp"]])
def test_bad_input_raises(bad):
    with pytest.raises(AnsibleFilterError, match="path_mode"):
        path_mode(bad)

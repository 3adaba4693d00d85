# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: credential
short_description: A generated secret kept on the control node, created on first use
version_added: 0.2.0
description:
  - Returns the secret stored in the file C(<credentials>/<scope>/<service>/<name>) on
    the control node, where C(<credentials>) is C(stack_credentials_dir) (its one default,
    C(<inventory_dir>/.credentials), comes from P(onprem.stack.stack_dir#lookup)).
  - When the file does not exist it is generated (O(length) characters drawn from
    O(chars) with Python's C(secrets) module) and written atomically, so that every later
    run, and every host of the same run, gets the same value.
  - Files are created with mode C(0600), directories C(0700); a file is written to a
    temporary file beside it, then linked to its name (never seen partially written), and
    two processes generating it at once (forks, or two runs) both return the first one linked.
  - It refuses (an error naming the path and its mode) a credentials, scope or service
    directory, or a secret file, open to its group or others (C(chmod 0700 <dir>), C(chmod 0600 <file>)).
  - Use it only for values the user did not supply, with an inline condition, never with
    the C(default) filter, which evaluates its argument, and so this lookup, even when
    the value is set (Jinja is eager). The condition
    C(item.password if item.password is defined else) followed by this lookup writes no
    file when a password is given (see EXAMPLES).
  - O(legacy) moves a secret from an older layout into place instead of generating a new
    one, keeping its value (upgrade path of the roles).
author:
  - onprem.stack contributors (!UNKNOWN)
options:
  _terms:
    description:
      - Names of the secrets (file names), e.g. the user name. One or more; with O(legacy), exactly one.
      - A name, like O(scope) and O(service), must not be empty, contain C(/), C(\), whitespace,
        control characters or C(..), or start with C(.) or C(-).
    required: true
    type: list
    elements: str
  service:
    description: The service the secret belongs to (directory level), e.g. V(postgresql), V(redis), V(registry).
    required: true
    type: str
  scope:
    description:
      - V(site) for secrets shared by the whole site (registry users, cluster tokens), or an
        inventory host name for secrets of one host.
      - Default is the current host's C(inventory_hostname).
    type: str
  length:
    description: Number of characters of a generated secret (8 to 1024). Ignored for a secret that already exists.
    type: int
    default: 32
  chars:
    description:
      - Characters a generated secret is drawn from. Each element is either one of the
        names V(ascii_letters), V(ascii_lowercase), V(ascii_uppercase), V(digits),
        V(hexdigits), V(octdigits), V(punctuation) (the sets of Python's C(string) module)
        or a string of literal characters.
      - Whitespace and control characters are refused (they do not survive a round trip
        through the file and shell tools).
    type: list
    elements: str
    default: [ascii_letters, digits]
  legacy:
    description:
      - Path of the same secret in an older layout, on the control node. When the secret's
        file does not exist and this file does, it is moved into place (content and value
        kept, mode set to C(0600)) instead of generating a new secret; its directory is
        removed when that leaves it empty.
      - When both exist, the new file wins; the legacy file is removed if it holds the same
        value, else it is kept and a warning names both files.
      - In check mode the legacy file is read and left where it is.
    type: path
notes:
  - Reads the variables C(stack_credentials_dir), C(inventory_dir), C(playbook_dir),
    C(inventory_hostname) and C(ansible_check_mode) of the current host. A relative
    C(stack_credentials_dir) is taken relative to the playbook directory.
  - Lookups run on the control node, whatever the task's C(delegate_to).
  - Check mode, like P(ansible.builtin.password#lookup), B(writes) a secret that does
    not exist yet, so that a check run and the real run after it agree on the value.
    Only the move of a O(legacy) file waits for a real run.
  - The value is returned as an unsafe string (never templated again).
  - Tasks that use the value must set C(no_log).
seealso:
  - plugin: onprem.stack.stack_dir
    plugin_type: lookup
  - plugin: ansible.builtin.password
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: PostgreSQL users, generated passwords only where none is supplied
  community.postgresql.postgresql_user:
    name: "{{ item.name }}"
    password: >-
      {{ item.password if item.password is defined
         else lookup('onprem.stack.credential', item.name, service='postgresql') }}
  loop: "{{ postgresql_users }}"
  no_log: true

- name: A site-wide secret, 48 hex digits, kept in <credentials>/site/k3s/token
  ansible.builtin.set_fact:
    __k3s_token: "{{ lookup('onprem.stack.credential', 'token', service='k3s', scope='site', length=48, chars=['hexdigits']) }}"
  no_log: true

- name: Move a secret of the old layout (<credentials>/registry/onprem) into <credentials>/site/registry/onprem
  ansible.builtin.set_fact:
    __pw: >-
      {{ lookup('onprem.stack.credential', 'onprem', service='registry', scope='site',
                legacy=lookup('onprem.stack.stack_dir', 'credentials') ~ '/registry/onprem') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description: The secrets (str), one per term, without a trailing newline.
  type: list
  elements: str
"""

import errno
import os
import re
import secrets
import stat
import string
import tempfile

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.onprem.stack.plugins.lookup.stack_dir import stack_dir

display = Display()

CHAR_SETS = {
    "ascii_letters": string.ascii_letters,
    "ascii_lowercase": string.ascii_lowercase,
    "ascii_uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.hexdigits,
    "octdigits": string.octdigits,
    "punctuation": string.punctuation,
}
MIN_LENGTH = 8
MAX_LENGTH = 1024
_BAD_PART = re.compile(r"[/\\\s\x00-\x1f\x7f]|\.\.")


def check_part(kind, value):
    """Check one path component (scope, service or secret name) and return it.

    :param kind: what the value is, for the message (str: ``scope``, ``service``, ``name``).
    :param value: the component (str).
    :returns: ``value`` unchanged (str).
    :raises AnsibleLookupError: when it is empty, not a string, contains ``/``, ``\\``,
        whitespace, a control character or ``..``, or starts with ``.`` or ``-``.
    """
    if not isinstance(value, str) or not value or _BAD_PART.search(value) or value[0] in ".-":
        raise AnsibleLookupError(
            "onprem.stack.credential: %s %r is not a valid file name: expected a non-empty name without '/', '\\', "
            "whitespace, control characters or '..', not starting with '.' or '-'" % (kind, value))
    return value


def candidate_chars(chars):
    """Return the sorted, de-duplicated characters (str) a secret is drawn from.

    :param chars: list of set names (keys of ``CHAR_SETS``) or literal character strings.
    :raises AnsibleLookupError: when the result is empty or holds whitespace or control characters.
    """
    pool = set()
    for item in chars or []:
        pool.update(CHAR_SETS.get(item, item))
    bad = sorted(c for c in pool if c.isspace() or not c.isprintable())
    if bad or not pool:
        raise AnsibleLookupError(
            "onprem.stack.credential: chars %r gives %s; expected printable characters without whitespace "
            "(or set names: %s)" % (chars, "whitespace or control characters %r" % "".join(bad) if bad else "no characters",
                                    ", ".join(sorted(CHAR_SETS))))
    return "".join(sorted(pool))


def generate(length, chars):
    """Return a new random secret (str) of ``length`` characters drawn from ``chars`` (str).

    :raises AnsibleLookupError: when ``length`` is outside ``MIN_LENGTH``..``MAX_LENGTH``.
    """
    _check_length(length)
    return "".join(secrets.choice(chars) for dummy in range(length))


def _check_length(length):
    if not isinstance(length, int) or isinstance(length, bool) or not MIN_LENGTH <= length <= MAX_LENGTH:
        raise AnsibleLookupError("onprem.stack.credential: length %r is out of range; expected an integer %d to %d"
                                 % (length, MIN_LENGTH, MAX_LENGTH))


def _refuse_open(path, st, kind, expected):
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise AnsibleLookupError(
            "onprem.stack.credential: %s %s has mode %04o, which lets its group or others in; secrets need %s. "
            "Fix it with: chmod %s %s" % (kind, path, stat.S_IMODE(st.st_mode), expected, expected, path))


def private_dir(path):
    """Ensure ``path`` (str) is a directory only its owner can enter; create it (0700) if missing.

    Missing parents are created with mode 0700 as well.

    :raises AnsibleLookupError: when ``path`` exists and is not a directory, or its mode gives
        any permission to group or others.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if parent and parent != path and not os.path.isdir(parent):
            try:
                os.makedirs(parent, mode=0o700, exist_ok=True)
            except OSError as exc:
                raise AnsibleLookupError("onprem.stack.credential: cannot create directory %s: %s" % (parent, exc))
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # whatever the umask
        except FileExistsError:
            pass  # created by a concurrent run; checked below
        except OSError as exc:
            raise AnsibleLookupError("onprem.stack.credential: cannot create directory %s: %s" % (path, exc))
        st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise AnsibleLookupError("onprem.stack.credential: %s is not a directory" % path)
    _refuse_open(path, st, "directory", "0700")


def read_secret(path):
    """Return the secret (str) stored in ``path``, or None when the file does not exist.

    The file holds the secret and one trailing newline (the layout of
    ``ansible.builtin.password`` without ``encrypt``); trailing CR/LF are removed.

    :raises AnsibleLookupError: when the file is accessible to group or others, is not a
        regular file, cannot be read or is empty.
    """
    st = _stat_file(path, "")
    if st is None:
        return None
    _refuse_open(path, st, "secret file", "0600")
    return _read_value(path, "", "remove it to have a new secret generated, or write the secret into it")


def _stat_file(path, what):
    """Return ``os.stat(path)``, None when missing; ``what`` names it in errors. Raises AnsibleLookupError if not a file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise AnsibleLookupError("onprem.stack.credential: %s%s is not a regular file" % (what, path))
    return st


def _read_value(path, what, if_empty):
    """Return the secret in ``path`` (str, trailing newline removed); ``what`` names the file in errors, ``if_empty``
    says what to do about an empty one. Raises AnsibleLookupError when unreadable, not UTF-8 or empty."""
    try:
        with open(path, "rb") as handle:
            value = to_text(handle.read(), errors="surrogate_or_strict").rstrip("\r\n")
    except (OSError, UnicodeError) as exc:
        raise AnsibleLookupError("onprem.stack.credential: cannot read %s%s: %s" % (what, path, exc))
    if not value:
        raise AnsibleLookupError("onprem.stack.credential: %s%s is empty; %s" % (what, path, if_empty))
    return value


def _link_new(src, dest):
    """Give the file ``src`` the name ``dest`` unless ``dest`` exists; return True when it did."""
    try:
        os.link(src, dest)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
            raise
    # A file system without hard links: rename (a concurrent writer may win instead;
    # the caller always returns what is on disk afterwards).
    if os.path.exists(dest):
        return False
    os.rename(src, dest)
    return True


def write_new(path, value):
    """Write ``value`` (str) plus a newline to ``path`` atomically, mode 0600, unless ``path`` exists.

    The content goes to a temporary file in the same directory (created 0600), is flushed
    to disk and then linked to ``path``; a file that appears meanwhile is kept.

    :returns: True when this call created ``path``, False when it already existed.
    :raises AnsibleLookupError: on an I/O error (the temporary file is removed).
    """
    directory, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % base, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(value, errors="surrogate_or_strict") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        return _link_new(tmp, path)
    except OSError as exc:
        raise AnsibleLookupError("onprem.stack.credential: cannot write %s: %s" % (path, exc))
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def migrate(legacy, path, check_mode=False):
    """Move the legacy secret file ``legacy`` to ``path`` (both str) and return its value (str).

    Returns None when ``legacy`` does not exist. The value is read first (and checked), then
    the file is linked to ``path`` (kept when ``path`` appeared meanwhile) and ``legacy``
    removed, together with its directory when that is left empty. In check mode nothing
    moves. Its mode is set to 0600.

    :raises AnsibleLookupError: when ``legacy`` cannot be read or is empty, or on an I/O error.
    """
    if _stat_file(legacy, "legacy secret ") is None:
        return None
    value = _read_value(legacy, "legacy secret ", "remove it to have a new secret generated in %s" % path)
    if check_mode:
        return value
    try:
        os.chmod(legacy, 0o600)
        moved = _link_new(legacy, path)
    except FileNotFoundError:
        return None  # moved by a concurrent run: the caller reads ``path``
    except OSError as exc:
        if exc.errno == errno.EXDEV:  # another file system: copy, then remove
            moved = write_new(path, value)
        else:
            raise AnsibleLookupError("onprem.stack.credential: cannot move %s to %s: %s" % (legacy, path, exc))
    if moved or read_secret_loose(path) == value:
        _remove_legacy(legacy)
    return None  # the caller reads ``path``


def _remove_legacy(legacy):
    try:
        os.unlink(legacy)
    except FileNotFoundError:
        pass
    try:
        os.rmdir(os.path.dirname(legacy))
    except OSError:
        pass  # not empty (or gone): keep it


def credential(base, scope, service, name, length=32, chars="", legacy=None, check_mode=False):
    """Return the secret (str) at ``<base>/<scope>/<service>/<name>``, creating it on first use.

    :param base: the credentials directory (str, absolute path).
    :param scope: ``site`` or an inventory host name (str).
    :param service: service directory name (str).
    :param name: secret name (str).
    :param length: characters of a generated secret (int, ``MIN_LENGTH``..``MAX_LENGTH``).
    :param chars: characters a generated secret is drawn from (str, see ``candidate_chars``).
    :param legacy: path (str) of the same secret in an older layout, or None.
    :param check_mode: True to leave a legacy file where it is.
    :raises AnsibleLookupError: for a bad component name, a directory or file open to group
        or others, an unreadable or empty file, or an I/O error.
    """
    parts = [check_part("scope", scope), check_part("service", service), check_part("name", name)]
    _check_length(length)
    directory = base
    private_dir(directory)
    for part in parts[:2]:
        directory = os.path.join(directory, part)
        private_dir(directory)
    path = os.path.join(directory, parts[2])

    value = read_secret(path)
    if legacy:
        legacy = os.path.abspath(legacy)
        if value is None:
            legacy_value = migrate(legacy, path, check_mode)
            if legacy_value is not None:
                return legacy_value
            value = read_secret(path)
        elif os.path.isfile(legacy) and not check_mode:
            if read_secret_loose(legacy) == value:
                _remove_legacy(legacy)
            else:
                display.warning("onprem.stack.credential: both %s and the legacy %s exist with different values; "
                                "using %s (remove the legacy file once it is not needed)" % (path, legacy, path))
    if value is None:
        if not chars:
            chars = candidate_chars(["ascii_letters", "digits"])
        write_new(path, generate(length, chars))
        value = read_secret(path)
    return value


def read_secret_loose(path):
    """Return the content (str, trailing CR/LF removed) of ``path``, or None when unreadable."""
    try:
        return _read_value(path, "", "")
    except AnsibleLookupError:
        return None


class LookupModule(LookupBase):
    """``lookup('onprem.stack.credential', name, service=..., scope=..., length=32, chars=[...], legacy=...)``."""

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        service = self.get_option("service")
        scope = self.get_option("scope")
        if scope is None:
            scope = variables.get("inventory_hostname")
            if not scope:
                raise AnsibleLookupError("onprem.stack.credential: no scope given and no inventory_hostname to default to")
        legacy = self.get_option("legacy")
        if legacy and len(terms) != 1:
            raise AnsibleLookupError("onprem.stack.credential: legacy needs exactly one name, got %d" % len(terms))
        if not terms:
            raise AnsibleLookupError("onprem.stack.credential: no secret name given")
        length = self.get_option("length")
        chars = candidate_chars(self.get_option("chars"))
        base = stack_dir("credentials", variables, self._templar)
        if not os.path.isabs(base):
            base = self._loader.path_dwim(base)
        if legacy and not os.path.isabs(legacy):
            legacy = self._loader.path_dwim(legacy)
        check_mode = bool(variables.get("ansible_check_mode", False))
        return [wrap_var(credential(base, scope, service, name, length=length, chars=chars, legacy=legacy,
                                    check_mode=check_mode))
                for name in terms]

"""onprem.stack.credential through a real ansible-playbook run on localhost: option
parsing, the scope default (the inventory host), query() with several names, check
mode, and a supplied value that never reaches the lookup."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: generated
      ansible.builtin.copy:
        dest: "{{ out }}/generated"
        content: "{{ lookup('onprem.stack.credential', 'app', service='postgresql', length=20, chars=['digits']) }}"
        mode: "0600"
    - name: site scope, two names
      ansible.builtin.copy:
        dest: "{{ out }}/site"
        content: "{{ query('onprem.stack.credential', 'a', 'b', service='registry', scope='site') | join(',') }}"
        mode: "0600"
    - name: a supplied value never calls the lookup
      ansible.builtin.copy:
        dest: "{{ out }}/supplied"
        content: "{{ supplied.password if supplied.password is defined else lookup('onprem.stack.credential', 'vaulted', service='redis') }}"
        mode: "0600"
      vars:
        supplied: {name: vaulted, password: given}
"""


def _playbook(tmp_path, *extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAYBOOK)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    res = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                          str(play), "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "out=%s" % out,
                          "-e", "stack_credentials_dir=%s" % (tmp_path / "creds"), *extra], capture_output=True, text=True, check=False, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    return out, tmp_path / "creds"


def test_lookup_through_ansible(tmp_path):
    out, creds = _playbook(tmp_path)
    generated = (out / "generated").read_text()
    assert generated.isdigit() and len(generated) == 20
    assert (creds / "localhost" / "postgresql" / "app").read_text() == generated + "\n", "scope defaults to the host"
    a, b = (out / "site").read_text().split(",")
    assert (creds / "site" / "registry" / "a").read_text() == a + "\n"
    assert (creds / "site" / "registry" / "b").read_text() == b + "\n"
    assert (out / "supplied").read_text() == "given"
    assert not (creds / "localhost" / "redis").exists(), "a supplied password must not write a file"


def test_lookup_in_check_mode_agrees_with_the_real_run(tmp_path):
    _playbook(tmp_path, "--check")
    creds = tmp_path / "creds"
    stored = (creds / "localhost" / "postgresql" / "app").read_text()
    out = _playbook(tmp_path)[0]
    assert (out / "generated").read_text() + "\n" == stored

"""Every community.postgresql task of roles/postgresql runs without a warning or a
deprecation (issue 19, item 11: a clean run prints none).

Each task's arguments, as written in roles/postgresql/tasks/*.yml and handlers/*.yml,
go through the installed module's own main(): its real argument spec (which reports
deprecated aliases such as ``port``, community.postgresql 4.x
``plugins/module_utils/postgres.py`` ``postgres_common_argument_spec()``) and its real
``get_conn_params()`` (which warns "Database name has not been passed" when a module
that asks for it gets no ``login_db``). The run is stopped where the module would
connect: psycopg and a server are not on the unit-test host, and tests/unit starts no
program. ``ensure_required_libs`` is skipped and ``connect_to_db`` (or, for
postgresql_pg_hba, which edits a file and never connects, ``_from_file``) ends the run with
fail_json(STOP). Warnings and deprecations are recorded where they surface: inside
this pytest process ansible-core is in controller mode, so AnsibleModule hands them to
``ansible.utils.display.Display.warning``/``deprecated`` (ansible-core 2.19
``module_utils/common/warnings.py``), the same calls that print "[WARNING]" and
"[DEPRECATION WARNING]" in a playbook run.

Jinja expressions cannot be evaluated here (they use the role's variables and loop
items); each templated value becomes a stand-in of the option's type (STAND_INS), and an
option whose expression ends in ``omit`` is left out, as Ansible would when it omits it.
"""
import importlib
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.utils.display import Display

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "postgresql"
PREFIX = "community.postgresql."
STOP = "stopped by the test where the module would connect"
# Stand-ins for templated option values, by option name (type of the module's spec);
# any other templated option becomes the string "standin".
STAND_INS = {"port": 5432, "login_port": 5432, "rules": [], "named_args": {"dropin": "a", "hba": "b", "ident": "c"}}


def _tasks(entries):
    """Yield every task dict in a task list, descending into block/rescue/always."""
    for entry in entries or []:
        for key in ("block", "rescue", "always"):
            if key in entry:
                yield from _tasks(entry[key])
        yield entry


def _postgresql_tasks():
    """[(file:name, module short name, args dict)] for every community.postgresql task of the role."""
    found = []
    for path in sorted((ROLE / "tasks").glob("*.yml")) + sorted((ROLE / "handlers").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
            for key, args in task.items():
                if key.startswith(PREFIX):
                    found.append((f"{path.relative_to(ROLE)}: {task.get('name')}", key[len(PREFIX):], args))
    return found


TASKS = _postgresql_tasks()


def _stand_in(name, value):
    """The value a task option would have at run time, or None when Ansible would omit it."""
    if isinstance(value, str) and "{{" in value:
        if "omit" in value:
            return None
        return STAND_INS.get(name, "standin")
    return value


def test_tasks_found():
    """The parser finds the role's community.postgresql tasks (a broken parser must not pass)."""
    modules = {task[1] for task in TASKS}
    assert {"postgresql_user", "postgresql_db", "postgresql_ext", "postgresql_query", "postgresql_ping",
            "postgresql_pg_hba"} <= modules, modules


@pytest.mark.parametrize("where,module,args", TASKS, ids=[t[0] for t in TASKS])
def test_task_runs_without_warning(where, module, args, run_module, monkeypatch):
    mod = importlib.import_module(f"ansible_collections.community.postgresql.plugins.modules.{module}")
    instances = []

    class Recording(AnsibleModule):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            instances.append(self)

    def stop(*_a, **_kw):
        instances[-1].fail_json(msg=STOP)

    shown = []
    monkeypatch.setattr(Display, "warning", lambda _self, msg, *a, **kw: shown.append(f"[WARNING]: {msg}"))
    monkeypatch.setattr(Display, "deprecated",
                        lambda _self, msg, *a, **kw: shown.append(f"[DEPRECATION WARNING]: {msg}"))
    monkeypatch.setattr(mod, "AnsibleModule", Recording)
    for name, repl in (("ensure_required_libs", lambda _m: None), ("connect_to_db", stop), ("_from_file", stop)):
        if hasattr(mod, name):
            monkeypatch.setattr(mod, name, repl)
    params = {k: v for k, v in ((k, _stand_in(k, v)) for k, v in args.items()) if v is not None}

    failed, res = run_module(mod.main, params)

    assert failed and res["msg"] == STOP, f"{where}: the module stopped before connecting: {res}"
    assert shown == [], f"{where}: {shown}"
    assert not res.get("warnings") and not res.get("deprecations"), f"{where}: {res}"

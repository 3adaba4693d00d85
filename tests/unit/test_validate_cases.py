"""Every bad-input case (tests/functional/bad_input/*.yml) and every good inventory, run
against the role validators without a playbook.

For each host of a case's inventory this walks what preflight runs (roles/preflight/
tasks/main.yml, its validate_roles.yml and each included role's tasks/validate.yml) with
Ansible's own inventory, variable manager and templar: `when` conditions, the roles'
`validate` argument specs (ArgumentSpecValidator, as validate_argument_spec does),
include_vars, and every `assert` (whose one condition calls the filter
onprem.stack.role_problems, i.e. plugins/module_utils/_validate/<role>.py). Tasks that
measure the host (setup, resources, ports...) are not run. A bad case must fail with a
message holding every `expect` string; a good inventory must give no problem.

tests/functional/test_bad_inventory.py proves the same wiring through site.yml, on a
subset of these cases.
"""
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "functional"))
from test_bad_inventory import BASE_VARS, CASES, inventory_for  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module", autouse=True)
def _plugin_loader(collection_loader):  # noqa: ARG001  (tests/unit/conftest.py)
    """The templar finds onprem.stack's filters and lookups, as under ansible-playbook."""


# The CI host's facts (Debian 12: PostgreSQL 15 without pgvector, from PGDG).
FACTS = {"distribution": "Debian", "distribution_major_version": "12", "distribution_version": "12.9",
         "os_family": "Debian", "hostname": "target", "kernel": "6.1.0-30-amd64", "memtotal_mb": 4096,
         "processor_vcpus": 2, "architecture": "x86_64"}
ROLES = REPO / "roles"
LOADER = DataLoader()


class Refused(Exception):
    """A task failed: the message Ansible would print."""


def _load(path: Path):
    return LOADER.load_from_file(str(path), trusted_as_template=True) or {}


def _role_vars(role: str) -> tuple[dict, dict]:
    """(defaults, vars/main.yml) of a role, trusted as templates as Ansible loads them."""
    defaults = ROLES / role / "defaults" / "main.yml"
    main = ROLES / role / "vars" / "main.yml"
    return (_load(defaults) if defaults.exists() else {}), (_load(main) if main.exists() else {})


class Host:
    """One host's variables in one role's scope, and a mini executor of its validation tasks."""

    def __init__(self, variable_manager: VariableManager, host, extra: dict):
        self.vm, self.host, self.extra = variable_manager, host, extra
        self.inventory_vars = variable_manager.get_vars(host=host)

    def scope(self, role: str) -> dict:
        defaults, main = _role_vars(role)
        variables = dict(defaults)
        variables.update(self.inventory_vars)
        variables.update(main)
        variables.update(self.extra)
        variables["role_path"] = str(ROLES / role)
        variables["playbook_dir"] = str(REPO)
        return variables

    @staticmethod
    def template(variables: dict, expr: str):
        return Templar(loader=LOADER, variables=variables).template(trust_as_template(expr))

    def true(self, variables: dict, conditions) -> bool:
        for cond in conditions if isinstance(conditions, list) else [conditions]:
            if isinstance(cond, bool):
                if not cond:
                    return False
            elif not self.template(variables, "{{ (%s) | bool }}" % str(cond)):
                return False
        return True

    def argspec(self, role: str, entry: str, variables: dict) -> None:
        specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        if entry not in specs:
            return
        options = specs[entry].get("options") or {}
        provided = {k: self.template(variables, "{{ %s }}" % k) for k in options if k in variables}
        result = ArgumentSpecValidator(options).validate(provided)
        if result.error_messages:
            raise Refused("Validation of arguments failed:\n" + "\n".join(result.error_messages))

    def run(self, role: str, tasks_file: str, variables: dict | None = None) -> None:
        variables = self.scope(role) if variables is None else variables
        for task in _load(ROLES / role / "tasks" / tasks_file) or []:
            task_vars = dict(variables, **(task.get("vars") or {}))
            if "when" in task and not self.true(task_vars, task["when"]):
                continue
            if "ansible.builtin.assert" in task:
                args = task["ansible.builtin.assert"]
                if not self.true(task_vars, args["that"]):
                    raise Refused(str(self.template(task_vars, args.get("fail_msg", "assertion failed"))))
            elif "ansible.builtin.include_role" in task:
                args = task["ansible.builtin.include_role"]
                included = args["name"].split(".")[-1]
                scope = self.scope(included)
                self.argspec(included, args["tasks_from"], scope)
                self.run(included, args["tasks_from"] + ".yml", scope)
            elif "ansible.builtin.include_tasks" in task:
                name = task["ansible.builtin.include_tasks"]
                if name in ("validate_roles.yml", "os_vars.yml"):
                    self.run(role, name, variables)
            elif "ansible.builtin.include_vars" in task:
                variables.update(_load(Path(self.template(task_vars, task["ansible.builtin.include_vars"]))))
                variables.update(self.extra)

    def preflight(self) -> None:
        variables = self.scope("preflight")
        self.argspec("preflight", "main", variables)
        self.run("preflight", "main.yml", variables)


def refusals(inventory_path: Path, extra: dict) -> dict[str, str]:
    """Run preflight's validation for every host; return {host: message} of the hosts refused."""
    inventory = InventoryManager(loader=LOADER, sources=[str(inventory_path)])
    manager = VariableManager(loader=LOADER, inventory=inventory)
    # What -e sets, and the hostvars a play would have.
    manager._extra_vars = extra  # pylint: disable=protected-access
    manager._hostvars = HostVars(inventory=inventory, variable_manager=manager, loader=LOADER)  # pylint: disable=protected-access
    for host in inventory.get_hosts():
        manager.set_host_facts(host.name, dict(FACTS, hostname=host.name))
    found = {}
    for host in inventory.get_hosts():
        try:
            Host(manager, host, extra).preflight()
        except Refused as refused:
            found[host.name] = str(refused)
    return found


def case_messages(case: dict, tmp_path: Path) -> str:
    """All refusal messages of one bad-input case, whitespace collapsed as the functional test compares."""
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory_for(case)), encoding="utf-8")
    extra = {**BASE_VARS, "stack_credentials_dir": str(tmp_path / "credentials"), **(case.get("vars") or {})}
    return " ".join(" ".join(refusals(tmp_path / "hosts.yml", extra).values()).split())


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_case_is_refused(case_id: str, tmp_path: Path) -> None:
    case = CASES[case_id]
    text = case_messages(case, tmp_path)
    assert text, f"{case['file']}:{case_id}: no host was refused"
    missing = [str(e) for e in case["expect"] if str(e) not in text]
    assert not missing, f"{case['file']}:{case_id}: {missing} not in: {text}"


def _stand_in_charts(inventory: Path) -> None:
    """Minimal charts at the relative chart paths the releases name (the user supplies the real ones)."""
    for path in (inventory / "group_vars").rglob("*.yml"):
        for release in (yaml.safe_load(path.read_text()) or {}).get("platform_releases") or []:
            chart, version = str(release.get("chart", "")), str(release.get("version", "0.1.0"))
            if not chart or "://" in chart:
                continue
            target = inventory / chart
            if chart.endswith((".tgz", ".tar.gz")):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"stand-in")
            else:
                target.mkdir(parents=True, exist_ok=True)
                (target / "Chart.yaml").write_text(yaml.safe_dump({"name": target.name, "version": version}))


GOOD = ["inventories/example", "inventories/local", "examples/align", "examples/alexandria", "examples/aileron"]


@pytest.mark.parametrize("good", GOOD)
def test_good_inventory_has_no_problem(good: str, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / good, inventory)
    if good.startswith("examples/"):
        _stand_in_charts(inventory)
    extra = {"stack_credentials_dir": str(tmp_path / "credentials"),
             "vault_alexandria_okta_client_secret": "stand-in-okta-secret"}
    assert refusals(inventory, extra) == {}

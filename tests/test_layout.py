"""Dependencies between the packages point one way (read from the code, not imported).

bot.store (data layer) and bot.text (pure parsing) are used by the SMS path, the desk, the
Rasa extensions, the actions and the channel, and import none of them; bot.text does not
need the database either. The SMS path does not import the desk (the desk uses the SMS
outbox). The product never imports the development tools.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from bot.settings import PROJECT_ROOT

PACKAGES = ("bot", "actions", "channels", "devtools")

# (modules under this package, must not import anything under these)
RULES: List[Tuple[str, Tuple[str, ...]]] = [
    (
        "bot.store",
        ("bot.sms", "bot.outbound", "bot.desk", "bot.rasa_ext", "actions", "channels", "devtools"),
    ),
    (
        "bot.text",
        (
            "bot.store",
            "bot.sms",
            "bot.outbound",
            "bot.desk",
            "bot.rasa_ext",
            "actions",
            "channels",
            "devtools",
        ),
    ),
    ("bot.sms", ("bot.desk", "actions", "devtools")),
    # The outbound service decides and records texts the business starts, on top of the
    # SMS outbox: the desk (and later callers) use it, never the other way round.
    ("bot.outbound", ("bot.desk", "bot.rasa_ext", "actions", "channels", "devtools")),
    ("bot", ("devtools",)),
]
# The SMS worker process hosts the outbound release loop: the one module of bot.sms that
# may use bot.outbound. Everything else in bot.sms must not.
SMS_MAY_NOT_USE_OUTBOUND = ("bot.sms", "bot.outbound", {"bot.sms.worker"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((PROJECT_ROOT / package).rglob("*.py"))


def imported_modules(source: str, module: str, is_package: bool) -> Set[str]:
    """Every module an import statement names, anywhere in the file (functions too)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from bot import sms` imports the package bot.sms
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(imports: Dict[str, Set[str]]) -> List[str]:
    found = []
    sms, outbound, hosts = SMS_MAY_NOT_USE_OUTBOUND
    for module, names in sorted(imports.items()):
        if within(module, sms) and module not in hosts:
            found += [
                f"{module} imports {name} (only {sorted(hosts)} may use {outbound})"
                for name in sorted(names)
                if within(name, outbound)
            ]
        for package, forbidden in RULES:
            if not within(module, package):
                continue
            for name in sorted(names):
                for banned in forbidden:
                    if within(name, banned):
                        found.append(f"{module} imports {name} ({package} must not use {banned})")
    return found


@pytest.fixture(scope="module")
def project_imports() -> Dict[str, Set[str]]:
    imports = {}
    for path in python_files():
        module = module_name(path)
        imports[module] = imported_modules(
            path.read_text(), module, is_package=path.name == "__init__.py"
        )
    return imports


def test_dependencies_point_one_way(project_imports: Dict[str, Set[str]]) -> None:
    assert violations(project_imports) == []


def test_every_subpackage_is_read(project_imports: Dict[str, Set[str]]) -> None:
    for package in (
        "bot.store",
        "bot.text",
        "bot.sms",
        "bot.desk",
        "bot.outbound",
        "bot.rasa_ext.nlu",
    ):
        assert any(within(m, package) for m in project_imports), package
    assert "bot.store.ownership" in project_imports["bot.store.handoffs"]
    assert "bot.store.db" in project_imports["bot.sms.turns"]


@pytest.mark.parametrize(
    "module, source",
    [
        ("bot.store.orders", "from bot.sms.outbox import enqueue"),
        ("bot.store.orders", "def f():\n    import bot.desk.views"),
        ("bot.store.orders", "from bot import sms"),
        ("bot.store.orders", "from ..sms import outbox"),
        ("bot.text.phone", "from bot.store.db import session_scope"),
        ("bot.text.phone", "from actions.identity import phone_of"),
        ("bot.sms.conversation", "from bot.desk import notices"),
        ("bot.sms.conversation", "from bot.desk.ownership import claim"),
        ("bot.cli", "from devtools.plivo_standin import runner"),
        ("bot.outbound.service", "from bot.desk.notices import WAIT_OFFER"),
        ("bot.sms.outbox", "from bot.outbound import service"),
        ("bot.store.customers", "from bot.outbound.quiet_hours import zone"),
    ],
)
def test_a_wrong_way_import_is_caught(module: str, source: str) -> None:
    assert violations({module: imported_modules(source, module, is_package=False)})


def test_allowed_imports_pass() -> None:
    allowed = {
        "bot.sms.outbox": "from bot.store.models import OutboxMessage\nfrom . import segments",
        "bot.desk.replies": "from bot.sms import outbox\nfrom bot.store import ownership",
        "bot.store.models": "from bot.text.names import first_name_of",
        "devtools.plivo_standin.control": "from bot.sms.segments import segment_count",
        "bot.outbound.service": "from bot.sms import outbox\nfrom bot.store.models import Customer",
        "actions.greet": "from bot.store.customers import first_name_for_phone",
        "bot.desk.maintenance": "from bot.outbound.service import request_text",
        "bot.sms.worker": "from bot.outbound.scheduler import ReleaseLoop",
    }
    imports = {m: imported_modules(s, m, is_package=False) for m, s in allowed.items()}
    assert violations(imports) == []


# Settings are read once, by entry points, and passed along. Modules that may read them
# (call get_settings / settings_or_exit / Settings.from_env), with the reason:
SETTINGS_ENTRY_POINTS: Dict[str, str] = {
    "bot.sms.receiver": "main of the SMS receiver",
    "bot.sms.worker": "main of the SMS worker",
    "bot.desk.__main__": "main of the agent console",
    "bot.rasa_ext.server": "main of the Rasa server (checks them before Rasa starts)",
    "bot.models_server": "main of the model server (MODEL_SERVER_TOKEN)",
    "bot.cli": "main of `python -m bot`",
    "bot.scaled_setup": "main of the scaled topology's setup",
    "bot.pidfile": "main of the pid-file wrapper (PIDFILE_DIR)",
    "channels.plivo": "from_credentials: Rasa builds the channel there",
    "bot.rasa_ext.tracker_store": "its constructor: Rasa builds the store with endpoints.yml only",
    "actions.settings": "rasa_sdk builds actions without arguments: the package's accessor",
}
# Modules that may read the environment itself, with the reason:
ENVIRONMENT_READERS: Dict[str, str] = {
    "bot.settings": "the settings themselves",
    "bot.rasa_ext.nlu.encoders": "NLU_MODELS_DIR inside Rasa's graph, which gets config.yml only",
    "bot.launcher": "copies the environment for the processes it starts (tests, benchmarks)",
    "bot.rasa_ext.server": "SANIC_WORKERS, Rasa's own variable: does Sanic serve in-process",
    "devtools.plivo_standin.__main__": "the stand-in's own small config, read once in main",
}
SETTINGS_READERS = {"get_settings", "settings_or_exit", "from_env"}


def settings_reads(source: str) -> List[str]:
    """Each call that reads the settings and each use of the environment, as `name:line`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in SETTINGS_READERS:
                found.append(f"{name}:{node.lineno}")
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            found.append(f"{node.attr}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in ("environ", "getenv", "environb"):
                    found.append(f"{alias.name}:{node.lineno}")
    return found


def misplaced_settings_reads(sources: Dict[str, str]) -> List[str]:
    """Reads outside the allow-lists: settings outside entry points, the environment
    outside ENVIRONMENT_READERS."""
    bad = []
    for module, source in sorted(sources.items()):
        for read in settings_reads(source):
            name = read.split(":")[0]
            is_env = name in ("environ", "getenv", "environb")
            allowed = (
                ENVIRONMENT_READERS if is_env else {**SETTINGS_ENTRY_POINTS, "bot.settings": ""}
            )
            if module not in allowed:
                bad.append(f"{module} reads {'the environment' if is_env else 'settings'} ({read})")
    return bad


def test_settings_are_read_only_by_entry_points() -> None:
    sources = {module_name(path): path.read_text() for path in python_files()}
    assert misplaced_settings_reads(sources) == []
    for module in {**SETTINGS_ENTRY_POINTS, **ENVIRONMENT_READERS}:
        assert module in sources, f"allow-listed module {module} does not exist"
    # every entry point does read them (an allow-list entry nobody needs is removed)
    for module in SETTINGS_ENTRY_POINTS:
        assert settings_reads(sources[module]), f"{module} is allow-listed but reads nothing"


@pytest.mark.parametrize(
    "source",
    [
        "from bot.settings import get_settings\ndef f():\n    return get_settings().business_name",
        "import bot.settings\nx = bot.settings.get_settings()",
        "from bot.settings import Settings\nS = Settings.from_env()",
        "import os\nurl = os.environ.get('DATABASE_URL')",
        "import os\nurl = os.getenv('DATABASE_URL')",
        "from os import environ\nurl = environ['X']",
    ],
)
def test_a_settings_read_in_a_leaf_module_is_caught(source: str) -> None:
    assert misplaced_settings_reads({"bot.text.phone": source})
    assert misplaced_settings_reads({"actions.booking_form": source})


def test_passed_settings_pass() -> None:
    source = (
        "from bot.settings import Settings\n"
        "def lease(settings: Settings) -> float:\n"
        "    return settings.inbound_claim_lease_seconds\n"
    )
    assert misplaced_settings_reads({"bot.sms.inbound": source}) == []
    reads_env = "import os\ndirs = [os.environ.get('NLU_MODELS_DIR')]"
    assert misplaced_settings_reads({"bot.rasa_ext.nlu.encoders": reads_env}) == []
    assert misplaced_settings_reads({"bot.sms.worker": reads_env})  # settings, not env

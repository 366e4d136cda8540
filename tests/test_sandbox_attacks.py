"""Hostile transform scripts against the sandbox: each must be contained, with a reported reason.

Every attack runs twice on the bubblewrap backend: with the import policy, which rejects it or
lets it run into the sandbox's limits, and with check_policy=False, which shows that process
isolation is enough on its own. After every run the test also checks that nothing leaked. No
secret may appear in the result or the output, no file outside the working folder, and no
connection at the test's listener. The product's code and the caller's validators stay
unchanged, and no process is left behind. The fallback backend runs the attacks it is
documented to contain.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

import pandas as pd
import pytest

import onboard.transforms
import serverless.validation
from serverless import sandbox
from serverless.policy import check_script
from serverless.sandbox import SandboxResult, run_script

PR_SET_CHILD_SUBREAPER = 36
TIMEOUT_S = 5
MEMORY_MB = 512
FILE_SIZE_MB = 16
TABLE = pd.DataFrame({"Bedrag": ["1,00", "2,50"]}, dtype=object)
LINES = [2, 3]
PRODUCT_FILE = Path(onboard.transforms.__file__).resolve()
PASSWD_FIRST_LINE = "root:x:0:0"
ORIGINAL_PARSE_DATE = onboard.transforms.parse_date
ORIGINAL_VALIDATE_ROWS = serverless.validation.validate_rows

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (apt-get install bubblewrap)")


@dataclass(frozen=True)
class Expect:
    status: str
    error_name: str | None = None
    message: str | None = None  # a regular expression searched in the result's message


@dataclass(frozen=True)
class Attack:
    name: str
    script: str  # a string.Template with the names of Target.substitutions
    with_policy: Expect
    without_policy: Expect
    fallback: Expect | None = None  # expected on the fallback backend; None where it is not contained there


def rejected(problem: str) -> Expect:
    return Expect("policy_violation", "PolicyViolation", re.escape(problem))


ATTACKS = [
    Attack(
        "read_etc_passwd",
        "def transform(source):\n"
        "    with open('/etc/passwd') as handle:\n"
        "        source['leak'] = handle.read()\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "FileNotFoundError", "'/etc/passwd'"),
    ),
    Attack(
        "read_core_database",
        "def transform(source):\n"
        "    with open($database, 'rb') as handle:\n"
        "        source['leak'] = handle.read().decode('latin-1')\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "FileNotFoundError", "core_banking.sqlite"),
        Expect("error", "PermissionError", "core_banking.sqlite"),
    ),
    Attack(
        "read_checkpoints",
        "def transform(source):\n"
        "    with open($checkpoints, 'rb') as handle:\n"
        "        source['leak'] = handle.read().decode('latin-1')\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "FileNotFoundError", "checkpoints.sqlite"),
        Expect("error", "PermissionError", "checkpoints.sqlite"),
    ),
    Attack(
        "list_onboard_home",
        "import os\n\n\n"
        "def transform(source):\n"
        "    source['leak'] = repr(os.listdir($home))\n"
        "    return source\n",
        rejected("import of 'os' is not allowed"),
        Expect("error", "FileNotFoundError", "home"),
        Expect("error", "PermissionError", "home"),
    ),
    Attack(
        "read_environment",
        "import os\n\n\n"
        "def transform(source):\n"
        "    inherited = ''\n"
        "    try:\n"
        "        with open('/proc/self/environ', 'rb') as handle:\n"
        "            inherited = handle.read().decode('latin-1')\n"
        "    except PermissionError:\n"
        "        pass  # the fallback's process is not dumpable after its switch to nobody\n"
        "    source['leak'] = repr(dict(os.environ)) + inherited\n"
        "    return source\n",
        rejected("import of 'os' is not allowed"),
        Expect("ok"),  # runs, but the environment contains no secret (checked after every run)
        Expect("ok"),
    ),
    Attack(
        "read_host_processes",
        "import os\n\n\n"
        "def transform(source):\n"
        "    found = []\n"
        "    for entry in os.listdir('/proc'):\n"
        "        if entry.isdigit():\n"
        "            try:\n"
        "                with open(f'/proc/{entry}/environ', 'rb') as handle:\n"
        "                    found.append(handle.read().decode('latin-1'))\n"
        "            except OSError as error:\n"
        "                found.append(str(error))\n"
        "    if str($test_pid) in os.listdir('/proc'):\n"
        "        raise RuntimeError('the test process is visible')\n"
        "    source['leak'] = repr(found)\n"
        "    return source\n",
        rejected("import of 'os' is not allowed"),
        Expect("ok"),  # lists only the processes of its own PID namespace
    ),
    Attack(
        "write_outside_workdir",
        "def transform(source):\n"
        "    with open($outside, 'w') as handle:\n"
        "        handle.write('escaped')\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "FileNotFoundError", "escaped.txt"),
        Expect("error", "PermissionError", "escaped.txt"),
    ),
    Attack(
        "overwrite_product_code",
        "def transform(source):\n"
        "    with open($product_file, 'a') as handle:\n"
        "        handle.write('\\nparse_date = None\\n')\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "PermissionError", "transforms.py"),
        Expect("error", "PermissionError", "transforms.py"),
    ),
    Attack(
        "socket_to_listener",
        "import socket\n\n\n"
        "def transform(source):\n"
        "    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    connection.settimeout(2)\n"
        "    connection.connect(('127.0.0.1', $port))\n"
        "    connection.sendall(b'leak')\n"
        "    return source\n",
        rejected("import of 'socket' is not allowed"),
        Expect("error", "ConnectionRefusedError", "Connection refused"),  # bwrap's namespace has only its own loopback
        Expect("error", "OSError", "Network is unreachable"),  # the fallback's namespace has no interface up
    ),
    Attack(
        "spawn_shell",
        "import subprocess\n\n\n"
        "def transform(source):\n"
        "    completed = subprocess.run(['/bin/sh', '-c', 'cat /etc/passwd'], capture_output=True, check=True)\n"
        "    source['leak'] = completed.stdout.decode()\n"
        "    return source\n",
        rejected("import of 'subprocess' is not allowed"),
        Expect("error", "FileNotFoundError", "/bin/sh"),
    ),
    Attack(
        "os_system",
        "import os\n\n\n"
        "def transform(source):\n"
        "    status = os.system('cat /etc/passwd; touch ' + $outside)\n"
        "    raise RuntimeError(f'os.system returned {status}')\n",
        rejected("import of 'os' is not allowed"),
        Expect("error", "RuntimeError", "os.system returned 32512"),  # 127 << 8: no shell in the sandbox
    ),
    Attack(
        "fork_bomb",
        "import os\n\n\n"
        "def transform(source):\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            pass\n",
        rejected("import of 'os' is not allowed"),
        Expect("timeout", "Timeout", "longer than 5 s"),
        Expect("timeout", "Timeout", "longer than 5 s"),
    ),
    Attack(
        "fork_until_limit",
        "import os\n"
        "import time\n\n\n"
        "def transform(source):\n"
        "    forked = 0\n"
        "    while True:\n"
        "        try:\n"
        "            child = os.fork()\n"
        "        except BlockingIOError:\n"
        "            raise RuntimeError(f'forked {forked} processes before the process limit')\n"
        "        if child == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        forked += 1\n",
        rejected("import of 'os' is not allowed"),
        Expect("error", "RuntimeError", r"forked \d+ processes before the process limit"),
        Expect("error", "RuntimeError", r"forked \d+ processes before the process limit"),
    ),
    Attack(
        "unbounded_memory",
        "def transform(source):\n"
        "    blocks = []\n"
        "    while True:\n"
        "        blocks.append(bytearray(50 * 1024 * 1024))\n",
        Expect("error", "MemoryError", "memory limit of 512 MiB"),
        Expect("error", "MemoryError", "memory limit of 512 MiB"),
        Expect("error", "MemoryError", "memory limit of 512 MiB"),
    ),
    Attack(
        "infinite_loop",
        "def transform(source):\n"
        "    while True:\n"
        "        pass\n",
        Expect("timeout", "Timeout", "longer than 5 s"),
        Expect("timeout", "Timeout", "longer than 5 s"),
        Expect("timeout", "Timeout", "longer than 5 s"),
    ),
    Attack(
        "unbounded_print",
        "def transform(source):\n"
        "    while True:\n"
        "        print('x' * 10000)\n",
        Expect("killed", "OutputLimitExceeded", "more than 8 MiB"),
        Expect("killed", "OutputLimitExceeded", "more than 8 MiB"),
        Expect("killed", "OutputLimitExceeded", "more than 8 MiB"),
    ),
    Attack(
        "huge_file",
        "def transform(source):\n"
        "    with open('huge.bin', 'wb') as handle:\n"
        "        while True:\n"
        "            handle.write(bytes(1 << 20))\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "OSError", "File too large"),
        Expect("error", "OSError", "File too large"),
    ),
    Attack(
        "fill_tmp",
        "def transform(source):\n"
        "    for number in range(100):\n"
        "        with open(f'/tmp/fill-{number}.bin', 'wb') as handle:\n"
        "            handle.write(bytes(8 << 20))\n"
        "    return source\n",
        rejected("use of 'open' is not allowed"),
        Expect("error", "OSError", "No space left on device"),
    ),
    Attack(
        "import_via_importlib",
        "import importlib\n\n\n"
        "def transform(source):\n"
        "    subprocess = importlib.import_module('subprocess')\n"
        "    source['leak'] = subprocess.check_output(['cat', '/etc/passwd']).decode()\n"
        "    return source\n",
        rejected("import of 'importlib' is not allowed"),
        Expect("error", "FileNotFoundError", "'cat'"),
    ),
    Attack(
        "ctypes_setuid_root",
        "import ctypes\n\n\n"
        "def transform(source):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    if libc.setuid(0) != 0:\n"
        "        raise PermissionError(f'setuid(0) failed with errno {ctypes.get_errno()}')\n"
        "    return source\n",
        rejected("import of 'ctypes' is not allowed"),
        Expect("error", "PermissionError", "setuid\\(0\\) failed with errno 1"),
        Expect("error", "PermissionError", "setuid\\(0\\) failed with errno 1"),
    ),
    Attack(
        "nested_user_namespace",
        "import ctypes\n\n\n"
        "def transform(source):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER\n"
        "        raise PermissionError(f'unshare(CLONE_NEWUSER) failed with errno {ctypes.get_errno()}')\n"
        "    return source\n",
        rejected("import of 'ctypes' is not allowed"),
        Expect("error", "PermissionError", "unshare\\(CLONE_NEWUSER\\) failed with errno 1"),
    ),
    Attack(
        "getattr_to_builtins",
        "def transform(source):\n"
        "    classes = getattr(getattr(getattr((), '__class__'), '__base__'), '__subclasses__')()\n"
        "    warnings_class = [c for c in classes if c.__name__ == 'catch_warnings'][0]\n"
        "    builtins = warnings_class()._module.__builtins__\n"
        "    with builtins['open']('/etc/passwd') as handle:\n"
        "        source['leak'] = handle.read()\n"
        "    return source\n",
        rejected("use of 'getattr' is not allowed"),
        Expect("error", "FileNotFoundError", "'/etc/passwd'"),
    ),
    Attack(
        "pickle_payload",
        "import pickle\n\n\n"
        "class Payload:\n"
        "    def __reduce__(self):\n"
        "        return (open, ('/etc/passwd',))\n\n\n"
        "def transform(source):\n"
        "    handle = pickle.loads(pickle.dumps(Payload()))\n"
        "    source['leak'] = handle.read()\n"
        "    return source\n",
        rejected("import of 'pickle' is not allowed"),
        Expect("error", "FileNotFoundError", "'/etc/passwd'"),
    ),
    Attack(
        "monkeypatch_validators",
        "from onboard import transforms as t\n\n\n"
        "def transform(source):\n"
        "    t.parse_date = lambda *args, **kwargs: None\n"
        "    import serverless.validation as validation\n"
        "    validation.validate_rows = lambda *args, **kwargs: None\n"
        "    return source\n",
        rejected("changing attribute 'parse_date' of imported module 't' is not allowed"),
        Expect("error", "ModuleNotFoundError", "No module named 'serverless'"),
    ),
    Attack(
        "more_rows_than_input",
        "import pandas as pd\n\n\n"
        "def transform(source):\n"
        "    return pd.concat([source, source])\n",
        Expect("error", "ValueError", "transform returned 4 rows for 2 input rows"),
        Expect("error", "ValueError", "transform returned 4 rows for 2 input rows"),
        Expect("error", "ValueError", "transform returned 4 rows for 2 input rows"),
    ),
    Attack(
        "forged_result",
        "import json\n"
        "import os\n"
        "import pandas as pd\n\n\n"
        "def transform(source):\n"
        "    forged = pd.DataFrame({'_line': [2, 3, 4, 5, 6], 'amount': ['1'] * 5})\n"
        "    forged.to_parquet('output.parquet', index=False)\n"
        "    with open('result.json', 'w') as handle:\n"
        "        json.dump({'status': 'ok', 'rows': 5}, handle)\n"
        "    os._exit(0)\n",
        rejected("import of 'json' is not allowed"),
        Expect("error", "InvalidOutput", "the output has 5 rows for 2 input rows"),
        Expect("error", "InvalidOutput", "the output has 5 rows for 2 input rows"),
    ),
    Attack(
        "kill_host_process",
        "import os\n"
        "import signal\n\n\n"
        "def transform(source):\n"
        "    os.kill($sleeper_pid, signal.SIGKILL)\n"
        "    return source\n",
        rejected("import of 'os' is not allowed"),
        Expect("error", "ProcessLookupError", "No such process"),
        Expect("error", "PermissionError", "Operation not permitted"),
    ),
]


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it accepts."""

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received.append(connection.recv(1024) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.server.close()


@dataclass
class Target:
    """What the attacks aim at: secrets in ONBOARD_HOME and the environment, a listener, a process."""

    home: Path
    database: Path
    checkpoints: Path
    outside: Path
    secrets: list[str]
    listener: Listener
    sleeper: subprocess.Popen
    product_digest: str

    def substitutions(self) -> dict[str, str]:
        return {
            "home": repr(str(self.home)),
            "database": repr(str(self.database)),
            "checkpoints": repr(str(self.checkpoints)),
            "outside": repr(str(self.outside)),
            "product_file": repr(str(PRODUCT_FILE)),
            "port": str(self.listener.port),
            "sleeper_pid": str(self.sleeper.pid),
            "test_pid": str(os.getpid()),
        }


def write_database(path: Path, marker: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("create table secrets (value text)")
        connection.execute("insert into secrets values (?)", (marker,))
    connection.close()


@pytest.fixture
def target(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    database_marker = f"CORE-DATABASE-{uuid.uuid4().hex}"
    checkpoint_marker = f"CHECKPOINT-{uuid.uuid4().hex}"
    environment_secret = f"ENVIRONMENT-SECRET-{uuid.uuid4().hex}"
    write_database(home / "core_banking.sqlite", database_marker)
    write_database(home / "checkpoints.sqlite", checkpoint_marker)
    monkeypatch.setenv("ONBOARD_HOME", str(home))
    monkeypatch.setenv("ONBOARD_TEST_SECRET", environment_secret)
    listener = Listener()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    prepared = Target(
        home=home,
        database=home / "core_banking.sqlite",
        checkpoints=home / "checkpoints.sqlite",
        outside=tmp_path / "escaped.txt",
        secrets=[database_marker, checkpoint_marker, environment_secret, PASSWD_FIRST_LINE],
        listener=listener,
        sleeper=sleeper,
        product_digest=hashlib.sha256(PRODUCT_FILE.read_bytes()).hexdigest(),
    )
    yield prepared
    listener.close()
    sleeper.kill()
    sleeper.wait()


def descendants(pid: int, zombies: bool = False) -> list[int]:
    """Return the PIDs of all descendants of `pid` from /proc, zombies only when `zombies`."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if zombies or fields[0] != b"Z":
            parents[int(entry)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, parent_pid in parents.items() if parent_pid == parent]
        found += children
        frontier += children
    return found


def command_line(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def result_text(result: SandboxResult) -> str:
    """Return every text the caller can see from a run, the output file included."""
    parts = [result.stdout, result.stderr, result.message or "", result.traceback or ""]
    if result.output_path:
        parts.append(pd.read_parquet(result.output_path).to_csv())
    return "\n".join(parts)


def run_attack(attack: Attack, target: Target, tmp_path: Path, check_policy: bool, backend: str) -> SandboxResult:
    script = Template(attack.script).substitute(target.substitutions())
    result = run_script(
        script,
        TABLE,
        LINES,
        timeout_s=TIMEOUT_S,
        memory_mb=MEMORY_MB,
        check_policy=check_policy,
        keep_output=tmp_path / "output.parquet",
        file_size_mb=FILE_SIZE_MB,
        backend=backend,
    )
    assert isinstance(result, SandboxResult)
    return result


def assert_expected(result: SandboxResult, expected: Expect) -> None:
    assert result.status == expected.status, (result.error_name, result.message, result.stderr[-2000:])
    assert result.error_name == expected.error_name, (result.message, result.traceback)
    if expected.message:
        assert re.search(expected.message, result.message or ""), result.message


def assert_contained(result: SandboxResult, target: Target) -> None:
    text = result_text(result)
    for secret in target.secrets:
        assert secret not in text
    assert not target.outside.exists()
    assert target.listener.received == []
    assert hashlib.sha256(PRODUCT_FILE.read_bytes()).hexdigest() == target.product_digest
    assert onboard.transforms.parse_date is ORIGINAL_PARSE_DATE
    assert serverless.validation.validate_rows is ORIGINAL_VALIDATE_ROWS
    assert target.sleeper.poll() is None
    assert result.duration_s < TIMEOUT_S + 5


# Processes that were running before the test (servers of other tests, warm function workers).
_STARTED_EARLIER: set[int] = set()


@pytest.fixture(autouse=True)
def _note_earlier_processes():
    _STARTED_EARLIER.clear()
    _STARTED_EARLIER.update(descendants(os.getpid()))
    yield


def assert_no_leftover_processes(keep: set[int]) -> None:
    """Check that no process of the run remains, allowing 3 s for the kernel to finish killing.

    The `subreaper` fixture makes orphans descendants of this test process, so they count too.
    Processes that were already running when the test began are not the run's.
    """
    deadline = time.monotonic() + 3
    while True:
        leftover = [pid for pid in descendants(os.getpid()) if pid not in keep and pid not in _STARTED_EARLIER]
        if not leftover or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert leftover == [], [command_line(pid)[:3] for pid in leftover]


@pytest.fixture(autouse=True)
def subreaper():
    """Make this test process the reaper of orphans, so that an escaped child stays visible."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    for pid in descendants(os.getpid(), zombies=True):
        if pid in _STARTED_EARLIER:
            continue  # another test's server or a warm function worker, not this run's
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            continue


@needs_bwrap
@pytest.mark.parametrize("check_policy", [True, False], ids=["policy", "no_policy"])
@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_contained(attack, check_policy, target, tmp_path):
    result = run_attack(attack, target, tmp_path, check_policy, backend="bwrap")

    assert_expected(result, attack.with_policy if check_policy else attack.without_policy)
    assert_contained(result, target)
    assert_no_leftover_processes(keep={target.sleeper.pid})
    if result.status != "policy_violation":
        assert result.backend == "bwrap"
        assert result.peak_memory_mb > 0


FALLBACK_ATTACKS = [attack for attack in ATTACKS if attack.fallback is not None]


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback confines scripts only when the product runs as root")
@pytest.mark.parametrize("attack", FALLBACK_ATTACKS, ids=[attack.name for attack in FALLBACK_ATTACKS])
def test_attack_contained_by_fallback(attack, target, tmp_path):
    result = run_attack(attack, target, tmp_path, check_policy=False, backend="process")

    assert_expected(result, attack.fallback)
    assert_contained(result, target)
    assert_no_leftover_processes(keep={target.sleeper.pid})
    assert result.backend == "process"
    assert any(line.startswith("NOTE: fallback backend") for line in result.isolation)


@needs_bwrap
def test_fork_bounded_by_process_limit(target, tmp_path):
    attack = next(attack for attack in ATTACKS if attack.name == "fork_until_limit")

    result = run_attack(attack, target, tmp_path, check_policy=False, backend="bwrap")

    forked = int(re.search(r"forked (\d+)", result.message).group(1))
    assert 0 < forked < sandbox.PROCESS_LIMIT


@needs_bwrap
def test_unbounded_print_capped(target, tmp_path):
    attack = next(attack for attack in ATTACKS if attack.name == "unbounded_print")

    result = run_attack(attack, target, tmp_path, check_policy=False, backend="bwrap")

    assert result.stdout_truncated
    assert len(result.stdout.encode()) <= sandbox.OUTPUT_CAP
    assert result.duration_s < TIMEOUT_S


@needs_bwrap
def test_peak_memory_measured(tmp_path):
    script = "def transform(source):\n    block = bytearray(200 * 1024 * 1024)\n    block[::4096] = b'x' * len(block[::4096])\n    return source\n"

    result = run_script(script, TABLE, LINES, timeout_s=TIMEOUT_S, memory_mb=1024, keep_output=tmp_path / "out.parquet", backend="bwrap")

    assert result.status == "ok", result.message
    assert 200 < result.peak_memory_mb < 1024


@needs_bwrap
def test_isolation_reported(tmp_path):
    script = "def transform(source):\n    return source\n"

    result = run_script(script, TABLE, LINES, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB, keep_output=tmp_path / "out.parquet", backend="bwrap")

    assert result.status == "ok", result.message
    assert result.rows == 2
    assert result.exit_status == 0
    assert result.backend == "bwrap"
    assert "no network (empty network namespace)" in result.isolation
    assert any(line.startswith(("runs as an unprivileged user of its own", "runs as nobody in a user namespace")) for line in result.isolation)


@needs_bwrap
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is written for x86_64 only")
def test_seccomp_reported(tmp_path):
    script = "def transform(source):\n    return source\n"

    result = run_script(script, TABLE, LINES, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB, keep_output=tmp_path / "out.parquet", backend="bwrap")

    assert any(line.startswith("seccomp: no new namespaces") for line in result.isolation)
    assert not any(line.startswith("NOTE") for line in result.isolation)


# The import policy's rules beyond imports and builtins


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("return source._mgr", "private attribute '_mgr'"),
        ("return '{0.__class__}'.format(source)", "a string containing '__'"),
        ("return '{0}'.format(source)", "attribute 'format'"),
        ("return (x for x in []).gi_frame.f_globals", "attribute 'gi_frame'"),
        ("return pd.eval('1 + 1')", "attribute 'eval'"),
        ("return source.query('Bedrag > 0')", "attribute 'query'"),
        ("return pa.OSFile('/etc/passwd')", "file or process access through 'OSFile'"),
        ("return np.lib.format.open_memmap('x.npy')", "attribute 'lib'"),
        ("return pd.read_orc('x.orc')", "file or process access through 'read_orc'"),
        ("return source.to_string('x.txt')", "file or process access through 'to_string'"),
        ("return source.to_stata('x.dta')", "file or process access through 'to_stata'"),
        ("return t.v.re.enum.sys.modules", "attribute 'sys'"),
        ("pd.DataFrame.head = None\n    return source", "changing attribute 'head' of imported module 'pd'"),
        ("del t.copy\n    return source", "changing attribute 'copy' of imported module 't'"),
    ],
    ids=[
        "private", "format_dunder", "format", "frame", "pandas_eval", "query", "arrow_file", "numpy_lib",
        "read_prefix", "to_string", "to_prefix", "module_walk", "patch_pandas", "delete_helper",
    ],
)
def test_policy_rejects_escape(body, problem):
    script = "import numpy as np\nimport pandas as pd\nimport pyarrow as pa\nfrom onboard import transforms as t\n\n\ndef transform(source):\n    " + body + "\n"

    problems = check_script(script)

    assert any(problem in found for found in problems), problems


def test_policy_rejects_dunder_method():
    script = "class Payload:\n    def __reduce__(self):\n        return (print, ())\n\n\ndef transform(source):\n    return source\n"

    assert check_script(script) == ["line 2: definition of '__reduce__' is not allowed"]


def test_policy_allows_in_memory_conversions():
    script = (
        '"""Docstrings may mention __init__."""\n\n'
        "import pandas as pd\nfrom onboard import transforms as t\n\n\n"
        "def transform(source):\n"
        "    out = pd.DataFrame(index=source.index)\n"
        "    out['date'] = pd.to_datetime(source['Datum'], format='%d.%m.%Y').dt.strftime('%Y-%m-%d')\n"
        "    out['amount'] = pd.to_numeric(source['Bedrag']).to_numpy()\n"
        "    out.columns = [c.upper() for c in out.columns]\n"
        "    return out\n"
    )

    assert check_script(script) == []


# Faults: the sandbox process killed from outside

SLEEP_SCRIPT = "import time\n\n\ndef transform(source):\n    time.sleep(30)\n    return source\n"


def kill_when_started(predicate, signal_number: int, killed: list[list[str]]) -> None:
    """Wait for a descendant process matching `predicate` and send it `signal_number`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for pid in descendants(os.getpid()):
            arguments = command_line(pid)
            if predicate(arguments):
                time.sleep(0.5)
                os.kill(pid, signal_number)
                killed.append(arguments)
                return
        time.sleep(0.05)


def is_runner(arguments: list[str]) -> bool:
    return any(a.endswith("sandbox_runner.py") for a in arguments) and "--path" in arguments and "--init" not in arguments


def is_bwrap(arguments: list[str]) -> bool:
    return bool(arguments) and os.path.basename(arguments[0]) == "bwrap"


@pytest.mark.parametrize(
    ("backend", "predicate", "exit_status"),
    [
        pytest.param("bwrap", is_runner, 128 + signal.SIGKILL, marks=needs_bwrap, id="bwrap_runner"),
        pytest.param("bwrap", is_bwrap, -signal.SIGKILL, marks=needs_bwrap, id="bwrap_itself"),
        pytest.param("process", is_runner, -signal.SIGKILL, id="process_runner"),
    ],
)
def test_sandbox_killed_mid_run(backend, predicate, exit_status, tmp_path):
    killed: list[list[str]] = []
    killer = threading.Thread(target=kill_when_started, args=(predicate, signal.SIGKILL, killed))
    killer.start()

    result = run_script(SLEEP_SCRIPT, TABLE, LINES, timeout_s=20, memory_mb=MEMORY_MB, check_policy=False, keep_output=tmp_path / "out.parquet", backend=backend)
    killer.join()

    assert killed, "the sandbox process was not found"
    assert result.status == "killed"
    assert result.error_name == "ProcessKilled"
    assert result.exit_status == exit_status
    assert result.output_path is None
    assert result.duration_s < 15
    assert_no_leftover_processes(keep=set())


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="per-sandbox user ids are used when the product runs as root")
def test_fork_bomb_does_not_starve_a_concurrent_sandbox(tmp_path):
    """A fork bomb fills its own process budget; a sandbox started beside it still runs."""
    import threading

    bomb = next(attack for attack in ATTACKS if attack.name == "fork_bomb")
    outcome = {}

    def run_bomb():
        outcome["bomb"] = run_script(bomb.script, TABLE, LINES, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB, check_policy=False,
                                     keep_output=tmp_path / "bomb.parquet", backend="bwrap")

    thread = threading.Thread(target=run_bomb)
    thread.start()
    time.sleep(1.5)  # the bomb has reached its process limit by now
    normal = run_script("def transform(source):\n    return source\n", TABLE, LINES, timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB,
                        keep_output=tmp_path / "normal.parquet", backend="bwrap")
    thread.join()

    assert normal.status == "ok", normal.message
    assert normal.rows == 2
    assert outcome["bomb"].status == "timeout"

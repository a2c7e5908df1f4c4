"""The resources optimizer: CPU, memory, swap, disks and network from psutil.

Samples go into bounded rings (60 s at the refresh rate) that each snapshot carries as
tuples, so the pane draws graphs without touching psutil.
"""

from __future__ import annotations

import itertools
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import psutil

from luciq_tui.core.optimizer import (
    ActionRefused,
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
)

HISTORY_SECONDS = 60
PROCESS_SCAN_BUDGET = 0.002  # of one core: the most the process table may cost
SERIES = ("cpu", "memory", "swap", "net_rx", "net_tx", "disk_read", "disk_write")
IGNORED_FSTYPES = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "nsfs"}


@dataclass(frozen=True)
class MountUsage:
    mountpoint: str
    fstype: str
    total: int
    used: int
    percent: float


@dataclass(frozen=True)
class ProcessRow:
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: int
    readable: bool = True
    rss_growth: int = 0  # bytes over the window
    leak_suspect: bool = False  # RSS only grew over the window
    create_time: float = 0.0


@dataclass(frozen=True)
class ResourcesSnapshot:
    """One sample of the machine, plus the last minute of history for the graphs."""

    timestamp: float
    hostname: str
    uptime_s: float
    cpu_percent: float
    per_core: tuple[float, ...]
    load: tuple[float, float, float]
    memory_total: int
    memory_used: int
    memory_available: int
    memory_percent: float
    swap_total: int
    swap_used: int
    swap_percent: float
    disk_read_bps: float
    disk_write_bps: float
    net_rx_bps: float
    net_tx_bps: float
    mounts: tuple[MountUsage, ...]
    processes: tuple[ProcessRow, ...]
    history: dict[str, tuple[float, ...]] = field(default_factory=dict)
    interval: float = 1.0
    pressure: dict[str, float] = field(default_factory=dict)


def read_meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    """`/proc/meminfo` in bytes; empty where the file does not exist."""
    values: dict[str, int] = {}
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts:
                    values[key] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    except OSError:
        pass
    return values


class ResourcesOptimizer(Optimizer[ResourcesSnapshot]):
    """Samples the machine and offers the operator's relief command."""

    name = "resources"

    def __init__(
        self,
        interval: float = 1.0,
        relief_command: tuple[str, ...] = (),
        relief_timeout: float = 30.0,
        process_every: int = 3,
        clock: Callable[[], float] = time.monotonic,
        scan: Callable[[], list[ProcessRow]] | None = None,
    ) -> None:
        self.interval = interval
        self.relief_command = relief_command
        self.relief_timeout = relief_timeout
        self.process_every = max(1, process_every)
        self.clock = clock
        size = max(2, int(HISTORY_SECONDS / interval))
        self._rings: dict[str, deque[float]] = {name: deque(maxlen=size) for name in SERIES}
        self._last_io: tuple[float, int, int, int, int] | None = None
        self._processes: tuple[ProcessRow, ...] = ()
        self._tracker = ProcessTracker()
        if scan is None:
            scan = ProcScanner().scan if ProcScanner.available() else scan_processes
        self._scan = scan
        self._mounts: tuple[MountUsage, ...] = ()
        self._ticks = 0
        self._next_scan = 0.0
        self._hostname = socket.gethostname()
        self._boot = psutil.boot_time()
        psutil.cpu_percent(percpu=True)  # prime: the first call has nothing to compare with

    def observe(self) -> ResourcesSnapshot:
        now = self.clock()
        per_core = tuple(psutil.cpu_percent(percpu=True))
        cpu = sum(per_core) / len(per_core) if per_core else 0.0
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        disk = psutil.disk_io_counters()
        net = psutil.net_io_counters()
        rates = self._rates(now, disk, net)
        try:
            load = os.getloadavg()
        except OSError:
            load = (0.0, 0.0, 0.0)
        if now >= self._next_scan:
            started = time.thread_time()
            self._processes = self._tracker.update(self._scan())
            # Every `process_every` samples, or less often when there are so many processes
            # that a scan would cost more than PROCESS_SCAN_BUDGET of one core.
            period = max(self.process_every * self.interval,
                         (time.thread_time() - started) / PROCESS_SCAN_BUDGET)
            self._next_scan = now + period - self.interval / 2
        if self._ticks % 10 == 0:  # disk usage changes slowly: every 10th sample
            self._mounts = mount_usage()
        self._ticks += 1
        sample = {
            "cpu": cpu,
            "memory": memory.percent,
            "swap": swap.percent,
            "net_rx": rates[2],
            "net_tx": rates[3],
            "disk_read": rates[0],
            "disk_write": rates[1],
        }
        for name, value in sample.items():
            self._rings[name].append(value)
        return ResourcesSnapshot(
            timestamp=time.time(),
            hostname=self._hostname,
            uptime_s=time.time() - self._boot,
            cpu_percent=cpu,
            per_core=per_core,
            load=(load[0], load[1], load[2]),
            memory_total=memory.total,
            memory_used=memory.total - memory.available,
            memory_available=memory.available,
            memory_percent=memory.percent,
            swap_total=swap.total,
            swap_used=swap.used,
            swap_percent=swap.percent,
            disk_read_bps=rates[0],
            disk_write_bps=rates[1],
            net_rx_bps=rates[2],
            net_tx_bps=rates[3],
            mounts=self._mounts,
            processes=self._processes,
            history={name: tuple(ring) for name, ring in self._rings.items()},
            interval=self.interval,
            pressure=read_pressure(),
        )

    def _rates(self, now: float, disk: object, net: object) -> tuple[float, float, float, float]:
        counters = (
            getattr(disk, "read_bytes", 0),
            getattr(disk, "write_bytes", 0),
            getattr(net, "bytes_recv", 0),
            getattr(net, "bytes_sent", 0),
        )
        last, self._last_io = self._last_io, (now, *counters)
        if last is None or now <= last[0]:
            return (0.0, 0.0, 0.0, 0.0)
        elapsed = now - last[0]
        rates = [max(0.0, (value - before) / elapsed) for value, before in zip(counters, last[1:],
                                                                                strict=True)]
        return (rates[0], rates[1], rates[2], rates[3])

    def metrics(self, snapshot: ResourcesSnapshot) -> dict[str, float]:
        values = {
            "cpu.percent": snapshot.cpu_percent,
            "load.1m": snapshot.load[0],
            "memory.percent": snapshot.memory_percent,
            "memory.available_bytes": float(snapshot.memory_available),
            "swap.percent": snapshot.swap_percent,
            "disk.read_bps": snapshot.disk_read_bps,
            "disk.write_bps": snapshot.disk_write_bps,
            "net.rx_bps": snapshot.net_rx_bps,
            "net.tx_bps": snapshot.net_tx_bps,
        }
        for mount in snapshot.mounts:
            values[f"disk.{mount.mountpoint}.percent"] = mount.percent
        for resource, share in snapshot.pressure.items():
            values[f"pressure.{resource}.avg10"] = share
        return values

    def actions(self, snapshot: ResourcesSnapshot | None) -> tuple[ActionSpec, ...]:
        configured = bool(self.relief_command)
        root = os.geteuid() == 0
        return (
            ActionSpec(self.name, "terminate", "Terminate process (SIGTERM)", "t", "",
                       "Ask the process selected in the Resources pane to exit.",
                       reason="select the process in Resources, then t"),
            ActionSpec(self.name, "kill", "Kill process (SIGKILL)", "K", "",
                       "Kill the process selected in the Resources pane; it cannot clean up.",
                       reason="select the process in Resources, then K"),
            ActionSpec(self.name, "drop_caches", "Drop page cache", "D", "",
                       "sync, then write 1 to /proc/sys/vm/drop_caches (root only).",
                       available=root, reason="" if root else "needs root"),
            ActionSpec(
                optimizer=self.name,
                name="relief",
                title="Run relief command",
                key="r",
                description="Run the operator's configured memory-relief command (no shell).",
                available=configured,
                reason="" if configured else "no resources.relief_command is configured",
            ),
        )

    def preview(self, action: ActionSpec) -> Preview:
        if action.name in ("terminate", "kill"):
            return self._preview_signal(action)
        if action.name == "drop_caches":
            if os.geteuid() != 0:
                raise ActionRefused("dropping the page cache needs root")
            cached = read_meminfo().get("Cached", 0)
            return Preview(
                action, "Flush dirty pages, then drop the page cache",
                ("sync()", "echo 1 > /proc/sys/vm/drop_caches"),
                cost=f"frees about {cached / 2**20:.0f} MiB of page cache",
                warnings=("This frees cache, not application memory: MemAvailable already "
                          "counts reclaimable cache, and the kernel drops it by itself under "
                          "pressure.",
                          "The next reads of every cached file go to disk: usually slower.",),
            )
        if action.name != "relief":
            raise ActionRefused(f"unknown action {action.name!r}")
        if not self.relief_command:
            raise ActionRefused("no resources.relief_command is configured")
        return Preview(
            action=action,
            summary="Run the configured relief command, without a shell",
            details=("argv: " + " ".join(repr(part) for part in self.relief_command),),
            cost=f"runs for at most {self.relief_timeout:g} s; output goes to the action log",
            warnings=("The command runs with Luciq's own user and permissions.",),
            payload=self.relief_command,
        )

    def _preview_signal(self, action: ActionSpec) -> Preview:
        try:
            pid = int(action.target)
            process = psutil.Process(pid)
            with process.oneshot():
                name, user = process.name(), process.username()
                created, rss = process.create_time(), process.memory_info().rss
                command = " ".join(process.cmdline()) or name
        except ValueError:
            raise ActionRefused("select a process in the Resources pane first") from None
        except psutil.NoSuchProcess:
            raise ActionRefused(f"process {action.target} is gone") from None
        except psutil.AccessDenied:
            raise ActionRefused(f"process {action.target}: permission denied") from None
        if pid in (1, os.getpid()):
            raise ActionRefused(f"refusing to signal PID {pid} ({name})")
        signal_name = "SIGTERM" if action.name == "terminate" else "SIGKILL"
        return Preview(
            action, f"Send {signal_name} to {name} (PID {pid}, owner {user})",
            (f"kill -{signal_name[3:]} {pid}", f"command: {command[:200]}",
             f"RSS {rss / 2**20:.1f} MiB"),
            cost="the process stops; its work in progress is lost"
                 + ("" if action.name == "terminate" else ", without a chance to clean up"),
            warnings=("Check that nothing restarts it in a loop (systemd, a supervisor).",),
            payload=(pid, created, int(signal.SIGTERM if action.name == "terminate"
                                       else signal.SIGKILL)),
        )

    def execute(
        self, preview: Preview, progress: ProgressCallback, cancel: threading.Event
    ) -> ActionResult:
        if preview.action.name in ("terminate", "kill"):
            return self._signal(preview, progress, cancel)
        if preview.action.name == "drop_caches":
            before = _memory_figures() | {"cached_bytes": read_meminfo().get("Cached", 0)}
            progress(None, "sync")
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as handle:
                handle.write("1\n")
            after = _memory_figures() | {"cached_bytes": read_meminfo().get("Cached", 0)}
            freed = before["cached_bytes"] - after["cached_bytes"]
            return ActionResult(preview.action, True,
                                f"page cache {freed / 2**20:+.0f} MiB freed (Cached in "
                                "/proc/meminfo, before and after)", before=before, after=after)
        argv = [str(part) for part in preview.payload]
        before = _memory_figures()
        progress(None, f"running {argv[0]}")
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                argv, shell=False, capture_output=True, text=True, timeout=self.relief_timeout,
                check=False, stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            return ActionResult(preview.action, False, f"failed: {argv[0]} not found",
                                before=before)
        except subprocess.TimeoutExpired as expired:
            return ActionResult(preview.action, False,
                                f"failed: timed out after {expired.timeout:g} s", before=before)
        duration = time.perf_counter() - started
        after = _memory_figures()
        output = (completed.stdout + completed.stderr)[-4000:]
        freed = after["available_bytes"] - before["available_bytes"]
        ok = completed.returncode == 0
        summary = (
            f"exit {completed.returncode}; available memory {freed / 2**20:+.1f} MiB, "
            f"dirty {(after['dirty_bytes'] - before['dirty_bytes']) / 2**20:+.1f} MiB "
            "(measured from /proc/meminfo before and after)"
        )
        return ActionResult(preview.action, ok, summary, before=before, after=after,
                            output=output, duration_s=duration)

    def _signal(self, preview: Preview, progress: ProgressCallback,
                cancel: threading.Event) -> ActionResult:
        pid, created, number = (int(preview.payload[0]), float(preview.payload[1]),
                                int(preview.payload[2]))
        try:
            process = psutil.Process(pid)
            if process.create_time() != created:
                raise ActionRefused(f"PID {pid} is now another process; nothing sent")
            before = _memory_figures()
            process.send_signal(number)
        except psutil.NoSuchProcess:
            return ActionResult(preview.action, True, f"PID {pid} had already exited")
        except psutil.AccessDenied:
            raise ActionRefused(f"PID {pid}: permission denied") from None
        progress(None, f"waiting for PID {pid} to exit")
        try:
            process.wait(timeout=5)
            gone = True
        except psutil.TimeoutExpired:
            gone = False
        after = _memory_figures()
        freed = after["available_bytes"] - before["available_bytes"]
        name = signal.Signals(number).name
        summary = (f"sent {name} to PID {pid}; " + ("it exited" if gone else
                                                    "still running after 5 s")
                   + f"; available memory {freed / 2**20:+.1f} MiB")
        return ActionResult(preview.action, gone, summary, before=before, after=after)


def _memory_figures() -> dict[str, int]:
    """MemAvailable and Dirty, in bytes."""
    info = read_meminfo()
    return {
        "available_bytes": info.get("MemAvailable", psutil.virtual_memory().available),
        "dirty_bytes": info.get("Dirty", 0),
    }


def mount_usage() -> tuple[MountUsage, ...]:
    """Usage of each real mounted filesystem (pseudo and read-only images skipped)."""
    mounts = []
    seen: set[str] = set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in IGNORED_FSTYPES or part.device in seen:
            continue
        seen.add(part.device)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        mounts.append(MountUsage(part.mountpoint, part.fstype, usage.total, usage.used,
                                 usage.percent))
    if not mounts:
        try:
            usage = psutil.disk_usage("/")
            mounts.append(MountUsage("/", "", usage.total, usage.used, usage.percent))
        except OSError:
            pass
    return tuple(mounts[:8])


def scan_processes() -> list[ProcessRow]:
    """Every process, through psutil (the portable path; see `ProcScanner` for Linux).
    Ones psutil cannot read (another user's, as non-root) show as such."""
    rows = []
    for process in psutil.process_iter(["pid", "name", "username", "cpu_percent",
                                        "memory_info", "create_time"]):
        info = process.info
        memory = info.get("memory_info")
        rows.append(ProcessRow(
            pid=int(info["pid"]),
            name=str(info.get("name") or "?"),
            user=str(info.get("username") or "(no access)"),
            cpu_percent=float(info.get("cpu_percent") or 0.0),
            rss=int(memory.rss) if memory is not None else 0,
            readable=memory is not None,
            create_time=float(info.get("create_time") or 0.0),
        ))
    return rows


class ProcScanner:
    """Every process from `/proc/PID/stat` alone: one read per process per scan, where
    psutil's per-attribute calls cost about 90 µs a process here (6 ms for 66 processes,
    near 100 ms with 1,000 more). CPU % is the (utime + stime) ticks since the last scan,
    as % of one core, like psutil's; the owner is the uid of `/proc/PID`, looked up once
    per process."""

    def __init__(self, proc: str = "/proc", clock: Callable[[], float] = time.monotonic) -> None:
        self.proc = proc
        self.clock = clock
        self._ticks_per_s = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._boot = psutil.boot_time()
        self._last: dict[tuple[int, int], int] = {}  # (pid, start ticks) → cpu ticks
        self._last_at = 0.0
        self._owners: dict[tuple[int, int], str] = {}
        self._names: dict[int, str] = {}

    @staticmethod
    def available(proc: str = "/proc") -> bool:
        return os.path.exists(os.path.join(proc, "self", "stat"))

    def _owner(self, pid: int, key: tuple[int, int]) -> str:
        owner = self._owners.get(key)
        if owner is None:
            try:
                uid = os.stat(os.path.join(self.proc, str(pid))).st_uid
            except OSError:
                return "(gone)"
            name = self._names.get(uid)
            if name is None:
                try:
                    name = pwd.getpwuid(uid).pw_name
                except KeyError:
                    name = str(uid)
                self._names[uid] = name
            owner = self._owners[key] = name
        return owner

    def scan(self) -> list[ProcessRow]:
        now = self.clock()
        elapsed = now - self._last_at if self._last_at else 0.0
        current: dict[tuple[int, int], int] = {}
        rows = []
        for entry in os.listdir(self.proc):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:  # os.open/os.read: half the cost of open() and its buffered reader
                handle = os.open(os.path.join(self.proc, entry, "stat"), os.O_RDONLY)
                try:
                    data = os.read(handle, 4096)
                finally:
                    os.close(handle)
            except FileNotFoundError:
                continue  # exited between the listing and the read
            except OSError:
                rows.append(ProcessRow(pid, "?", "(no access)", 0.0, 0, readable=False))
                continue
            close = data.rfind(b")")
            name = data[data.find(b"(") + 1:close].decode("utf-8", "replace")
            fields = data[close + 2:].split()
            try:
                ticks = int(fields[11]) + int(fields[12])
                start, rss_pages = int(fields[19]), int(fields[21])
            except (IndexError, ValueError):
                continue
            key = (pid, start)
            current[key] = ticks
            before = self._last.get(key)
            cpu = 0.0
            if before is not None and elapsed > 0:
                cpu = (ticks - before) / self._ticks_per_s / elapsed * 100
            rows.append(ProcessRow(pid, name, self._owner(pid, key), cpu, rss_pages * self._page,
                                   create_time=self._boot + start / self._ticks_per_s))
        self._last, self._last_at = current, now
        self._owners = {key: owner for key, owner in self._owners.items() if key in current}
        return rows


class ProcessTracker:
    """Keeps each process's RSS over the window, to tell growth and leak suspects."""

    def __init__(self, samples: int = 20, limit: int = 15) -> None:
        self.samples = samples
        self.limit = limit
        # An array of machine integers per process, not a deque of int objects: a fifth of
        # the memory, which counts with a thousand processes.
        self._rss: dict[tuple[int, float], array[int]] = {}

    def update(self, rows: list[ProcessRow]) -> tuple[ProcessRow, ...]:
        """The top processes by CPU and by memory, with their growth over the window."""
        kept: dict[tuple[int, float], array[int]] = {}
        for row in rows:
            if row.readable:
                key = (row.pid, row.create_time)
                history = kept[key] = self._rss.get(key) or array("q")
                history.append(row.rss)
                if len(history) > self.samples:
                    del history[0]
        self._rss = kept  # processes that exited are dropped
        by_cpu = sorted(rows, key=lambda r: (r.cpu_percent, r.rss), reverse=True)[:self.limit]
        by_rss = sorted(rows, key=lambda r: r.rss, reverse=True)[:self.limit]
        chosen = {row.pid: row for row in (*by_cpu, *by_rss)}
        result = []
        for row in chosen.values():
            history = self._rss.get((row.pid, row.create_time)) or array("q")
            growth = history[-1] - history[0] if len(history) > 1 else 0
            rises = sum(1 for a, b in itertools.pairwise(history) if b > a)
            never_falls = all(b >= a for a, b in itertools.pairwise(history))
            # A whole window of samples: a process that just started grows as it warms up.
            suspect = (len(history) >= self.samples and never_falls and rises >= 3
                       and growth >= 2**20)
            result.append(replace(row, rss_growth=growth, leak_suspect=suspect))
        return tuple(result)


def read_pressure(folder: str = "/proc/pressure") -> dict[str, float]:
    """PSI "some avg10" for cpu, memory and io: the share of the last 10 s in which some task
    waited for that resource. Empty where the kernel has no PSI."""
    values = {}
    for resource in ("cpu", "memory", "io"):
        try:
            with open(os.path.join(folder, resource), encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("some"):
                        fields = dict(part.split("=") for part in line.split()[1:])
                        values[resource] = float(fields["avg10"])
        except (OSError, ValueError, KeyError):
            continue
    return values

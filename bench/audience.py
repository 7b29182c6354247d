"""Audience import benchmark: validation speed, full import, peak memory.

    .venv/bin/python -m bench.audience              # 1,000,000 rows, writes docs/benchmarks.md
    .venv/bin/python -m bench.audience --rows 50000 --no-write

Generates a CSV (phone and email on every row, numbers from 20 countries in
E.164, international and national formats, 5% invalid values, 3% duplicates)
in a temporary directory, then measures, each in a fresh child process so
that peak memory is that measurement's alone:

* the raw library ceiling: ``phonenumbers`` (parse + validate + format) and
  ``email-validator`` on one core, on the file's own values;
* validation alone (read, validate, find duplicates, summarise), in rows/s;
* the full import into SQLite and into PostgreSQL (``HERALD_BENCH_DATABASE_URL``,
  default postgresql://postgres@127.0.0.1:5432/test; a database is created
  for the run and dropped after).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 1_000_000
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- bench:audience:start -->", "<!-- bench:audience:end -->"
CEILING_SAMPLE = 20_000

# Mobile numbers: (region, country code, leading digits, random digits after them),
# chosen so that every generated number is valid.
COUNTRIES = [
    ("US", "1", "2012", 6),
    ("GB", "44", "7400", 6),
    ("DE", "49", "1512", 7),
    ("FR", "33", "61", 7),
    ("ES", "34", "6", 8),
    ("IT", "39", "312", 7),
    ("IN", "91", "81", 8),
    ("BR", "55", "1196", 7),
    ("MX", "52", "222", 7),
    ("NG", "234", "802", 7),
    ("ZA", "27", "71", 7),
    ("AU", "61", "41", 7),
    ("JP", "81", "901", 7),
    ("CN", "86", "131", 8),
    ("NL", "31", "61", 7),
    ("SE", "46", "70", 7),
    ("PL", "48", "5", 8),
    ("KE", "254", "712", 6),
    ("GH", "233", "23", 7),
    ("CA", "1", "4162", 6),
]
FIRST = ["Alex", "Jamie", "Priya", "José", "Zoë", "Chen", "Amara", "Lars", "Fatima", "Noah"]
LAST = ["Doe", "Shaw", "Singh", "Núñez", "Müller", "Wang", "Okafor", "Berg", "Haddad", "Smith"]
CITIES = ["London", "Málaga", "Berlin", "Lagos", "Toronto", "Mumbai", "Osaka", "Paris, 11e"]
BAD_PHONES = ["12345", "+1 202 555 01", "+999 1234 5678", "not a phone", "+44 20 7183 8750 99"]
BAD_EMAILS = ["jane.doe@", "no-at-sign.example.com", "a..b@example.com", "x@example..com", "@x.com"]


def _phone(rng: random.Random, index: int) -> str:
    region, code, prefix, extra = COUNTRIES[index % len(COUNTRIES)]
    # A multiplier prime to 10 permutes the numbers: distinct rows, distinct phones.
    serial = (index // len(COUNTRIES) * 7919) % 10**extra
    national = prefix + str(serial).zfill(extra)
    style = rng.random()
    if style < 0.7:
        return f"+{code}{national}"
    if style < 0.9:
        return f"+{code} {national[:3]} {national[3:6]} {national[6:]}".rstrip()
    if region == "US":  # national format, read with the default region US
        return f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return f"+{code}-{national}"


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def generate(path: Path, rows: int, seed: int = 20_240_912) -> None:
    """Write the benchmark CSV: 5% invalid values, 3% duplicates of earlier rows."""
    rng = random.Random(seed)
    earlier: list[tuple[str, str]] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,phone,first_name,last_name,city,appointment_date\r\n")
        for index in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{_ascii(first)}.{_ascii(last)}{index}@example{index % 97}.com"
            phone = _phone(rng, index)
            roll = rng.random()
            if roll < 0.02:
                phone = rng.choice(BAD_PHONES)
            elif roll < 0.04:
                email = rng.choice(BAD_EMAILS)
            elif roll < 0.05:
                phone, email = rng.choice(BAD_PHONES), rng.choice(BAD_EMAILS)
            elif roll < 0.08 and earlier:
                email, phone = rng.choice(earlier)
                email = email.upper()
            elif len(earlier) < 10_000:
                earlier.append((email, phone))
            city = rng.choice(CITIES)
            day = 1 + index % 28
            city_cell = f'"{city}"' if "," in city else city
            out.write(f"{email},{phone},{first},{last},{city_cell},2025-03-{day:02d}\r\n")


class Usage:
    """CPU time and peak memory of this process and its worker processes.

    Worker memory is sampled from ``/proc`` (VmHWM): ``RUSAGE_CHILDREN`` cannot
    be used for it, because a spawned worker is forked before it executes a
    fresh interpreter, and for that instant it is charged with all of the
    parent's memory. CPU time is the same whatever else runs on the machine,
    so it shows what the code costs even when the wall clock is disturbed.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self._cpu = time.process_time()
        self._children = _children_cpu()
        self.peaks: dict[int, int] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self._interval):
            children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            for pid in map(int, children):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                if b"multiprocessing" not in command:
                    continue  # forked but not yet a fresh interpreter: the parent's pages
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        kilobytes = int(line.split()[1])
                        self.peaks[pid] = max(self.peaks.get(pid, 0), kilobytes)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = sorted(self.peaks.values(), reverse=True)
        return {
            "cpu_main_s": round(time.process_time() - self._cpu, 1),
            "cpu_workers_s": round(_children_cpu() - self._children, 1),
            "peak_main_mb": round(own, 1),
            "peak_worker_mb": round(workers[0] / 1024, 1) if workers else 0.0,
            "peak_total_mb": round(own + sum(workers) / 1024, 1),
        }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_ceiling(path: Path) -> dict[str, Any]:
    import csv

    import phonenumbers
    from email_validator import EmailNotValidError, validate_email

    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        rows = [row for _, row in zip(range(CEILING_SAMPLE), reader, strict=False)]
    started = time.perf_counter()
    for row in rows:
        try:
            number = phonenumbers.parse(row[1], "US")
            if phonenumbers.is_valid_number(number):
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    phones = len(rows) / (time.perf_counter() - started)
    started = time.perf_counter()
    for row in rows:
        with contextlib.suppress(EmailNotValidError):
            validate_email(row[0], check_deliverability=False)
    emails = len(rows) / (time.perf_counter() - started)
    return {"phonenumbers_per_s": round(phones), "email_validator_per_s": round(emails)}


def measure_validation(path: Path, workers: int) -> dict[str, Any]:
    from herald.domain.audience.pipeline import AudienceCheck
    from herald.services.batch_map import ProcessMap

    usage = Usage()
    started = time.perf_counter()
    with path.open("rb") as stream:
        check = AudienceCheck(
            stream,
            default_region="US",
            map_batches=ProcessMap(workers),
            size_hint=path.stat().st_size,
        )
        for _ in check.outcomes():
            pass
        summary = check.summary()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "summary": summary.as_dict(), **usage.stop()}


def measure_import(path: Path, url: str, workers: int) -> dict[str, Any]:
    from herald.services.audiences import import_audience
    from herald.store.database import create_database_engine
    from herald.store.migrate import upgrade_database
    from herald.testing import FakeClock

    engine = create_database_engine(url)
    upgrade_database(engine)
    usage = Usage()
    started = time.perf_counter()
    imported = import_audience(
        engine, path, name="bench", clock=FakeClock(), default_region="US", workers=workers
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    contacts = imported.summary.valid_contacts
    return {"seconds": round(seconds, 2), "contacts": contacts, **usage.stop()}


def _child(*args: str) -> dict[str, Any]:
    """One measurement in a fresh interpreter, with the machine's load before it."""
    load = os.getloadavg()[0]
    command = [sys.executable, "-m", "bench.audience", "measure", *args]
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_before"] = round(load, 2)
    return result


def _postgres_database(admin_url: str, create: bool, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from herald.store.database import normalize_database_url

    url = normalize_database_url(admin_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if create:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def run(rows: int, workers: int, postgres_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        path = Path(tmp) / "audience.csv"
        started = time.perf_counter()
        generate(path, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        results: dict[str, Any] = {"rows": rows, "workers": workers, "bytes": path.stat().st_size}
        results["ceiling"] = _child("ceiling", str(path))
        print("ceiling", results["ceiling"], flush=True)
        results["validation"] = _child("validate", str(path), str(workers))
        print("validation", {k: v for k, v in results["validation"].items() if k != "summary"})
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        results["sqlite"] = _child("import", str(path), sqlite_url, str(workers))
        print("sqlite", results["sqlite"], flush=True)
        if postgres_url:
            name = f"herald_bench_{uuid.uuid4().hex[:8]}"
            url = _postgres_database(postgres_url, True, name)
            try:
                results["postgresql"] = _child("import", str(path), url, str(workers))
            finally:
                _postgres_database(postgres_url, False, name)
            print("postgresql", results["postgresql"], flush=True)
    return results


def _cpu(result: dict[str, Any], rows: int) -> str:
    main, workers = result["cpu_main_s"], result["cpu_workers_s"]
    return f"{main} s / {workers} s ({(main + workers) * 1e6 / rows:.0f} µs per row)"


_BOUNDED = (
    ("validation", "validation"),
    ("sqlite", "SQLite import"),
    ("postgresql", "PostgreSQL import"),
)


def _bound(name: str, result: dict[str, Any], rows: int) -> str:
    """The shortest wall time the measured CPU times allow on two idle cores."""
    main, workers = result["cpu_main_s"], result["cpu_workers_s"]
    seconds = max(main, (main + workers) / 2)
    return f"{name} {seconds:.0f} s ({rows / seconds:,.0f} rows/s)"


def _memory(result: dict[str, Any]) -> str:
    return (
        f"{result['peak_main_mb']} MB / {result['peak_worker_mb']} MB / "
        f"{result['peak_total_mb']} MB"
    )


def render(results: dict[str, Any]) -> str:
    rows = results["rows"]
    ceiling = results["ceiling"]
    validation = results["validation"]
    rate = rows / validation["seconds"]
    summary = validation["summary"]
    lines = [
        START,
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"{results['workers']} validation workers; file of {rows:,} rows "
        f"({results['bytes'] / 1e6:.0f} MB).",
        "",
        "| measurement | result | CPU time: main / workers "
        "| peak RSS: main / largest worker / all |",
        "| --- | --- | --- | --- |",
        f"| phonenumbers alone, 1 core (parse + validate + format) | "
        f"{ceiling['phonenumbers_per_s']:,} numbers/s | - | - |",
        f"| email-validator alone, 1 core | {ceiling['email_validator_per_s']:,} addresses/s "
        "| - | - |",
        f"| validation (read, validate, duplicates, summary) | {validation['seconds']} s = "
        f"**{rate:,.0f} rows/s** ({rate / ceiling['phonenumbers_per_s']:.1f}x phonenumbers, "
        f"{rate / ceiling['email_validator_per_s']:.1f}x email-validator) | "
        f"{_cpu(validation, rows)} | {_memory(validation)} |",
    ]
    for backend in ("sqlite", "postgresql"):
        if backend in results:
            r = results[backend]
            lines.append(
                f"| import into {'SQLite' if backend == 'sqlite' else 'PostgreSQL (COPY)'} | "
                f"**{r['seconds']} s** ({rows / r['seconds']:,.0f} rows/s, "
                f"{r['contacts']:,} contacts) | {_cpu(r, rows)} | {_memory(r)} |"
            )
    loads = [
        results[k]["load_before"]
        for k in ("ceiling", "validation", "sqlite", "postgresql")
        if k in results
    ]
    lines += [
        "",
        "The machine is shared: its 1-minute load average before each measurement was "
        + ", ".join(f"{load:.1f}" for load in loads)
        + " (above 0, other work competed for the two cores). CPU time does not "
        "depend on that competition as much as the clock does; on two otherwise idle "
        "cores a run cannot take less than its main process's CPU time, nor less than "
        "all its CPU time shared by two: "
        + "; ".join(_bound(name, results[key], rows) for key, name in _BOUNDED if key in results)
        + ". (PostgreSQL's own CPU time is not counted there.)",
        "",
        f"Outcome: {summary['valid_contacts']:,} contacts, {summary['rejected_rows']:,} rejected, "
        f"{summary['duplicates']:,} duplicates, {summary['warnings']:,} warnings.",
        "",
        "Reproduce: `.venv/bin/python -m bench.audience` (add `--rows 50000 --no-write` for a "
        "quick run; `HERALD_BENCH_DATABASE_URL` picks the PostgreSQL server).",
        END,
    ]
    return "\n".join(lines)


INTRO = """# Benchmarks

Figures measured by the scripts in `bench/` on the development machine, and
how to reproduce them. Each section is rewritten by its script.

"""


def write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else INTRO
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n## Audience import\n\n" + section + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


def _measure(argv: list[str]) -> None:
    kind, path = argv[0], Path(argv[1])
    if kind == "ceiling":
        result = measure_ceiling(path)
    elif kind == "validate":
        result = measure_validation(path, int(argv[2]))
    else:
        result = measure_import(path, argv[2], int(argv[3]))
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "measure":
        _measure(args[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL import")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    options = parser.parse_args(args)
    postgres = None
    if not options.no_postgres:
        postgres = os.environ.get("HERALD_BENCH_DATABASE_URL", DEFAULT_POSTGRES)
    results = run(options.rows, options.workers, postgres)
    section = render(results)
    print(section)
    if not options.no_write:
        write_docs(section)
        print(f"updated {DOCS}")


if __name__ == "__main__":
    main()

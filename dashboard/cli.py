"""`command-center`: seed, serve, demo, db, user, token, owner, account, audit, import, lists, prices, bench. Every failure ends in a clear message, not a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dashboard.settings import REPO_ROOT, Settings, SettingsError, child_env, load

EXIT_USAGE, EXIT_POOL = 2, 3


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "url", None):
        overrides["CC_DATABASE_URL"] = args.url
    if getattr(args, "bind", None):
        overrides["CC_BIND"] = args.bind
    return load(overrides)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_seed(args: argparse.Namespace) -> int:
    from queries.generate.build import MAX_RECORDS, SCALES, build_pool

    s = _settings(args)
    if args.scale not in SCALES:
        _say(f"unknown scale {args.scale!r}; choose one of: {', '.join(SCALES)}")
        return EXIT_USAGE
    records = args.records
    if args.times is not None:
        records = round(args.times * SCALES[args.scale].records)
    if records is not None and not 1_000 <= records <= MAX_RECORDS:
        _say(
            f"记录数须在 1,000 到 {MAX_RECORDS:,} 之间 / the pool's records must be between 1,000 and "
            f"{MAX_RECORDS:,}; --records/--times asked for {records:,}"
        )
        return EXIT_USAGE
    end = None
    if args.end:
        try:
            end = dt.datetime.fromisoformat(args.end)
        except ValueError:
            _say(f"--end {args.end!r} is not an ISO date-time (e.g. 2026-11-22T14:00+08:00)")
            return EXIT_USAGE
        if end.tzinfo is None:
            end = end.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    size = "" if records is None else f" of {records:,} records"
    _say(f"building a {args.scale} pool{size} (seed {args.seed}) into {_redact(s.database_url)} ...")
    report = build_pool(
        s.database_url,
        scale=args.scale,
        seed=args.seed,
        end=end,
        progress=not args.quiet,
        demo_users=args.demo_users,
        records=records,
    )
    secs = report.seconds
    print(f"records: {report.records:,}")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in secs.items()))
    print("injected defects: " + ", ".join(f"{k} {v:,}" for k, v in report.defects.items()))
    if report.calendar_gaps:
        print(f"note: chinese-calendar has no holiday data for {report.calendar_gaps}; weekends used there")
    if report.kept_users:
        print(f"accounts kept from the previous pool: {report.kept_users}")
    if report.kept_records:
        print(f"ingested records kept from the previous pool (API, import): {report.kept_records:,}")
    _print_accounts(report.demo_users)
    if args.demo_users:
        _sample_appeals(s.database_url)
    return 0


def _sample_appeals(url: str) -> None:
    """The demo's sample appeals (filed as the demo accounts), when the pool has none yet."""
    from queries import engine as eng
    from queries.appeals import AppealRefused
    from queries.calendar import CalendarYearUnknown
    from queries.errors import PoolError
    from queries.generate.demo_appeals import file_samples

    eng.configure(url)
    try:
        n = file_samples()
    except (AppealRefused, CalendarYearUnknown, PoolError) as exc:  # e.g. a year past the calendar's
        _say(f"sample appeals skipped: {exc}")
        return
    finally:
        eng.engine().dispose()
    if n:
        print(f"sample appeals filed as the demo accounts: {n}")


def _print_accounts(accounts: Sequence[tuple[str, str, str]]) -> None:
    if not accounts:
        return
    print("demo accounts (username / password / role):")
    for user, password, role in accounts:
        print(f"  {user:<10} {password:<22} {role}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


def _check_pool(s: Settings) -> str | None:
    """None when the pool is ready to serve, else a message saying what to run."""
    from queries import schema
    from queries.engine import make_engine
    from queries.errors import PoolError

    engine = make_engine(s.database_url)
    try:
        schema.require_current(engine)
    except PoolError as exc:
        return f"{exc.zh}\n{exc.en}" + (f"\n-> {exc.hint}" if exc.hint else "")
    except Exception as exc:  # connection refused, bad URL ...
        return (
            f"无法连接数据池 / cannot reach the pool at {_redact(s.database_url)}: {str(exc).splitlines()[0]}"
        )
    finally:
        engine.dispose()
    return None


def _warn_demo_passwords(s: Settings) -> None:
    """Loud, every start: the demo passwords are printed in the README for anyone to read."""
    from queries.engine import make_engine
    from queries.generate.reference import DEMO_USERS
    from queries.users import working_passwords

    engine = make_engine(s.database_url)
    try:
        with engine.connect() as conn:
            names = working_passwords(conn, [(u, p) for u, *_, p in DEMO_USERS])
    finally:
        engine.dispose()
    if names:
        bar = "!" * 78
        _say(
            f"{bar}\n警告: 演示账号的公开密码仍然有效 / WARNING: published demo passwords still work: "
            f"{', '.join(names)}\n"
            "任何人都可以用 README 中的密码登录. 正式使用前请停用或改密.\n"
            "Anyone can log in with the passwords printed in the README: deactivate these accounts or "
            "change their passwords before real use:\n"
            f"  command-center account NAME --set-password   |   command-center account NAME --deactivate\n{bar}"
        )


def _gunicorn(s: Settings) -> int:
    _warn_demo_passwords(s)
    if s.cache_url:
        from queries.cache import redis_advice

        advice = redis_advice(s.cache_url)
        if advice:
            _say(f"WARNING: {advice}")
    env = child_env(s)
    argv = [sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "gunicorn.conf.py")]
    _say(f"serving on http://{s.bind}/  (Ctrl-C stops)")
    os.execve(sys.executable, argv, env)
    return 0  # not reached


def cmd_serve(args: argparse.Namespace) -> int:
    s = _settings(args)
    problem = _check_pool(s)
    if problem:
        _say(problem)
        return EXIT_POOL
    return _gunicorn(s)


def cmd_demo(args: argparse.Namespace) -> int:
    from queries import schema
    from queries.engine import make_engine, sqlite_path

    s = _settings(args)
    path = sqlite_path(s.database_url)
    if args.fresh or (path is not None and not path.exists()):
        _say("no pool yet: building the demo pool (about half a minute) ...")
        rc = cmd_seed(
            argparse.Namespace(
                url=s.database_url,
                scale="demo",
                seed=20261122,
                end=None,
                quiet=False,
                demo_users=True,
                records=None,
                times=None,
            )
        )
        if rc:
            return rc
    else:
        engine = make_engine(s.database_url)
        try:
            st = schema.status(engine)
            if st.current is not None and st.current != st.head:
                before, after = schema.upgrade(engine)
                _say(f"pool schema upgraded {before} -> {after} (data kept)")
        finally:
            engine.dispose()
        from queries.generate.reference import DEMO_USERS

        _print_accounts([(u, p, r) for u, _, r, _, _, p in DEMO_USERS])
    problem = _check_pool(s)
    if problem:
        _say(problem)
        return EXIT_POOL
    _sample_appeals(s.database_url)  # a pool from before the samples existed gets them now (once)
    return _gunicorn(s)


def cmd_db(args: argparse.Namespace) -> int:
    from queries import schema
    from queries.engine import make_engine

    s = _settings(args)
    engine = make_engine(s.database_url, create=args.action == "upgrade")
    try:
        if args.action == "status":
            st = schema.status(engine)
            print(f"schema: {st.current or 'none'}  head: {st.head}  {'ok' if st.ok else 'needs upgrade'}")
            return 0 if st.ok else 1
        before, after = schema.upgrade(engine)
        print(f"schema: {before or 'none'} -> {after}")
        return 0
    finally:
        engine.dispose()


def cmd_user(args: argparse.Namespace) -> int:
    from queries import audit
    from queries import engine as eng
    from queries.tables import ROLES
    from queries.users import create_user, department_ids, user_exists

    s = _settings(args)
    eng.configure(s.database_url)
    if args.role not in ROLES:
        _say(f"unknown role {args.role!r}; roles: {', '.join(ROLES)}")
        return EXIT_USAGE
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    try:
        with audit.write(audit.Actor.cli()) as tx:
            if user_exists(tx.conn, args.username):
                raise ValueError(f"用户 {args.username!r} 已存在 / user {args.username!r} exists already")
            dept_id = None
            if args.department:
                codes = department_ids(tx.conn)
                dept_id = codes.get(args.department)
                if dept_id is None:
                    raise ValueError(
                        f"部门 {args.department!r} 不存在 / unknown department {args.department!r}; "
                        f"departments: {', '.join(codes)}"
                    )
            create_user(
                tx,
                username=args.username,
                password=password,
                role=args.role,
                display_name=args.display_name,
                department_id=dept_id,
                township_code=args.township,
            )
    except ValueError as exc:
        _say(str(exc))
        return EXIT_USAGE
    print(f"user {args.username!r} created ({args.role})")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """API tokens of the source systems: create (shown once), revoke, list. Written through the door."""
    from queries import audit, tokens
    from queries import engine as eng
    from queries.timebase import to_local

    s = _settings(args)
    eng.configure(s.database_url)
    if args.action == "list":
        frame = tokens.listing()
        if frame.height == 0:
            print("no tokens yet: command-center token create --source CODE --label TEXT")
            return 0

        def when(ts: int | None) -> str:
            return "-" if ts is None else to_local(ts).strftime("%Y-%m-%d %H:%M")

        print(f"{'id':>4}  {'source':<24}{'prefix':<14}{'created':<18}{'revoked':<18}label")
        for r in frame.iter_rows(named=True):
            print(
                f"{r['id']:>4}  {r['source']:<24}{r['prefix'] + '…':<14}{when(r['created_at']):<18}"
                f"{when(r['revoked_at']):<18}{r['label']}"
            )
        return 0
    try:
        with audit.write(audit.Actor.cli()) as tx:
            if args.action == "create":
                issued = tokens.create(tx, source_code=args.source or "", label=args.label or "")
            else:
                tokens.revoke(tx, token_id=args.id)
    except ValueError as exc:
        _say(str(exc))
        return EXIT_USAGE
    if args.action == "create":
        print(f"token {issued.token_id} for {issued.source_code} (shown once; only its digest is kept):")
        print(issued.token)
    else:
        print(f"token {args.id} revoked; it no longer writes anything")
    return 0


def cmd_owner(args: argparse.Namespace) -> int:
    """Data owners of source systems and departments: set (ends the current one), end, list."""
    from queries import audit, owners
    from queries import engine as eng

    s = _settings(args)
    eng.configure(s.database_url)
    if args.action == "list":
        frame = owners.listing()
        print(f"{'scope':<11}{'code':<24}{'person':>7}  {'owner':<10}{'title':<12}name")
        for r in frame.iter_rows(named=True):
            who = "-" if r["person_id"] is None else str(r["person_id"])
            print(
                f"{r['scope']:<11}{r['code']:<24}{who:>7}  {r['owner_zh'] or '(无 / none)':<10}"
                f"{r['title_zh'] or '':<12}{r['name_zh']}"
            )
        return 0
    kind, code = ("source", args.source) if args.source else ("department", args.department)
    try:
        with audit.write(audit.Actor.cli()) as tx:
            if args.action == "set":
                owners.appoint(tx, kind=kind, code=code, person_id=args.person)
            else:
                owners.end(tx, kind=kind, code=code)
    except ValueError as exc:
        _say(str(exc))
        return EXIT_USAGE
    if args.action == "set":
        print(f"person {args.person} now owns the data of {kind} {code!r}")
    else:
        print(f"{kind} {code!r} has no data owner now")
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    """Change an existing account: a new password, or (de)activation. Either ends its sessions."""
    from queries import audit
    from queries import engine as eng
    from queries.users import set_active, set_password

    s = _settings(args)
    eng.configure(s.database_url)
    password = None
    if args.set_password:
        password = (
            sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("new password: ")
        )
    try:
        with audit.write(audit.Actor.cli()) as tx:
            if password is not None:
                set_password(tx, username=args.username, password=password)
            if args.deactivate or args.activate:
                set_active(tx, username=args.username, active=bool(args.activate))
    except ValueError as exc:
        _say(str(exc))
        return EXIT_USAGE
    done = [
        w
        for w, on in (
            ("password changed", password),
            ("deactivated", args.deactivate),
            ("activated", args.activate),
        )
        if on
    ]
    print(f"user {args.username!r}: {', '.join(done)}; every session of it has ended")
    return 0


def _when(value: str) -> dt.datetime:
    """An ISO date or date-time; without a zone it is Mengzi time (UTC+8)."""
    when = dt.datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def cmd_audit(args: argparse.Namespace) -> int:
    """The responsibility log: verify the chain, or show entries newest first."""
    from queries import audit
    from queries import engine as eng

    s = _settings(args)
    eng.configure(s.database_url)
    if args.action == "verify":
        verdict = audit.verify()
        if verdict.first_break is None:
            print(f"责任链完整: {verdict.entries} 条 / chain intact: {verdict.entries} entries")
            print(f"head {verdict.head}")
            return 0
        b = verdict.first_break
        print(f"责任链断裂于条目 {b.entry_id}: {b.zh}\nchain broken at entry {b.entry_id}: {b.en}")
        return 1
    try:
        since = _when(args.since) if args.since else None
        until = _when(args.until) if args.until else None
    except ValueError:
        _say("--since/--until 须为 ISO 日期时间 / must be ISO dates or date-times, e.g. 2026-11-22T08:00")
        return EXIT_USAGE
    frame = audit.show(
        user=args.user, action=args.filter_action, obj=args.object, since=since, until=until, limit=args.limit
    )
    if frame.is_empty():
        print("没有符合条件的条目 / no entries match")
        return 0
    print(
        f"{'id':>6}  {'time (+08:00)':<19}  {'actor':<20} {'role':<15} {'action':<16} {'object':<24} detail"
    )
    for r in frame.iter_rows(named=True):
        obj = f"{r['object_type']}:{r['object_id']}" if r["object_id"] is not None else r["object_type"]
        print(
            f"{r['id']:>6}  {r['at']:%Y-%m-%d %H:%M:%S}  {r['actor_username']:<20} {r['actor_role']:<15} "
            f"{r['action']:<16} {obj:<24} {r['detail'] or ''}"
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """`import records FILE --source CODE`: a file of one source system through validation and the
    writer, one transaction per chunk (a crash loses at most the chunk in flight; a rerun then finds
    the landed chunks as duplicates). Exit 0 when something was read and not every row refused."""
    from pathlib import Path

    from tqdm import tqdm

    from queries import audit, meta
    from queries import engine as eng
    from queries.ingest.files import FileRefused, ImportSummary, import_file
    from queries.ingest.reference import load_reference
    from queries.ingest.validate import MalformedBatch

    s = _settings(args)
    eng.configure(s.database_url)
    meta.configure_window(s.ingest_version_seconds)
    if load_reference().source(args.source) is None:
        _say(
            f"来源系统 {args.source!r} 不存在 / no source system {args.source!r}; "
            f"sources: {', '.join(sorted(load_reference().sources))}"
        )
        return EXIT_USAGE
    if args.batch_rows < 1:
        _say("--batch-rows 至少为 1 / --batch-rows must be at least 1")
        return EXIT_USAGE
    path = Path(args.file)
    size = path.stat().st_size if path.is_file() else 0
    bar = tqdm(
        unit="row", unit_scale=True, file=sys.stderr, dynamic_ncols=True, desc=path.name, disable=args.quiet
    )

    def tick(n: int, so_far: ImportSummary) -> None:
        bar.update(n)
        bar.set_postfix(accepted=so_far.accepted, quarantined=so_far.quarantined)

    try:
        done = import_file(
            path,
            source_code=args.source,
            actor=audit.Actor.cli(),
            chunk_rows=args.batch_rows,
            dry_run=args.dry_run,
            on_chunk=tick,
        )
    except (FileRefused, MalformedBatch) as exc:
        bar.close()
        _say(f"{exc.zh}\n{exc.en}")
        return 1
    finally:
        bar.close()
    if done.rows == 0:
        _say(f"文件中没有数据行: {path} / the file has no data rows: {path}")
        return 1
    mode = "试运行, 未写入 / dry run, nothing written" if args.dry_run else f"{done.batches} 批 / batches"
    print(f"{path.name} ({done.format}, {done.encoding}, {size:,} bytes) -> {args.source}: {mode}")
    print(
        f"行 rows {done.rows:,}  入库 accepted {done.accepted:,}  "
        f"重复 duplicate {done.duplicate:,}  隔离 quarantined {done.quarantined:,}"
    )
    for r in done.reasons().iter_rows(named=True):
        print(f"  {r['n']:>10,}  {r['reason']:<26}{r['zh']} / {r['en']}")
    if done.accepted + done.duplicate == 0:
        _say("每一行都被隔离, 没有数据入库 / every row was quarantined; nothing landed")
        return 1
    return 0


def cmd_lists(args: argparse.Namespace) -> int:
    """Three lists in one: export a department's lists, or import them (validated; --dry-run shows the
    changes), through the write door with a responsibility-log entry."""
    from pathlib import Path

    from queries import audit, lists, lists_io, meta
    from queries import engine as eng
    from queries.scope import CITY_SCOPE

    eng.configure(_settings(args).database_url)
    depts = dict(zip(meta.departments()["code"].to_list(), meta.departments()["id"].to_list(), strict=True))
    if args.dept is not None and args.dept not in depts:
        _say(f"unknown department {args.dept!r}; known: {', '.join(depts)}")
        return EXIT_USAGE
    path = Path(args.file)
    actor = audit.Actor.cli()
    if args.action == "export":
        tables = lists.export_tables(dept_id=depts.get(args.dept or ""), scope=CITY_SCOPE)
        assert tables is not None
        header = f"three lists in one: {args.dept or 'city'}"
        data = (
            lists_io.csv_zip_bytes(tables, header)
            if path.suffix == ".zip"
            else lists_io.xlsx_bytes(tables, header)
        )
        audit.log_read(
            actor, f"export.{'csv' if path.suffix == '.zip' else 'xlsx'}", "lists", args.dept or "city"
        )
        path.write_bytes(data)
        print(f"wrote {path}: " + ", ".join(f"{k} {v.height}" for k, v in tables.items()))
        return 0
    if not path.exists():
        _say(f"no such file: {path}")
        return EXIT_USAGE
    reader = lists_io.read_csv_zip if path.suffix == ".zip" else lists_io.read_xlsx
    rows, problems = reader(path.read_bytes())
    out = lists_io.Outcome(problems=problems)
    if not problems:
        out = lists_io.import_lists(rows, dept_code=args.dept, actor=actor, dry_run=args.dry_run)
    for p in out.problems:
        print(f"{p.sheet} row {p.row}: {p.zh} / {p.en}")
    if not out.ok:
        print(f"refused: {len(out.problems)} problem(s); nothing was changed")
        return 1
    for name, (added, changed, removed) in out.changes.items():
        print(f"{name:<12} +{added} ~{changed} -{removed}")
    print("applied" if out.applied else ("dry run: nothing written" if args.dry_run else "no change"))
    return 0


def cmd_prices(args: argparse.Namespace) -> int:
    """One price series month by month: the same frame the price page shows (queries.prices.report)."""
    from queries import engine as eng
    from queries import prices
    from queries.errors import PoolError
    from queries.scope import CITY_SCOPE

    eng.configure(_settings(args).database_url)
    try:
        frame = prices.report(scope=CITY_SCOPE, product=args.product, market=args.market)
    except prices.PriceInputError as exc:
        _say(f"{exc.zh} / {exc.en}")
        return EXIT_USAGE
    except PoolError as exc:
        _say(f"{exc.zh} / {exc.en} ({exc.hint})")
        return EXIT_POOL
    if args.format == "json":
        print(frame.write_json())
    else:
        print(frame.write_csv(), end="")
    return 0


def cmd_import_prices(args: argparse.Namespace) -> int:
    """`import prices FILE`: price reports (CSV UTF-8/BOM/GBK, or .xlsx) validated row by row, written
    through the write door with the touched series recomputed; --dry-run writes nothing."""
    from pathlib import Path

    from queries import audit, price_import
    from queries import engine as eng
    from queries.errors import PoolError

    eng.configure(_settings(args).database_url)
    path = Path(args.file)
    try:
        out = price_import.import_prices(
            path, actor=audit.Actor.cli(), dry_run=args.dry_run, keep_good=args.keep_good, create=args.create
        )
    except price_import.PriceFileRefused as exc:
        _say(f"{exc.zh}\n{exc.en}")
        return 1
    except PoolError as exc:
        _say(f"{exc.zh} / {exc.en} ({exc.hint})")
        return EXIT_POOL
    print(
        f"{path.name} ({out.format}, {out.encoding}): 行 rows {out.rows:,}  新增 new {out.accepted:,}  "
        f"已有 already in {out.already:,}  拒绝 refused {len(out.refused):,}"
    )
    for pr in out.refused[:200]:
        print(f"  第 {pr.row} 行 / row {pr.row}: {pr.zh} / {pr.en}")
    if len(out.refused) > 200:
        print(f"  ... 另有 {len(out.refused) - 200} 行 / {len(out.refused) - 200} more rows")
    if args.dry_run:
        print("试运行, 未写入 / dry run, nothing written")
        return 0 if not out.refused else 1
    if out.refused and not args.keep_good:
        _say("有被拒绝的行, 整个文件未写入 (用 --keep-good 只写入合格的行) / rows were refused: nothing written "
             "(--keep-good writes the good rows alone)")  # fmt: skip
        return 1
    if out.written:
        print(f"已写入并重算 / written and recomputed: {', '.join(out.series)}")
    else:
        print("没有新数据 / nothing new to add")
    return 0


def _run_file_import(args: argparse.Namespace, run: Callable[[Path], Any]) -> Any:
    """Point at the pool, check the file exists, run the import: its result, or the exit code."""
    from queries import engine as eng
    from queries.errors import PoolError

    eng.configure(_settings(args).database_url)
    path = Path(args.file)
    if not path.is_file():
        _say(f"没有这个文件 / no such file: {path}")
        return EXIT_USAGE
    try:
        return run(path)
    except PoolError as exc:
        _say(f"{exc.zh} / {exc.en}")
        return EXIT_POOL


def cmd_import_divide(args: argparse.Namespace) -> int:
    from queries import audit, divide_io

    got = _run_file_import(args, lambda path: divide_io.import_indicators(path, audit.Actor.cli()))
    if isinstance(got, int):
        return got
    if not got.ok:
        for zh, en in got.problems[:50]:
            _say(f"{zh} / {en}")
        if len(got.problems) > 50:
            _say(f"... 共 {len(got.problems)} 个问题 / {len(got.problems)} problems in all")
        _say("未导入, 数据池未改变 / nothing imported, the pool is unchanged")
        return 1
    towns = len({r["township_code"] for r in got.rows})
    print(
        f"已导入 {len(got.rows)} 个指标值 ({towns} 个乡镇) / imported {len(got.rows)} figures ({towns} townships)"
    )
    return 0


def cmd_import_boundaries(args: argparse.Namespace) -> int:
    from queries import audit, boundaries

    got = _run_file_import(
        args, lambda path: boundaries.import_file(path, audit.Actor.cli(), crs=args.crs, gcj02=args.gcj02)
    )
    if isinstance(got, int):
        return got
    for zh, en in got.repairs:
        print(f"{zh} / {en}")
    if not got.ok:
        for zh, en in got.problems or [("文件中没有可用的要素", "no usable feature in the file")]:
            _say(f"{zh} / {en}")
        _say("未导入, 数据池未改变 / nothing imported, the pool is unchanged")
        return 1
    print(
        f"已导入 {len(got.geometries)} 个乡镇边界 / imported {len(got.geometries)} township boundaries ({got.crs})"
    )
    return 0


def cmd_import_buildings(args: argparse.Namespace) -> int:
    from queries import audit, twin_import

    got = _run_file_import(
        args,
        lambda path: twin_import.import_file(
            path, audit.Actor.cli(), layer=args.layer, crs=args.crs, community=args.community
        ),
    )
    if isinstance(got, int):
        return got
    for zh, en in got.repairs + got.assumed:
        print(f"{zh} / {en}")
    if not got.ok:
        for zh, en in got.problems or [("文件中没有可用的建筑", "no usable building in the file")]:
            _say(f"{zh} / {en}")
        _say("未导入, 数据池未改变 / nothing imported, the pool is unchanged")
        return 1
    for code, n in sorted(got.communities.items()):
        print(f"社区 {code}: {n} 栋 / community {code}: {n} buildings")
    print(f"已导入 {len(got.rows)} 栋建筑 / imported {len(got.rows)} buildings ({got.crs})")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from dashboard import bench

    user, _, password = (args.as_user or "admin:admin-demo-2026").partition(":")
    if args.bench_user or args.bench_password:  # the older pair of options, still understood
        user, password = args.bench_user or user, args.bench_password or password
    if not user or not password:
        print("--as needs NAME:PASSWORD", file=sys.stderr)
        return 2
    if args.mode == "http":
        from dashboard import bench_http

        if args.growth:
            return bench_http.growth([Path(p) for p in args.growth], Path(args.out or "bench-growth"))
        return bench_http.run(
            _settings(args).database_url,
            username=user,
            password=password,
            repeat=args.http_repeat,
            cold=args.http_cold,
            out=Path(args.out or "bench-http"),
            naive_repeat=args.naive_repeat,
        )
    if args.mode == "load":
        from dashboard import bench_load

        if not (args.minutes > 0 and args.wall_every > 0 and args.walls >= 0 and args.users >= 0):
            _say(
                "--minutes 与 --wall-every 须大于 0, --walls 与 --users 不能为负 / --minutes and --wall-every "
                "must be above 0, --walls and --users not negative"
            )
            return EXIT_USAGE

        return bench_load.run(
            _settings(args).database_url,
            username=user,
            password=password,
            minutes=args.minutes,
            walls=args.walls,
            users=args.users,
            wall_every=args.wall_every,
            out=Path(args.out or "bench-load"),
        )
    if args.servers:
        from dashboard import bench_servers

        s = _settings(args)
        return bench_servers.run(
            s.database_url,
            args.servers.split(","),
            username=user,
            password=password,
            version_ttl=s.version_ttl_seconds,
            path=args.servers_page,
            rounds=args.repeat * 2,
        )
    if args.twin is not None:
        login = f"{user}:{password}"
        return bench.twin(_settings(args), base=args.twin or None, login=login, repeat=args.repeat * 4)
    if args.divide_http:
        return bench.divide_http(args.divide_http, user, password)
    if args.factors_http:
        return bench.factors_http(args.factors_http, user, password)
    if args.login_flood:
        return bench.login_flood(args.login_flood)
    if args.ingest is not None:
        return bench.ingest(_settings(args), rows=args.ingest, batches=args.api_batches)
    if args.ingest_validation:
        return bench.ingest_validation(_settings(args), rows=args.ingest_validation)
    if args.lists_http:
        return bench.lists_http(args.lists_http, username=user, password=password)
    if args.loop_http:
        return bench.loop_http(args.loop_http, username=user, password=password)
    if args.prices_http:
        return bench.prices_http(args.prices_http, username=user, password=password)
    if args.case_http:
        if args.case_id is None:
            print("--case-http needs --case-id N (a case the account may act on)", file=sys.stderr)
            return 2
        from queries import engine as eng

        eng.configure(_settings(args).database_url)
        return bench.case_http(args.case_http, username=user, password=password, case_id=args.case_id)
    return bench.run(_settings(args), repeat=args.repeat)


def cmd_factors(args: argparse.Namespace) -> int:
    """`factors report FILE --y COL --x A,B`: the page's tables from a CSV or Excel table, no pool needed."""
    import json

    from queries import factors, stats

    if args.action == "import":
        from queries import engine as eng
        from queries.audit import Actor
        from queries.errors import PoolError

        eng.configure(_settings(args).database_url)
        try:
            frame = factors.read_table(args.file)
            ds = factors.import_dataset(
                Actor.cli(),
                frame,
                name=args.name or os.path.splitext(os.path.basename(args.file))[0],
                label=args.label,
                filename=args.file,
            )
        except stats.StatsInputError as exc:
            _say(f"{exc.zh}\n{exc.en}")
            return EXIT_USAGE
        except PoolError as exc:
            _say(f"{exc.zh} / {exc.en} ({exc.hint})")
            return EXIT_POOL
        print(f"dataset {ds}: {frame.height} rows imported")
        return 0
    if not args.y or not args.x:
        _say("factors report needs --y and --x")
        return EXIT_USAGE
    try:
        frame = factors.read_table(args.file)
        xs = [x.strip() for x in args.x.split(",") if x.strip()]
        a = factors.analyse(frame, y=args.y, xs=xs, robust=args.robust, label=args.label)
    except stats.StatsInputError as exc:
        _say(f"{exc.zh}\n{exc.en}")
        return EXIT_USAGE
    tables = factors.report_frames(a)
    if a.dropped:
        _say(f"left out for missing values: {', '.join(a.dropped)}")
    if args.format == "json":
        print(json.dumps({k: v.to_dicts() for k, v in tables.items()}, ensure_ascii=False, indent=1))
        return 0
    for name, table in tables.items():
        print(f"# {name}")
        print(table.write_csv(), end="")
        print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="command-center", description=__doc__)
    parser.add_argument(
        "--url", help="SQLAlchemy URL of the pool (default: CC_DATABASE_URL or the SQLite file)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("seed", help="build a synthetic pool (replaces generated data; keeps accounts)")
    p.add_argument("--scale", default="demo", help="test | demo | full (>= 7,000,000 records)")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--records",
        type=int,
        help="grow (or shrink) the pool to about this many records over the scale's time window; "
        "past 7,000,000 it is built in chunks, its memory that of one full pool",
    )
    size.add_argument(
        "--times", type=float, help="the scale's records times this (e.g. --scale full --times 5: ~35M)"
    )
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--end", help="newest time in the pool, ISO (default: now)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--demo-users",
        action="store_true",
        help="also create the demo accounts, whose passwords are published (demo and tests only)",
    )
    # the default now; still accepted so older scripts keep working
    p.add_argument("--no-demo-users", action="store_false", dest="demo_users", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("serve", help="serve with gunicorn (production)")
    p.add_argument("--bind", help="host:port (default CC_BIND)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo pool if missing, print the demo accounts, serve")
    p.add_argument("--bind", help="host:port (default CC_BIND)")
    p.add_argument("--fresh", action="store_true", help="rebuild the demo pool even if one exists")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("db", help="schema: status | upgrade (keeps data)")
    p.add_argument("action", choices=["status", "upgrade"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("user", help="add a user")
    p.add_argument("username")
    p.add_argument("--role", required=True, help="operator | leader | department_head | admin")
    p.add_argument("--display-name")
    p.add_argument("--department", help="department code, e.g. civil_affairs")
    p.add_argument("--township", type=int, help="township code, e.g. 532503001")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("token", help="API tokens of the source systems: create | revoke | list")
    tsub = p.add_subparsers(dest="action", required=True)
    tp = tsub.add_parser("create", help="a new token for one source system (printed once)")
    tp.add_argument("--source", required=True, help="source system code, e.g. community_governance")
    tp.add_argument("--label", required=True, help="what the token is for, e.g. 'nightly push, server A'")
    tp.set_defaults(func=cmd_token)
    tp = tsub.add_parser("revoke", help="revoke a token at once")
    tp.add_argument("id", type=int)
    tp.set_defaults(func=cmd_token)
    tp = tsub.add_parser(
        "list", help="every token: source, prefix, created, revoked, label (never the token)"
    )
    tp.set_defaults(func=cmd_token)

    p = sub.add_parser("owner", help="data owners of source systems and departments: set | end | list")
    osub = p.add_subparsers(dest="action", required=True)
    for action, text in (
        ("set", "name the data owner (ends the current one)"),
        ("end", "end the current owner"),
    ):
        op = osub.add_parser(action, help=text)
        which = op.add_mutually_exclusive_group(required=True)
        which.add_argument("--source", help="source system code, e.g. community_governance")
        which.add_argument("--department", help="department code, e.g. civil_affairs")
        if action == "set":
            op.add_argument("--person", type=int, required=True, help="person id (see `owner list`)")
        op.set_defaults(func=cmd_owner)
    op = osub.add_parser("list", help="every department and source system with its current owner")
    op.set_defaults(func=cmd_owner)

    p = sub.add_parser("account", help="change an account: new password, deactivate or activate")
    p.add_argument("username")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--set-password", action="store_true", help="ask for a new password")
    what.add_argument("--deactivate", action="store_true", help="refuse its logins and end its sessions")
    what.add_argument("--activate", action="store_true")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_account)

    p = sub.add_parser("audit", help="the responsibility log: verify the hash chain, or show entries")
    p.add_argument("action", choices=["verify", "show"])
    p.add_argument("--user", help="show: entries by this username (cli:<os user> for the shell)")
    p.add_argument("--action", dest="filter_action", help="show: e.g. user.create, or a family: user.")
    p.add_argument("--object", help="show: an object id, or type:id (app_user:3)")
    p.add_argument("--since", help="show: from this ISO date-time (UTC+8 unless given)")
    p.add_argument("--until", help="show: before this ISO date-time")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "import",
        help="import a file: import records FILE --source CODE | import prices FILE | import boundaries FILE | import buildings FILE | import divide FILE",
    )
    isub = p.add_subparsers(dest="what", required=True)
    ip = isub.add_parser(
        "records", help="CSV (UTF-8 or GB18030), Excel .xlsx or Parquet, validated like the API"
    )
    ip.add_argument("file")
    ip.add_argument("--source", required=True, help="source system code, e.g. traffic_platform")
    ip.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    ip.add_argument("--batch-rows", type=int, default=50_000, help="rows per transaction (default 50,000)")
    ip.add_argument("--quiet", action="store_true", help="no progress bar")
    ip.set_defaults(func=cmd_import)
    p = sub.add_parser(
        "lists", help="three lists in one: export | import a department's lists (.xlsx or .zip of CSV)"
    )
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("file", help="the .xlsx (one sheet per list) or .zip (one CSV per list)")
    p.add_argument("--dept", help="department code, e.g. civil_affairs (default: the whole city)")
    p.add_argument(
        "--dry-run", action="store_true", help="import: show rows added, changed, removed; write nothing"
    )
    p.set_defaults(func=cmd_lists)
    p = sub.add_parser("prices", help="agricultural prices: report one series month by month")
    psub = p.add_subparsers(dest="action", required=True)
    pp = psub.add_parser("report", help="price, observations, IFPA and band, ALPS and band, qualification")
    pp.add_argument("--product", required=True, help="product code, e.g. pork")
    pp.add_argument("--market", required=True, help="market code, e.g. wholesale")
    pp.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=cmd_prices)
    q = isub.add_parser(
        "prices",
        help="price reports: date, product, market, price, unit [, cooperative, volume, produced]",
    )
    q.add_argument("file", help=".csv (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx")
    q.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    q.add_argument(
        "--keep-good", action="store_true", help="write the good rows even when others are refused"
    )
    q.add_argument(
        "--create",
        action="store_true",
        help="an unknown product or market is created (named as given) instead of refused",
    )
    q.set_defaults(func=cmd_import_prices)
    q = isub.add_parser(
        "boundaries", help="real township boundaries (GeoJSON or GeoPackage) replace the schematic zones"
    )
    q.add_argument("file")
    q.add_argument("--crs", help="the file's coordinate system when it declares none, e.g. EPSG:4547")
    q.add_argument("--gcj02", action="store_true", help="coordinates are GCJ-02 (Amap): convert to WGS-84")
    q.set_defaults(func=cmd_import_boundaries)
    q = isub.add_parser(
        "divide", help="real digital-divide figures (CSV/xlsx: township_code, year, indicator, value)"
    )
    q.add_argument("file")
    q.set_defaults(func=cmd_import_divide)
    q = isub.add_parser(
        "buildings", help="real building footprints (GeoJSON or GeoPackage) into the 3D twin's communities"
    )
    q.add_argument("file")
    q.add_argument("--layer", help="the GeoPackage layer holding the footprints (asked for when several)")
    q.add_argument("--crs", help="the file's coordinate system when it declares none, e.g. EPSG:32648")
    q.add_argument("--community", type=int, help="put every building in this twin community (12-digit code)")
    q.set_defaults(func=cmd_import_buildings)

    p = sub.add_parser("bench", help="time every page's queries (cold and warm) and renders; prints figures")
    p.add_argument(
        "mode",
        nargs="?",
        choices=("http", "load"),
        help="http: every data page over HTTP against gunicorn (2 workers) on loopback, beside Dash's own "
        "floor and the raw engine; load: wall screens, users and an ingest batch a minute against gunicorn "
        "(2 workers) for --minutes, errors, p50/p95/p99 and each worker's peak RSS; both write --out.json "
        "and --out.md and print the table",
    )
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--http-repeat", type=int, default=30, help="bench http: warm calls per page")
    p.add_argument("--http-cold", type=int, default=5, help="bench http: cold calls per page (version moved)")
    p.add_argument(
        "--naive-repeat",
        type=int,
        help="bench http: warm calls of each naive peer (default: --http-repeat; fewer on a very large pool, "
        "where one naive call takes seconds)",
    )
    p.add_argument(
        "--out", help="bench http / load: output path without suffix (default bench-http / bench-load)"
    )
    p.add_argument("--minutes", type=float, default=5.0, help="bench load: how long the load runs")
    p.add_argument("--walls", type=int, default=20, help="bench load: wall screens polling the refresh")
    p.add_argument("--users", type=int, default=10, help="bench load: users clicking through every page")
    p.add_argument(
        "--wall-every", type=float, default=10.0, help="bench load: seconds between a wall screen's refreshes"
    )
    p.add_argument(
        "--growth",
        nargs="+",
        metavar="JSON",
        help="bench http: instead of measuring, the growth table of earlier runs' JSON reports (pools of "
        "different sizes): warm, cold and naive per size, cold growth against pool growth; written to --out.md",
    )
    p.add_argument(
        "--login-flood",
        metavar="BASE_URL",
        help="instead: 129 random logins on 16 threads against a running server, timing /healthz meanwhile",
    )
    p.add_argument(
        "--ingest-validation",
        type=int,
        metavar="ROWS",
        help="instead: time area-code normalisation and row validation on ROWS of the pool's records",
    )
    p.add_argument(
        "--ingest",
        type=int,
        nargs="?",
        const=1_000_000,
        metavar="ROWS",
        help="instead: import a CSV of ROWS rows (default 1,000,000) into a copy of the pool, then 4 API "
        "clients send 1,000-row batches to a gunicorn on loopback while the overview is timed",
    )
    p.add_argument("--api-batches", type=int, default=25, help="with --ingest: batches per API client")
    p.add_argument(
        "--loop-http",
        metavar="BASE_URL",
        help="instead: cold and warm round trips of the closed-loop page's filter callback against a running "
        "server",
    )
    p.add_argument(
        "--lists-http",
        metavar="BASE_URL",
        help="instead: warm round trips of the three-lists page's callbacks against a running server",
    )
    p.add_argument(
        "--as",
        "--as-user",
        "--divide-user",
        "--twin-login",
        dest="as_user",
        metavar="NAME:PASSWORD",
        help="the account every HTTP probe logs in as (default the demo admin)",
    )
    p.add_argument("--bench-user", help=argparse.SUPPRESS)  # older spelling of --as NAME:...
    p.add_argument("--bench-password", help=argparse.SUPPRESS)
    p.add_argument(
        "--case-http",
        metavar="BASE_URL",
        help="instead: 30 real actions (escalations) on one case through the case page's callback, and a "
        "stale resend, against a running server (with --case-id; writes to that server's pool)",
    )
    p.add_argument("--case-id", type=int, help="--case-http: the case to act on")
    p.add_argument(
        "--prices-http",
        metavar="BASE_URL",
        help="instead: p50/p95 of the price page and its series callback over HTTP against a running server",
    )
    p.add_argument(
        "--divide-http",
        metavar="BASE_URL",
        help="instead: p50/p95 of the divide map and panel callbacks over HTTP against a running server",
    )
    p.add_argument(
        "--factors-http",
        metavar="BASE_URL",
        help="instead: p50/p95 of the factor page's redraw and dataset callbacks over HTTP",
    )
    p.add_argument(
        "--servers",
        metavar="BASE_URL,BASE_URL",
        help="instead: two running app servers on this pool (one cache setting): per round a data-version "
        "move, then --servers-page's first call on A (cold), on B (the shared cache's), and A again (warm)",
    )
    p.add_argument("--servers-page", default="/pool", help="--servers: the page asked (default /pool)")
    p.add_argument(
        "--twin",
        nargs="?",
        const="",
        metavar="BASE_URL",
        help="instead: the 3D twin's view on its largest community (build time, payload); with BASE_URL also"
        " its callback's warm p50/p95 over HTTP against that running server",
    )
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("factors", help="factor analysis of a CSV/Excel table: the factor page's tables")
    p.add_argument("action", choices=["report", "import"], help="report: print the tables; import: store it")
    p.add_argument("file", help="a .csv or .xlsx table, one row per observation")
    p.add_argument("--y", help="report: the dependent variable's column")
    p.add_argument("--x", help="report: regressor columns, comma-separated")
    p.add_argument("--name", help="import: the dataset's name (default: the file name)")
    p.add_argument("--label", help="column naming each observation (for leave-one-out)")
    p.add_argument("--robust", action="store_true", help="HC1 robust standard errors")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.set_defaults(func=cmd_factors)

    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SettingsError as exc:
        _say(f"setting error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("interrupted; nothing half-written was kept")
        return 130
    except Exception as exc:
        from queries.errors import PoolError

        if isinstance(exc, PoolError):
            _say(f"{exc.zh}\n{exc.en}" + (f"\n-> {exc.hint}" if exc.hint else ""))
            return EXIT_POOL
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            _say(f"database error: {str(exc.orig).splitlines()[0] if exc.orig else exc}")
            return EXIT_POOL
        raise


if __name__ == "__main__":
    sys.exit(main())

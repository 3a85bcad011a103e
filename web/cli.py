"""The `minyi` command line: database, users, units (`web.unitcli`), demo data, diagrams, and running the app."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import DiagramInvalid, MinyiError
from engine.people import users
from engine.store import migrate
from engine.store.db import Database
from web.server import ServeOptions
from web.unitcli import unit

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"


def database_url() -> str:
    """DATABASE_URL, or the embedded SQLite file under instance/."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'minyi.db'}"


def _db() -> Database:
    return Database(database_url())


def _fail(exc: MinyiError) -> None:
    click.echo(exc.message, err=True)
    sys.exit(1)


@click.group(help="民议 Minyi —— 社区治理流程")
def main() -> None:
    pass


@main.group(help="数据库")
def db() -> None:
    pass


@db.command("upgrade", help="创建或升级数据库结构(Alembic 迁移)")
def db_upgrade() -> None:
    database = _db()
    try:
        migrate.upgrade(database)
    except MinyiError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"数据库已是最新结构: {database.url.split('@')[-1]}")


@db.command("backup", help="备份数据库(运行中也可;含上传的附件),经恢复校验和审计哈希链校验后才保留。"
                           "SQLite: 数据库文件副本;PostgreSQL: pg_dump 自定义格式。"
                           "例如: minyi db backup backups/minyi-2026-11-29.dump")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    from engine.audit import backups

    database = _db()
    try:
        done = backups.backup(database, target)
    except MinyiError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"已备份到 {done.path}({done.bytes:,} 字节,{done.cases} 个事项,{done.audit_events} 条审计记录;"
               "已恢复到临时副本校验,审计哈希链完整)")
    click.echo(f"恢复: minyi db restore {done.path}")


@db.command("restore", help="从 minyi db backup 的备份恢复(先校验备份);目标数据库有数据时需加 --force,并先停止应用")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="目标数据库已有数据时,用备份替换其全部内容")
def db_restore(source: Path, force: bool) -> None:
    from engine.audit import backups

    database = _db()
    try:
        done = backups.restore(database, source, force)
    except MinyiError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"已从 {source} 恢复({done.cases} 个事项,{done.audit_events} 条审计记录,审计哈希链完整);"
               "接着运行 minyi db upgrade")


main.add_command(unit)


@main.group(help="用户")
def user() -> None:
    pass


@user.command("create", help="创建用户,例如: minyi user create wang --name 王受理 --role 受理员")
@click.argument("username")
@click.option("--name", "display_name", default="", help="显示名")
@click.option("--role", "roles", multiple=True, required=True, help="角色(泳道名),可多次")
@click.option("--email", default="", help="电子邮箱(通知邮件发往此地址),可不填")
@click.option("--unit", "unit_ref", default="",
              help="在哪个单位担任这些角色(编号或名称路径,如 龙山区/龙山街道);不填为默认单位")
@click.password_option(help="密码(至少 8 位)")
def user_create(username: str, display_name: str, roles: tuple[str, ...], email: str, unit_ref: str,
                password: str) -> None:
    from engine.people import unitadmin

    try:
        database = _db()
        unit_id = unitadmin.resolve(database, unit_ref) if unit_ref else None
        actor = users.create_user(database, username, password, display_name, list(roles), email or None, unit_id)
    except MinyiError as exc:
        _fail(exc)
    click.echo(f"已创建用户 {actor.username},角色: {'、'.join(sorted(actor.roles))}")


@user.command("password", help="在服务器上重设用户密码(例如管理员忘记了自己的密码);该账户已登录的会话全部退出")
@click.argument("username")
@click.password_option(help="新密码(至少 8 位)")
def user_password(username: str, password: str) -> None:
    try:
        users.set_password(_db(), username, password)
    except MinyiError as exc:
        _fail(exc)
    click.echo(f"已重设 {username} 的密码")


@user.command("token", help="为用户生成 API 令牌(只显示一次)")
@click.argument("username")
@click.option("--name", default="api")
def user_token(username: str, name: str) -> None:
    try:
        click.echo(users.create_token(_db(), username, name))
    except MinyiError as exc:
        _fail(exc)


@main.command(help="校验流程图(默认 processes/ 下全部);有问题时退出码为 1")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    files: list[Path] = []
    for path in paths or (PROCESSES,):
        files.extend(sorted(path.glob("*.bpmn")) if path.is_dir() else [path])
    bad = 0
    for path in files:
        problems = deployments.problems_of_file(path.read_bytes(), path.name)
        if problems:
            bad += 1
            click.echo(f"✗ {path}")
            for problem in problems:
                click.echo(f"    {problem}")
        else:
            click.echo(f"✓ {path}")
    sys.exit(1 if bad else 0)


@main.command(help="部署 processes/ 下有变化的流程图(每个新内容成为一个新版本)")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def deploy(directory: Path | None) -> None:
    try:
        results = deployments.deploy_directory(_db(), directory or PROCESSES, SYSTEM)
    except DiagramInvalid as exc:
        _fail(exc)
    for version, created in results:
        state = "新版本" if created else "未变化"
        click.echo(f"{version.name}: {state} {version.hash[:12]}({version.filename})")


@main.command(help="加载演示用户和示例事项(可重复执行)")
def demo() -> None:
    from engine.work import demo as demo_data

    database = _db()
    try:
        for line in demo_data.load(database, PROCESSES):
            click.echo(line)
    except MinyiError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"演示用户的密码都是: {demo_data.PASSWORD}")


@main.group(help="审计:校验哈希链、导出事件日志")
def audit() -> None:
    pass


@audit.command("verify", help="校验审计哈希链;--bundle 离线校验下载的事项审计包(无需数据库)。断链时退出码为 1")
@click.option("--bundle", "bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def audit_verify(bundle: Path | None) -> None:
    import json

    from engine.audit import verify

    if bundle is not None:
        try:
            verdict = verify.verify_bundle(json.loads(bundle.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            click.echo(f"无法读取审计包 {bundle}: {exc}", err=True)
            sys.exit(1)
    else:
        database = _db()
        try:
            verdict = verify.verify_database(database)
        finally:
            database.dispose()
    if verdict.ok:
        click.echo(f"已验证:{verdict.cases} 个事项、{verdict.events} 条记录,哈希链完整")
        return
    click.echo(f"哈希链断开:{verdict.broken}", err=True)
    sys.exit(1)


@audit.command("export", help="导出事件日志(CSV 或 XES),例如: minyi audit export --format xes -o log.xes")
@click.option("--format", "fmt", type=click.Choice(["csv", "xes"]), default="csv")
@click.option("--process", "process_id", default="", help="只导出该流程(process id)")
@click.option("--from", "date_from", default="", help="受理日期起(YYYY-MM-DD)")
@click.option("--to", "date_to", default="", help="受理日期止(YYYY-MM-DD)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def audit_export(fmt: str, process_id: str, date_from: str, date_to: str, output: Path) -> None:
    from engine.audit import export, search

    try:
        query = search.parse_query({"process": process_id, "from": date_from, "to": date_to})
        database = _db()
        try:
            output.write_bytes(export.export_log(database, None, query, fmt))
        finally:
            database.dispose()
    except MinyiError as exc:
        _fail(exc)
    click.echo(f"已导出到 {output}")


@main.command(help="启动网页(默认 http://127.0.0.1:5000)")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--with-worker", is_flag=True, help="同时在后台运行定时任务(与 minyi worker 相同),随网页一起停止")
def run(host: str, port: int, with_worker: bool) -> None:
    from waitress import serve

    from web import create_app

    _configure_logging()
    try:
        app = create_app({"DATABASE_URL": database_url()})
    except ValueError as exc:  # a setting in the environment is wrong; the message names it
        click.echo(str(exc), err=True)
        sys.exit(1)
    stop = _start_worker(app.extensions["minyi_db"]) if with_worker else None
    click.echo(f"民议已启动: http://{host}:{port}  (Ctrl+C 停止)")
    try:
        # waitress drops X-Forwarded-* unless told otherwise; the app's ProxyFix decides which to believe
        serve(app, host=host, port=port, threads=8, clear_untrusted_proxy_headers=not app.config["TRUSTED_PROXIES"])
    finally:
        if stop is not None:
            stop.set()


def _configure_logging() -> None:
    """Log lines as MINYI_LOG_FORMAT says (json or text, see web/observe.py)."""
    from web.observe import configure_logging

    try:
        configure_logging()
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


SERVE = ServeOptions()  # `minyi serve`'s defaults are the server's own


@main.command(help="生产环境的网页服务(gunicorn,多个进程):需要 MINYI_SECRET_KEY;SIGHUP 平滑重启,SIGTERM 停止")
@click.option("--bind", "-b", multiple=True, default=list(SERVE.bind), show_default=True,
              help="监听地址 HOST:PORT 或 unix:/路径,可多次")
@click.option("--workers", "-w", default=SERVE.workers, show_default=True,
              type=click.IntRange(min=1), help="工作进程数(默认 CPU 核数,至少 2)")
@click.option("--threads", default=SERVE.threads, show_default=True, type=click.IntRange(min=1),
              help="每个进程的线程数(多于 2 个时线程争用同一把 Python 全局锁,吞吐反而下降;要更多并发请加进程)")
@click.option("--timeout", default=SERVE.timeout, show_default=True, type=click.IntRange(min=5),
              help="一个请求最长的秒数,超过则替换该进程")
@click.option("--keepalive", default=SERVE.keepalive, show_default=True, type=click.IntRange(min=1),
              help="空闲连接保持的秒数")
@click.option("--max-connections", default=SERVE.worker_connections, show_default=True, type=click.IntRange(min=10),
              help="每个进程最多同时打开的连接;更多的连接立即得到 503")
@click.option("--pid", "pidfile", default=None, type=click.Path(dir_okay=False), help="写入主进程号的文件")
def serve(bind: tuple[str, ...], workers: int, threads: int, timeout: int, keepalive: int, max_connections: int,
          pidfile: str | None) -> None:
    from web import production
    from web.server import MinyiServer

    _configure_logging()

    problem = production.secret_key_problem(os.environ)
    if problem:
        click.echo(problem, err=True)
        sys.exit(1)
    os.environ["MINYI_ENV"] = "production"  # the workers check the key again when they build the app
    if workers > 1 and not os.environ.get("MINYI_RATELIMIT_STORAGE"):
        click.echo("注意: 未设置 MINYI_RATELIMIT_STORAGE,限流计数只在各进程内存中;"
                   "多进程或多台服务器请设置 MINYI_RATELIMIT_STORAGE=redis://127.0.0.1:6379/0", err=True)
    options = ServeOptions(bind=bind, workers=workers, threads=threads, timeout=timeout, keepalive=keepalive,
                           worker_connections=max_connections, pidfile=pidfile)
    click.echo(f"民议生产服务启动: {', '.join(bind)}({workers} 个进程 × {threads} 个线程)", err=True)
    MinyiServer(options, {"DATABASE_URL": database_url()}).run()


def _start_worker(database: Database):
    """The timer worker as a daemon thread of the web process; it stops when the server stops."""
    import threading

    from engine.work import timers

    stop = threading.Event()
    threading.Thread(target=timers.run_worker, args=(database,), kwargs={"stop": stop},
                     name="minyi-worker", daemon=True).start()
    return stop


@main.command(help="定时任务:触发到期的定时器、到期提醒和逾期督办、发送外发通知(可在多台机器上同时运行)")
@click.option("--once", is_flag=True, help="只扫描一次后退出")
@click.option("--interval", default=30.0, type=click.FloatRange(min=0.5),
              help="两次扫描间隔的秒数(默认 30;用 --once 定时运行时填运行间隔,就绪检查据此判断进程是否还活着)")
def worker(once: bool, interval: float) -> None:
    from engine import clock
    from engine.bpmn import calendar
    from engine.work import calendar_days, heartbeat, timers

    _configure_logging()
    database = _db()
    calendar_days.refresh(database)  # the notices an administrator entered in 工作日历
    warning = calendar.coverage_warning(clock.today().year + 1) or calendar.coverage_warning(clock.today().year)
    if warning:
        click.echo(f"注意: {warning}", err=True)
    if once:
        heartbeat.beat(database, heartbeat.worker_name(), interval, clock.now())
        done = timers.sweep(database)
        click.echo(f"已扫描: 定时器 {done['timers']},提醒 {done['reminder']},逾期 {done['overdue']},"
                   f"外发 {done['sent']}")
        return
    click.echo(f"定时任务已启动,每 {interval:g} 秒扫描一次(Ctrl+C 停止)")
    try:
        timers.run_worker(database, interval=interval)
    except KeyboardInterrupt:
        click.echo("定时任务已停止")


if __name__ == "__main__":
    main()

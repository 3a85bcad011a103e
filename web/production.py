"""What running for real requires of the environment: a session key every server shares.

A key generated into `instance/secret_key` (what `make run` uses) is one machine's file: a second server
would sign sessions with another key and every sign-in would end at the next request it answers. So in
production (`minyi serve`, or MINYI_ENV=production) the key must come from MINYI_SECRET_KEY, and be long.
"""
from __future__ import annotations

from collections.abc import Mapping

MIN_LENGTH = 32


def secret_key_problem(environ: Mapping[str, str]) -> str | None:
    """Why MINYI_SECRET_KEY will not do in production (in Chinese and English), or None when it will."""
    key = environ.get("MINYI_SECRET_KEY", "")
    hint = "生成方法: python3 -c 'import secrets; print(secrets.token_hex(32))'"
    if not key:
        return ("生产环境必须用环境变量 MINYI_SECRET_KEY 设置会话密钥(各服务器相同,至少 32 个字符);" + hint
                + "\nMINYI_SECRET_KEY must be set in production (the same on every server, at least 32 characters).")
    if len(key) < MIN_LENGTH:
        return (f"MINYI_SECRET_KEY 太短:只有 {len(key)} 个字符,至少需要 {MIN_LENGTH} 个;" + hint
                + f"\nMINYI_SECRET_KEY is too short: {len(key)} characters, at least {MIN_LENGTH} are required.")
    return None


def is_production(environ: Mapping[str, str]) -> bool:
    return environ.get("MINYI_ENV", "").strip().lower() == "production"

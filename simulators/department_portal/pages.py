"""The department system's pages: plain HTML in Chinese, readable on a phone,
with inline CSS only and no JavaScript. Every value shown is escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from markupsafe import Markup

from .sessions import SignedIn

PORTAL_NAME = "苏州市住房公积金管理中心 网上服务大厅"
CHINA = timezone(timedelta(hours=8))
ASSURANCE_LEVELS = {
    "urn:tongban:loa:1": "已注册（未实名认证）",
    "urn:tongban:loa:2": "已实名认证",
}
SERVICES = ("个人缴存明细查询", "提取申请（租房、购房、退休）", "贷款进度查询", "缴存证明打印")

STYLE = Markup("""
body { margin: 0; font: 18px/1.6 "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: #111; background: #fff; }
header { background: #0b4f8a; color: #fff; padding: 0.75rem 1rem; }
header p { margin: 0; font-weight: bold; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; }
a, button { font: inherit; }
a { color: #0b4f8a; }
.action { display: inline-block; padding: 0.6rem 1.2rem; border: 2px solid #0b4f8a;
  background: #0b4f8a; color: #fff; text-decoration: none; border-radius: 4px; cursor: pointer; }
.secondary { background: #fff; color: #0b4f8a; }
a:focus-visible, button:focus-visible { outline: 3px solid #d35400; outline-offset: 2px; }
[role="alert"], [role="status"] { border-left: 6px solid #b00020; background: #fdecea;
  padding: 0.5rem 1rem; }
[role="status"] { border-color: #1b5e20; background: #e8f5e9; }
footer { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #444; font-size: 1rem; }
""")


def page(title: str, body: Markup) -> str:
    """A whole page: ``title`` (plain text) and the escaped ``body``."""
    return Markup(
        "<!doctype html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>{title} - {portal}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        "<header><p>{portal}</p></header>\n"
        '<main id="main">\n{body}\n</main>\n'
        "<footer><p>演示系统：本大厅通过江苏政务服务网统一身份认证登录（OpenID Connect），"
        "不保存您的密码。</p></footer>\n</body>\n</html>\n"
    ).format(title=title, portal=PORTAL_NAME, style=STYLE, body=body)


def _signed_in_at(user: SignedIn) -> str:
    return (
        datetime.fromtimestamp(user.signed_in_at, UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    )


def home(user: SignedIn | None, notice: str | None = None) -> str:
    """``/``: who is signed in and what they can do, or how to sign in."""
    parts = []
    if notice:
        parts.append(Markup('<p role="status">{}</p>').format(notice))
    if user is None:
        parts.append(
            Markup(
                "<h1>欢迎使用网上服务大厅</h1>\n"
                "<p>登录后可查询公积金缴存、提取和贷款信息。</p>\n"
                '<p><a class="action" href="/login">用江苏政务服务网账号登录</a></p>'
            )
        )
        return page("首页", Markup("\n").join(parts))
    rows = [("姓名", user.name or "（未提供）")]
    if user.acr:
        rows.append(("实名等级", ASSURANCE_LEVELS.get(user.acr, user.acr)))
    if user.phone_number:
        rows.append(("手机号码", user.phone_number))
    rows.append(("登录时间", _signed_in_at(user)))
    details = Markup("").join(
        Markup("<dt>{}</dt><dd>{}</dd>\n").format(label, value) for label, value in rows
    )
    services = Markup("").join(Markup("<li>{}</li>").format(service) for service in SERVICES)
    parts.append(
        Markup(
            "<h1>您好，{name}</h1>\n"
            "<p>您已通过江苏政务服务网登录。</p>\n"
            "<dl>\n{details}</dl>\n"
            "<h2>可办理的业务（演示）</h2>\n<ul>{services}</ul>\n"
            # A POST: with the cookie SameSite=Lax, another site cannot sign
            # the visitor out behind their back.
            '<form method="post" action="/logout">'
            '<button class="action secondary" type="submit">退出登录</button></form>'
        ).format(name=user.name or "用户", details=details, services=services)
    )
    return page("首页", Markup("\n").join(parts))


def sign_in_failed(reason: str) -> str:
    """The callback's page when the sign-in did not complete."""
    return page(
        "登录未完成",
        Markup(
            '<h1>登录未完成</h1>\n<p role="alert">{reason}</p>\n'
            '<p><a class="action" href="/login">重新登录</a> <a href="/">返回首页</a></p>'
        ).format(reason=reason),
    )


def unavailable() -> str:
    """When tongban cannot be reached."""
    return page(
        "暂时无法登录",
        Markup(
            '<h1>暂时无法登录</h1>\n<p role="alert">江苏政务服务网暂时无法访问，请稍后再试。</p>\n'
            '<p><a href="/">返回首页</a></p>'
        ),
    )


PROBLEMS = {404: "页面不存在", 405: "此页面不能这样打开"}


def problem(status: int) -> str:
    """A routing failure (404, 405) in words, with the way home."""
    heading = PROBLEMS.get(status, "无法处理此请求")
    return page(heading, Markup('<h1>{}</h1>\n<p><a href="/">返回首页</a></p>').format(heading))

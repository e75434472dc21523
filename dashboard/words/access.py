"""Words of signing in and of what a viewer may not see (``dashboard.auth``)."""

WORDS: dict[str, tuple[str, str]] = {
    "title": ("登录 OrderBoard", "Sign in to OrderBoard"),
    "name": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "submit": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "admin": ("用户与权限", "Users and access"),
    "failed": ("用户名或密码不对。", "Wrong user name or password."),
    "locked": ("尝试次数过多，请在 {until} 之后再试。", "Too many attempts: try again after {until}."),
    "no_users": ("还没有用户：在服务器上运行 orderboard user add 名字 --role admin 创建第一个管理员。",
                 "No users yet: on the server, run `orderboard user add NAME --role admin` to create the first admin."),
    "signed_in_as": ("{name}（{role}）", "{name} ({role})"),
    "local_only": ("未启用登录：仅限本机访问", "No login: this computer only"),
    "token_revoked": ("此大屏的显示令牌已被撤销", "This wall's display token was revoked"),
    "token_unknown": ("此大屏的显示令牌无效", "This wall's display token is not valid"),
    "token_ask": ("请向管理员索取新的大屏链接。", "Ask an administrator for a new wall link."),
    "token_walls_only": ("显示令牌只能打开大屏。", "A display token opens walls only."),
    "forbidden": ("你没有权限打开此页面。", "You may not open this page."),
    "remote_refused": (
        "此服务器未启用登录，只供本机使用。要从其他电脑访问，"
        "请设置 ORDERBOARD_SECRET_KEY 并用 orderboard user add 创建用户。",
        "This server has no login and serves this computer only. To serve other computers, "
        "set ORDERBOARD_SECRET_KEY and create users with `orderboard user add`."),
}

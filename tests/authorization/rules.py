"""The matrix's table: for every route of the URL conf, how to call it and the outcome each
role must get (see test_matrix.py for the roles and outcomes). The site's own routes and the
admin's are here; each app's rows are in its own module."""

from __future__ import annotations

from tests.authorization.cells import (
    LOGIN,
    REDIRECT,
    Rule,
    admin_only,
    everyone,
    literal,
    row,
)
from tests.authorization.rules_adjudication import ADJUDICATION_RULES
from tests.authorization.rules_annotator import ANNOTATOR_RULES
from tests.authorization.rules_control import CONTROL_RULES
from tests.authorization.rules_evaluation import EVALUATION_RULES
from tests.authorization.rules_modelzoo import MODELZOO_RULES
from tests.authorization.rules_revisions import REVISION_RULES
from tests.authorization.world import ROLES

RULES: list[Rule] = [
    # --- the site's own routes ---------------------------------------------------------
    Rule("home", literal("/"), row(anonymous=LOGIN, **dict.fromkeys(ROLES[1:], REDIRECT))),
    Rule("health", literal("/healthz"), everyone(200)),
    Rule("login", literal("/accounts/login/"), everyone(200)),
    Rule("logout", literal("/accounts/logout/"), everyone(LOGIN), method="post"),
    Rule("api-schema", literal("/api/schema/"), everyone(200)),
    Rule("api-docs", literal("/api/docs/"), everyone(200)),
    # --- the admin site: staff only; each family on a representative model ----------------
    Rule("admin:index", literal("/admin/"), admin_only()),
    Rule("admin:login", literal("/admin/login/"), row(**dict.fromkeys(ROLES[:-1], 200), admin=REDIRECT)),
    # Django's admin sends non-staff users to its index, which then asks them to log in.
    Rule(
        "admin:logout",
        literal("/admin/logout/"),
        row(**dict.fromkeys(ROLES[:-1], REDIRECT), admin=LOGIN),
        method="post",
    ),
    Rule("admin:password_change", literal("/admin/password_change/"), admin_only()),
    Rule("admin:password_change_done", literal("/admin/password_change/done/"), admin_only()),
    Rule("admin:autocomplete", literal("/admin/autocomplete/"), admin_only(403)),
    Rule("admin:jsi18n", literal("/admin/jsi18n/"), admin_only()),
    Rule("admin:view_on_site", literal("/admin/r/1/1/"), admin_only(404)),
    Rule("admin:app_list", literal("/admin/annotator/"), admin_only()),
    Rule("admin:model-changelist", literal("/admin/annotator/dataset/"), admin_only()),
    Rule("admin:model-add", literal("/admin/annotator/dataset/add/"), admin_only()),
    Rule("admin:model-change", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/change/", admin_only()),
    Rule("admin:model-delete", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/delete/", admin_only()),
    Rule("admin:model-history", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/history/", admin_only()),
    Rule("admin:model-object", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/", admin_only(REDIRECT)),
    Rule("admin:user-password", lambda w: f"/admin/auth/user/{w.owner.pk}/password/", admin_only()),
    Rule("admin:catch-all", literal("/admin/no-such-page/"), admin_only(404)),
]
RULES += ANNOTATOR_RULES + MODELZOO_RULES + EVALUATION_RULES
# The researcher's control of a running study, one module per concern.
RULES += CONTROL_RULES + REVISION_RULES + ADJUDICATION_RULES

"""The visit record form on Slack: opened by `/seen record` or a reminder's button as a modal,
stored on submission (the form and its checks: bot.core.visit_form, bot.core.visit_form_store)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import access
from bot.core.access import Refused
from bot.core.context import Core, Submission, crash_point
from bot.core.form_answers import FormErrors
from bot.core.visit_form_store import VisitRecording
from bot.slack import views
from bot.slack.errors import form_metadata, noop_ack
from bot.slack.forms import SlackAnswers
from bot.slack.messenger import warned
from storage.facts import FactError
from storage.models import Staff

log = logging.getLogger("seen.bot")


class VisitForm(VisitRecording, Core):
    """The visit record form: opened by `/seen record` or a reminder's button, stored on submission."""

    def _record_form(self, s: Session, staff: Staff, child: Any, now: Any) -> tuple[dict[str, Any], str]:
        form, reply = self.record_form_for(s, staff, child, now)
        return views.visit_modal(form), reply

    def siblings_changed(self, body: dict[str, Any], client: Any) -> None:
        """The form's sibling selection changed: the form again with one section per child."""
        view = body["view"]
        meta = form_metadata(view)
        chosen = SlackAnswers((view.get("state") or {}).get("values")).choices(
            "siblings", views.SIBLINGS_ACTION
        )
        user = body["user"]["id"]
        try:
            with self.factory() as s:
                staff = access.staff_for(s, user)
                form = self.form_with_siblings(s, staff, meta, chosen)
        except Refused as exc:  # the form stays as it was; submitting it is refused the same way
            c = meta.get("c")
            self.refused(user, "visit record", str(exc), c if isinstance(c, str) else None)
            return
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=views.visit_modal(form))
        except SlackApiError as exc:  # the form stays as it was (hash_conflict: a newer one is shown)
            log.warning("views.update of the visit form failed: %s", exc.response.get("error"))

    def _submit(
        self,
        ack: Any,
        body: dict[str, Any],
        view: dict[str, Any],
        client: Any,
        *,
        kind: str,
        refused_as: str,
        error_block: str,
        store: Callable[[Session, Staff, Submission], None],
        follow_up: Callable[[dict[str, Any], dict[str, Any], Any], None],
    ) -> None:
        """A modal submission: checked and stored before the acknowledgement (per-field errors go in
        it), then the follow-up. (Not a lazy listener: Bolt starts those alongside this one, not after
        it.) `store` reads the form and writes its facts inside the write transaction; a refusal is
        audited and shown on `error_block`. The crash points are "<kind>-before-commit" and
        "<kind>-after-commit"."""
        meta = form_metadata(view)
        user = body["user"]["id"]
        submitted = Submission(view, meta, (view.get("state") or {}).get("values") or {}, self.clock())
        try:
            with self.writing() as s:
                staff = access.staff_for(s, user)
                store(s, staff, submitted)
                crash_point(f"{kind}-before-commit")
            crash_point(f"{kind}-after-commit")
        except FormErrors as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except (Refused, FactError) as exc:
            self.refused(user, refused_as, str(exc), meta.get("c"))
            ack(response_action="errors", errors={error_block: str(exc)[:150]})
            return
        ack()
        self._after(follow_up, body, view, client)

    def submit_visit(self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        """The visit record form: a contact and its record for each child, then a confirmation."""
        self._submit(
            ack,
            body,
            view,
            client,
            kind="visit",
            refused_as="visit record",
            error_block=f"outcome__{form_metadata(view).get('c')}",
            store=self._store_visit,
            follow_up=self.after_visit,
        )

    def _store_visit(self, s: Session, staff: Staff, submitted: Submission) -> None:
        key = f"slack:view:{submitted.view['id']}"
        self.store_visit(s, staff, submitted.meta, SlackAnswers(submitted.values), submitted.now, key)

    def after_visit(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        """After a saved record: a confirmation to the worker (case references and labels only)."""
        text = self.visit_saved(f"slack:view:{view['id']}", form_metadata(view))
        if text is not None:
            warned(
                client.chat_postMessage(channel=body["user"]["id"], text=views.mrkdwn(text)), "confirmation"
            )

    @staticmethod
    def _after(follow_up: Callable[..., None], *args: Any) -> None:
        try:
            follow_up(*args)
        except Exception:  # the fact is stored; a failed confirmation must not hide that
            log.exception("follow-up %s failed", follow_up.__name__)


def register(app: App, bot: VisitForm) -> None:
    app.action(views.SIBLINGS_ACTION)(ack=noop_ack, lazy=[bot.siblings_changed])
    app.view(views.VISIT_CALLBACK)(bot.submit_visit)

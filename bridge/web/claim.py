"""The claim page: a person gives the bank account for a SEPA payout, from the link in their e-mail."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from bridge.basics.money import display_amount
from bridge.delivery.sepa import (
    AccountRefused,
    check_account,
    claimable_payout,
    mask_iban,
    save_account,
    stored_account,
)
from bridge.rewards.payouts import CLAIMABLE, READY

bp = Blueprint("claim", __name__, template_folder="templates")

TEXTS = {
    "fr": dict(title="Recevoir {amount}", intro="{shop} {tu_vous_doit} {amount}, versés par virement SEPA.",
               holder="Titulaire du compte", iban="IBAN", bic="BIC (facultatif)", submit="Enregistrer",
               saved="Merci ! Le virement de {amount} partira sur le compte {iban}.",
               done="Ce versement est déjà en cours ou effectué : rien à faire.",
               invalid="Ce lien n'est pas valable. Vérifiez qu'il est complet, ou contactez {shop}.",
               holder_missing="Le nom du titulaire du compte est obligatoire (70 caractères au plus).",
               iban_invalid="Cet IBAN n'est pas valable : vérifiez chaque caractère.",
               iban_outside_sepa="Ce compte n'est pas dans la zone SEPA : le virement ne peut pas y arriver.",
               bic_invalid="Ce BIC n'est pas valable (8 ou 11 caractères).",
               bic_mismatch="Ce BIC n'est pas du même pays que l'IBAN."),
    "en": dict(title="Receive {amount}", intro="{shop} owes you {amount}, paid by SEPA bank transfer.",
               holder="Account holder", iban="IBAN", bic="BIC (optional)", submit="Save",
               saved="Thank you! The transfer of {amount} will go to the account {iban}.",
               done="This payout is already on its way or done: nothing to do.",
               invalid="This link is not valid. Check that it is complete, or contact {shop}.",
               holder_missing="The account holder's name is required (70 characters at most).",
               iban_invalid="This IBAN is not valid: check every character.",
               iban_outside_sepa="This account is outside the SEPA zone: the transfer cannot reach it.",
               bic_invalid="This BIC is not valid (8 or 11 characters).",
               bic_mismatch="This BIC is not from the IBAN's country."),
}
# French shops that say `tu`: the same texts, addressing the person as they do.
TEXTS["fr-tu"] = {**TEXTS["fr"],
                  "invalid": "Ce lien n'est pas valable. Vérifie qu'il est complet, ou contacte {shop}.",
                  "iban_invalid": "Cet IBAN n'est pas valable : vérifie chaque caractère."}


@bp.route("/claim/<token>", methods=["GET", "POST"])
def claim(token: str) -> ResponseReturnValue:
    """Show the form, or keep the account; a wrong token shows a friendly page with 404."""
    config = current_app.extensions["bridge"].config
    payout = claimable_payout(config.server.secret_key, token)
    shop = config.shop(payout.reward.shop) if payout else config.shops[0]
    lang = shop.locale if shop.locale in ("fr", "en") else "en"
    vous = shop.tone == "vous"
    texts = TEXTS["fr-tu" if lang == "fr" and not vous else lang]
    page = dict(shop=shop, lang=lang, texts=texts, errors={}, values={}, message=None, form=False)
    if payout is None:
        page["message"] = texts["invalid"].format(shop=shop.name)
        return _page(page, texts, "", vous), 404
    amount = display_amount(payout.amount, payout.currency, lang)
    account = stored_account(payout)
    if payout.state not in CLAIMABLE:
        page["message"] = texts["done"]
        return _page(page, texts, amount, vous)
    if request.method == "POST":
        values = {k: (request.form.get(k) or "")[:200] for k in ("holder", "iban", "bic")}
        page["values"] = values
        try:
            holder, iban, bic = check_account(values["holder"], values["iban"], values["bic"])
        except AccountRefused as exc:
            page["errors"] = {exc.field: texts[exc.code]}
            page["form"] = True
            return _page(page, texts, amount, vous), 422
        state = save_account(payout, holder, iban, bic, datetime.now(timezone.utc))
        page["message"] = texts["saved" if state == READY else "done"].format(amount=amount, iban=mask_iban(iban))
        return _page(page, texts, amount, vous)
    if account is not None:  # a correction before export; a stored IBAN is never echoed back into a page
        page["values"] = {"holder": account.holder, "iban": "", "bic": account.bic or ""}
    page["form"] = True
    return _page(page, texts, amount, vous)


def _page(page: dict, texts: dict, amount: str, vous: bool):
    shop = page["shop"]
    owes = "vous doit" if vous else "te doit"
    page["title"] = texts["title"].format(amount=amount)
    page["intro"] = texts["intro"].format(shop=shop.name, amount=amount, tu_vous_doit=owes)
    response = current_app.make_response(render_template("claim.html", **page))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'"
    return response

"""The engine's reasons (checks, flags, payout errors) in the owner's language: the engine writes them in English,
with their figures; a French page shows each one translated, figures kept. An unknown text is shown as written."""

from __future__ import annotations

import re

# (the English text as `rewards/` writes it, the French); groups are carried over in order
_FRENCH = [(re.compile(f"{english}$"), french) for english, french in (
    (r"never paid", "jamais payée"),
    (r"paid at (.+)", "payée le {0}"),
    (r"no payment date from the shop: first seen paid at (.+)", "la boutique ne donne pas de date de paiement : vue payée le {0}"),
    (r"in (\w+), but the campaign pays in (\w+)", "en {0}, mais la campagne paie en {1}"),
    (r"order total (.+) is below the minimum of (.+)", "total de la commande {0}, sous le minimum de {1}"),
    (r"outside the campaign's dates \((.+) to (.+)\)", "hors des dates de la campagne (du {0} au {1})"),
    (r"has no eligible product", "aucun produit éligible"),
    (r"came through group (.+)'s link \((.+)\)", "venue par le lien du groupe {0} ({1})"),
    (r"the link's group \((.+)\) is not one of this campaign's: never opened in it, or opened after this order",
     "le groupe du lien ({0}) n'est pas de cette campagne : jamais ouvert, ou ouvert après cette commande"),
    (r"paid after the group closed at (.+)", "payée après la fermeture du groupe, le {0}"),
    (r"in (\w+), the group is in (\w+)", "en {0}, le groupe est en {1}"),
    (r"has none of the group's products", "aucun des produits du groupe"),
    (r"has none of the campaign's products \((.+)\)", "aucun des produits de la campagne ({0})"),
    (r"the same person already belongs to this group \(order (.+)\)", "la même personne est déjà dans ce groupe (commande {0})"),
    (r"admin refused: (.*)", "refusée par un administrateur : {0}"),
    (r"admin allowed: (.*)", "acceptée par un administrateur : {0}"),
    (r"the e-mail is from a disposable-mail provider", "l'e-mail vient d'un service d'adresses jetables"),
    (r"(\d+) or more joins from one IP within an hour", "{0} achats ou plus depuis une même adresse IP en une heure"),
    (r"(\d+) or more joins through one link within an hour", "{0} achats ou plus par un même lien en une heure"),
    (r"same e-mail as the person who shared the link", "même e-mail que la personne qui a partagé le lien"),
    (r"same customer account as the person who shared the link", "même compte client que la personne qui a partagé le lien"),
    (r"same billing address as the person who shared the link",
     "même adresse de facturation que la personne qui a partagé le lien"),
    (r"same IP address and browser as the person who shared the link, within 24 hours",
     "même adresse IP et même navigateur que la personne qui a partagé le lien, à moins de 24 heures"),
    (r"same e-mail as the referrer", "même e-mail que la personne qui parraine"),
    (r"same customer account as the referrer", "même compte client que la personne qui parraine"),
    (r"same billing address as the referrer", "même adresse de facturation que la personne qui parraine"),
    (r"same IP address and browser as the referrer, within 24 hours",
     "même adresse IP et même navigateur que la personne qui parraine, à moins de 24 heures"),
    (r"the link was posted on (.+), a coupon site: its buyers are strangers, not friends",
     "le lien a été publié sur {0}, un site de codes promo : ses acheteurs sont des inconnus, pas des amis"),
    (r"this e-mail had already ordered from the shop", "cet e-mail avait déjà commandé dans la boutique"),
    (r"the order was cancelled or refunded before the hold ended",
     "la commande a été annulée ou remboursée avant la fin du délai de retour"),
    (r"(\S+) (\w{3}) left of the campaign's budget, less than the reward of (\S+) (\w{3})",
     "{0} {1} restants au budget de la campagne, moins que la récompense de {2} {3}"),
    (r"(\d+) earlier reward\(s\), cap (\d+)", "{0} récompense(s) déjà, plafond de {1}"),
    (r"(\d+) reward\(s\) in the period before, cap (\d+)", "{0} récompense(s) sur la période, plafond de {1}"),
    (r"waiting for the hold to end at (.+)", "en attente de la fin du délai de retour, le {0}"),
    (r"manual approval", "accord manuel demandé par la campagne"),
    (r"cancelled by an admin: (.*)", "annulé par un administrateur : {0}"),
    (r"the shop's system: (.*)", "le système de la boutique : {0}"),
    (r"no uploaded code of (.+) left: upload more with `(.+)`", "plus de code importé de {0} : importez-en avec `{1}`"),
    # rewards' reasons and what admin actions did
    (r"(\S+)% of (\S+)(, capped at .+)?", "{0} % de {1}{2}"),
    (r"fixed (.+)", "montant fixe de {0}"),
    (r"left the group: order cancelled", "a quitté le groupe : commande annulée"),
    (r"left the group: order fully refunded", "a quitté le groupe : commande remboursée en entier"),
    (r"the group has (\d+) buyer\(s\), below the first tier \((\d+)\)", "le groupe a {0} acheteur(s), sous le premier palier ({1})"),
    (r"order (\S+): refused \((.*)\)(.*)", "commande {0} : refusée ({1}){2}"),
    (r"order (\S+): allowed \((.*)\)(.*)", "commande {0} : acceptée ({1}){2}"),
    (r"payout (\S+) cancelled", "versement {0} annulé"),
    (r"order refused: (.*)", "commande refusée : {0}"),
    (r"the next tick decides it again", "la prochaine exécution du worker en décide à nouveau"),
)]


_DECIMALS = re.compile(r"(?<![\w.:])(\d+)\.(\d+)(?![\w.:])")


def reason_in(text: str | None, lang: str) -> str:
    """One reason, or several joined by "; " (a payout's review), in the page's language."""
    if not text or lang != "fr":
        return text or ""
    return "; ".join(_one(part) for part in text.split("; "))


def _one(text: str) -> str:
    for english, french in _FRENCH:
        found = english.match(text)
        if found:
            # (a member's cap is an optional tail of the cashback's reason: its words are the only ones in a group)
            french = french.format(*(g or "" for g in found.groups())).replace(", capped at", ", plafonné à")
            return _DECIMALS.sub(r"\1,\2", french)  # amounts as French readers write them: 48,00
    return text

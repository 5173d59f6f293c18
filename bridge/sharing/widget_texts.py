"""What the widget says, in each language and tone: sent with the shop in every answer the widget reads.

The script carries no text of its own (it stays small, and one place holds every word): it shows
what `texts_for` gives, filling {n}, {c}... in. `fr` marks French plurals (singular below 2).
"""

from __future__ import annotations

from functools import lru_cache

ENGLISH = {
    "title": "Buy together, get money back",
    "members": "{n} buyers so far",
    "members1": "{n} buyer so far",
    "final": "{n} buyers",
    "final1": "{n} buyer",
    "now": "{c} back for everyone",
    "below": "From {b} buyers, everyone gets {c} back",
    "next": "{m} more buyers and everyone gets {c}",
    "next1": "{m} more buyer and everyone gets {c}",
    "day": "d",
    "top": "Top cashback reached",
    "closes": "Closes in",
    "closed": "This link is closed",
    "share": "Share your link",
    "copy": "Copy",
    "copied": "Copied!",
    "you": "You get {a} back so far",
    "got": "You get {a} back",
    "more": "Share",
    "land": "A friend's link: buy before it closes and you all get up to {c} back",
    "shut": "This group link is closed, but the shop is open",
    "welcome": "A friend gives you {c} off your first order",
    "welcomef": "{f} gives you {c} off your first order",
    "email": "Your e-mail",
    "get": "Get my coupon",
    "code": "Your code: {k}",
    "dismiss": "Close",
    "pending": "Your code is on its way to your e-mail",
    "no_bad_email": "Please check the e-mail address",
    "no_not_new": "This offer is for a first order, and this e-mail has ordered before",
    "no_own_code": "This offer is for your friends, not for you",
    "no_other": "The offer could not be given now: try again later",
    "msg": "I bought this at {s}: buy it through my link and we all get money back! {u}",
    "awaiting": "Your share link is coming as soon as your payment is confirmed (by e-mail too)",
    "rtitle": "Refer your friends",
    "roffer": "Your friends get {w} off their first order, and you get {r} for each of them",
    "rmsg": "{w} off your first order at {s} with my link: {u}",
    "rget": "Send me my link",
    "rsent": "If this address has ordered from us, your link is on its way by e-mail",
}

# French, tutoiement (the default tone)
TU = {
    "title": "Achetez ensemble, soyez remboursés",
    "members": "{n} acheteurs pour l'instant",
    "members1": "{n} acheteur pour l'instant",
    "final": "{n} acheteurs",
    "final1": "{n} acheteur",
    "now": "{c} remboursés pour chacun",
    "below": "Dès {b} acheteurs, chacun récupère {c}",
    "next": "Encore {m} acheteurs et tout le monde récupère {c}",
    "next1": "Encore {m} acheteur et tout le monde récupère {c}",
    "day": "j",
    "top": "Remboursement maximum atteint",
    "closes": "Se ferme dans",
    "closed": "Ce lien est fermé",
    "share": "Partage ton lien",
    "copy": "Copier",
    "copied": "Copié !",
    "you": "Tu récupères {a} pour l'instant",
    "got": "Tu récupères {a}",
    "more": "Partager",
    "land": "Le lien d'un ami : achète avant la fermeture et vous récupérez tous jusqu'à {c}",
    "shut": "Ce lien de groupe est fermé, mais la boutique est ouverte",
    "welcome": "Un ami t'offre {c} sur ta première commande",
    "welcomef": "{f} t'offre {c} sur ta première commande",
    "email": "Ton e-mail",
    "get": "Recevoir mon bon",
    "code": "Ton code : {k}",
    "dismiss": "Fermer",
    "pending": "Ton code arrive par e-mail",
    "no_bad_email": "Vérifie l'adresse e-mail",
    "no_not_new": "Cette offre est pour une première commande, et cette adresse a déjà commandé",
    "no_own_code": "Cette offre est pour tes proches, pas pour toi",
    "no_other": "L'offre n'a pas pu être donnée : réessaie plus tard",
    "msg": "J'ai acheté ça chez {s} : achète-le avec mon lien et on est tous remboursés ! {u}",
    "awaiting": "Ton lien de partage arrive dès que ton paiement est confirmé (par e-mail aussi)",
    "rtitle": "Parraine tes proches",
    "roffer": "Tes proches ont {w} de réduction sur leur première commande, et tu reçois {r} pour chacun d'eux",
    "rmsg": "{w} de réduction sur ta première commande chez {s} avec mon lien : {u}",
    "rget": "Recevoir mon lien",
    "rsent": "Si cette adresse a déjà commandé chez nous, ton lien arrive par e-mail",
}

# French, vouvoiement: what differs from TU
VOUS = {
    "share": "Partagez votre lien",
    "you": "Vous récupérez {a} pour l'instant",
    "got": "Vous récupérez {a}",
    "land": "Le lien d'un proche : achetez avant la fermeture et vous récupérez tous jusqu'à {c}",
    "welcome": "Un proche vous offre {c} sur votre première commande",
    "welcomef": "{f} vous offre {c} sur votre première commande",
    "email": "Votre e-mail",
    "code": "Votre code : {k}",
    "pending": "Votre code arrive par e-mail",
    "no_bad_email": "Vérifiez l'adresse e-mail",
    "no_not_new": "Cette offre est pour une première commande, et cette adresse a déjà commandé",
    "no_own_code": "Cette offre est pour vos proches, pas pour vous",
    "no_other": "L'offre n'a pas pu être donnée : réessayez plus tard",
    "msg": "J'ai acheté ça chez {s} : achetez-le avec mon lien et nous serons tous remboursés ! {u}",
    "awaiting": "Votre lien de partage arrive dès que votre paiement est confirmé (par e-mail aussi)",
    "rtitle": "Parrainez vos proches",
    "roffer": "Vos proches ont {w} de réduction sur leur première commande, et vous recevez {r} pour chacun d'eux",
    "rmsg": "{w} de réduction sur votre première commande chez {s} avec mon lien : {u}",
    "rsent": "Si cette adresse a déjà commandé chez nous, votre lien arrive par e-mail",
}


# Which texts each answer carries: the thank-you page's group and the buyer's referral link, a friend's
# landing, the shop's notice, the "get my link" form.
# (Only what the page shows travels: the landing's answer is the one every click's page asks for.)
USES = {
    "group": ("title", "members", "members1", "final", "final1", "now", "below", "next", "next1", "day", "top",
              "closes", "closed", "share", "copy", "copied", "you", "got", "more", "msg", "awaiting"),
    "landing": ("land", "welcome", "welcomef", "email", "get", "code", "dismiss", "pending", "no_bad_email", "no_not_new",
                "no_own_code", "no_other"),
    "notice": ("shut", "dismiss"),
    "referral": ("rtitle", "roffer", "rmsg", "share", "copy", "copied", "more"),
    "ask": ("rtitle", "roffer", "email", "rget", "rsent", "no_bad_email", "no_other"),
}


@lru_cache(maxsize=32)
def texts_for(locale: str, tone: str, use: str) -> dict:
    """The widget's texts for one use (or several, `group+referral`), in a shop's language and tone (English
    for a language without its own)."""
    words = ENGLISH if locale != "fr" else {**TU, **(VOUS if tone == "vous" else {})}
    keys = [key for part in use.split("+") for key in USES[part]]
    return {**{key: words[key] for key in keys}, **({"fr": True} if locale == "fr" else {})}

"""The dashboard's words in English and French (the shop's locale by default, or the owner's choice)."""

from __future__ import annotations

LANGUAGES = ("en", "fr")
TEXTS = {
    "en": dict(
        tab_stats="Statistics", tab_review="Review", tab_setup="Setup",
        waiting="Waiting for your approval", failed="Failed payouts", refused_joins="Joins refused",
        sepa="Bank transfers (SEPA)", actions_done="What was done", search="Search", search_hint="e-mail, order number, code or payout key",
        approve="Approve", reject="Reject", allow="Let it join", retry="Try again", cancel="Cancel", note="Note",
        note_hint="why (kept)", order="Order", amount="Amount", why="Why", when="When", who="Who", what="What",
        result="Result", founded_own="it founded its own group instead", overridden="Overridden", more="Next page",
        previous="Previous page", refused="Not done", say_why="say why, in a few words (the note is kept)",
        approved="approved", retried="put back in the queue", no_sepa="this shop has no sepa section in the configuration",
        no_sepa_ready="no SEPA payout is ready (waiting for people's IBANs, or none approved)",
        batch_made="batch {id} made with {count} transfer(s): download its file, then mark it sent once the bank took it",
        batch_sent="batch {id}: {count} payout(s) marked paid", ready_n="{n} transfer(s) ready, {total}",
        export_sepa="Make a batch", mark_sent="Mark sent", download="Download the file", batch="Batch",
        state="State", nothing_waits="Nothing waits.", via="came by",
        title="Dashboard", shop="Shop", campaign="Campaign", all_campaigns="All campaigns", since="From", until="To",
        show="Show", csv="Export CSV", logout="Log out", activity="Groups, payouts and refusals", language="Français",
        period="{since} to {until}, days in {zone}", funnel="Funnel", step="Step", count="Count", rate="Rate", shares_short="Shares", clicks_short="Clicks", orders_short="Through a link", joins_short="Accepted",
        no_site="none (typed, an app, private)",
        views="Link shown on a thank-you page", shares="Shares (buttons, copies)", clicks="Clicks on links",
        landings="Visits landed on the shop", orders="Orders through a link", joins="Joined a group or referral accepted",
        per_day="Day by day", chart_links="Shares, clicks and landings", chart_orders="Friends' orders",
        channels="Channels", channel="Channel", sites="Referring sites", site="Site",
        money="Money", currency="Currency", revenue_total="Revenue brought", revenue_net="Net of refunds",
        revenue_eligible="Eligible", granted="Rewards granted", paid="Paid", pending="Waiting to be paid",
        clawed_back="Clawed back", recovered="Recovered", cost="Cost", return_on_cost="Revenue per unit of cost",
        budgets="Budgets", budget="Budget", used="Used", left="Left", runs_out="Runs out about",
        virality="Virality", buyers="Buyers", friends="Brought by a friend", k="Friends per buyer (K)",
        chain_depth="Longest chain", sharing_buyers="Buyers who shared", first_share="Time to first share (median)",
        first_friend="Time to a group's first friend (median)", ambassadors="Ambassadors", person="Person",
        revenue="Revenue (net)", none="Nothing yet in this period.", unknown="unknown", kpi_orders="friends' orders",
        kpi_revenue="brought, net", kpi_cost="rewards", kpi_k="friends per buyer", no_shop="You may see no shop.",
        definitions="How these figures are counted",
        definitions_text=("Shown, shares and landings are reported by the widget; clicks are visits through a link. "
                          "Orders through a link count every paid order that came with a group's or a referrer's "
                          "code, joined or not. Revenue brought is what friends paid (net: less their refunds; "
                          "eligible: the part the campaign rewards). Rewards are those granted in the period. "
                          "K is friends' orders divided by all buyers."),
        whatsapp="WhatsApp", messenger="Messenger", facebook="Facebook", x="X", email="E-mail", sms="SMS",
        copy="Copied link", share="Phone's share menu", qr="QR code",
    ),
    "fr": dict(
        tab_stats="Statistiques", tab_review="À vérifier", tab_setup="Installation",
        waiting="En attente de votre accord", failed="Versements échoués", refused_joins="Entrées refusées",
        sepa="Virements (SEPA)", actions_done="Ce qui a été fait", search="Rechercher",
        search_hint="e-mail, numéro de commande, code ou clé de versement", approve="Accepter", reject="Refuser",
        allow="Laisser entrer", retry="Réessayer", cancel="Annuler", note="Note", note_hint="pourquoi (gardé)",
        order="Commande", amount="Montant", why="Pourquoi", when="Quand", who="Qui", what="Quoi", result="Résultat",
        founded_own="elle a ouvert son propre groupe à la place", overridden="Décision manuelle", more="Page suivante",
        previous="Page précédente", refused="Non fait", say_why="dites pourquoi, en quelques mots (la note est gardée)",
        approved="accepté(s)", retried="remis dans la file", no_sepa="cette boutique n'a pas de section sepa dans la configuration",
        no_sepa_ready="aucun virement n'est prêt (IBAN attendus, ou aucun accepté)",
        batch_made="lot {id} créé avec {count} virement(s) : téléchargez son fichier, puis marquez-le envoyé quand la banque l'a pris",
        batch_sent="lot {id} : {count} versement(s) marqué(s) payé(s)", ready_n="{n} virement(s) prêt(s), {total}",
        export_sepa="Créer un lot", mark_sent="Marquer envoyé", download="Télécharger le fichier", batch="Lot",
        state="État", nothing_waits="Rien n'attend.", via="venue par",
        title="Tableau de bord", shop="Boutique", campaign="Campagne", all_campaigns="Toutes les campagnes", since="Du",
        until="Au", show="Afficher", csv="Exporter en CSV", logout="Se déconnecter",
        activity="Groupes, versements et refus", language="English", period="Du {since} au {until}, jours de {zone}",
        funnel="Entonnoir", step="Étape", count="Nombre", rate="Taux", shares_short="Partages", clicks_short="Clics", orders_short="Par un lien", joins_short="Acceptées",
        no_site="aucun (tapé, une appli, privé)",
        views="Lien affiché sur une page de remerciement", shares="Partages (boutons, copies)", clicks="Clics sur les liens",
        landings="Visites arrivées sur la boutique", orders="Commandes venues par un lien",
        joins="Entrées dans un groupe ou parrainages acceptés", per_day="Jour par jour",
        chart_links="Partages, clics et visites", chart_orders="Commandes des amis", channels="Canaux", channel="Canal",
        sites="Sites d'origine", site="Site", money="Argent", currency="Devise", revenue_total="Chiffre apporté",
        revenue_net="Net des remboursements", revenue_eligible="Éligible", granted="Récompenses accordées", paid="Versé",
        pending="En attente de versement", clawed_back="Repris", recovered="Récupéré", cost="Coût",
        return_on_cost="Chiffre par unité de coût", budgets="Budgets", budget="Budget", used="Utilisé", left="Restant",
        runs_out="Épuisé vers le", virality="Viralité", buyers="Acheteurs", friends="Venus par un ami",
        k="Amis par acheteur (K)", chain_depth="Plus longue chaîne", sharing_buyers="Acheteurs qui ont partagé",
        first_share="Délai avant le premier partage (médiane)",
        first_friend="Délai avant le premier ami d'un groupe (médiane)", ambassadors="Ambassadeurs", person="Personne",
        revenue="Chiffre (net)", none="Rien pour l'instant sur cette période.", unknown="inconnu",
        kpi_orders="commandes d'amis", kpi_revenue="apportés, nets", kpi_cost="de récompenses",
        kpi_k="amis par acheteur", no_shop="Aucune boutique ne vous est ouverte.",
        definitions="Comment ces chiffres sont comptés",
        definitions_text=("Les affichages, partages et visites sont signalés par le widget ; les clics sont les visites "
                          "par un lien. Les commandes venues par un lien comptent toute commande payée arrivée avec le "
                          "code d'un groupe ou d'un parrain, acceptée ou non. Le chiffre apporté est ce que les amis ont "
                          "payé (net : moins leurs remboursements ; éligible : la part que la campagne récompense). Les "
                          "récompenses sont celles accordées sur la période. K : commandes d'amis divisées par tous les "
                          "acheteurs."),
        whatsapp="WhatsApp", messenger="Messenger", facebook="Facebook", x="X", email="E-mail", sms="SMS",
        copy="Lien copié", share="Menu de partage du téléphone", qr="QR code",
    ),
}


def texts_for(language: str) -> dict[str, str]:
    """The words of one language (English for anything else)."""
    return TEXTS.get(language, TEXTS["en"])

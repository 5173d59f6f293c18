"""Configuration: the example passes; each broken config yields the precise message at the right line."""

import textwrap
from decimal import Decimal

import pytest

from bridge.basics.money import Money
from bridge.config import ConfigError, load_config, load_config_text

GOOD = textwrap.dedent("""\
    server:
      public_url: https://bridge.example.com
      secret_key: ${SECRET_KEY}
      database_url: sqlite:///bridge.db
      smtp:
        host: smtp.example.com
        port: 587
        sender: "Bridge <bridge@example.com>"
    shops:
      - id: woo
        name: Woo Shop
        platform: woocommerce
        url: https://woo.example
        currency: EUR
        timezone: Europe/Paris
        locale: fr
        tone: tu
        sync:
          poll_every: 5m
        woocommerce:
          consumer_key: ${WC_KEY}
          consumer_secret: ${WC_SECRET}
      - id: presta
        name: Presta Shop
        platform: prestashop
        url: https://presta.example
        currency: JPY
        timezone: Asia/Tokyo
        prestashop:
          webservice_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ123456
    campaigns:
      - id: group
        type: social_buying
        shop: woo
        window: 48h
        hold: 14d
        minimum_order: "20.00"
        tiers:
          - buyers: 2
            cashback: 5%
          - buyers: 3
            cashback: 8%
        member_cap: "30.00"
        budget: "2000.00"
        payout: refund
      - id: refer
        type: referral
        shop: presta
        hold: 14d
        friend_reward:
          type: coupon
          value: "500"
        referrer_reward:
          type: cashback
          value: "1000"
    """)

ENV = {"SECRET_KEY": "s" * 20, "WC_KEY": "ck_1", "WC_SECRET": "cs_1"}


def load(text, environ=ENV):
    return load_config_text(text, filename="config.yaml", environ=environ)


def problems_of(text, environ=ENV):
    with pytest.raises(ConfigError) as caught:
        load(text, environ)
    return [str(p) for p in caught.value.problems]


def line_of(text, fragment):
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_good_config_loads_into_frozen_objects():
    config = load(GOOD)
    woo = config.shop("woo")
    assert woo.woocommerce.consumer_secret == "cs_1"
    group = config.campaigns[0]
    assert group.minimum_order == Money.of("20.00", "EUR")
    assert [t.cashback.value for t in group.tiers] == [Decimal("0.05"), Decimal("0.08")]
    assert config.campaigns[1].referrer_reward.amount == Money.of("1000", "JPY")
    with pytest.raises(Exception):
        woo.name = "changed"  # frozen


def test_example_config_passes_with_dummy_environment(monkeypatch):
    for name in ("BRIDGE_SECRET_KEY", "SMTP_PASSWORD", "WC_CONSUMER_KEY", "WC_CONSUMER_SECRET"):
        monkeypatch.setenv(name, "dummy-value-0123456789")
    monkeypatch.setenv("PS_WEBSERVICE_KEY", "A" * 32)
    monkeypatch.setenv("SHOP_IBAN", "FR76 3000 6000 0112 3456 7890 189")
    monkeypatch.setenv("BRIDGE_ADMIN_PASSWORD", "admin-password")
    config = load_config("config.example.yaml")
    assert config.shops[0].sepa.iban == "FR7630006000011234567890189" and config.shops[0].brand.colour == "#c2410c"
    assert {s.platform for s in config.shops} == {"woocommerce", "prestashop"}
    assert {c.type for c in config.campaigns} == {"social_buying", "referral"}


def test_secrets_are_not_in_repr():
    config = load(GOOD)
    assert "cs_1" not in repr(config)
    assert "s" * 20 not in repr(config)


# (case id, text to replace, replacement, expected "path: message" fragment, fragment of the expected line)
BROKEN = [
    ("presta-refund", "    shop: presta\n    hold: 14d", "    shop: presta\n    hold: 14d\n    payout:  refund",
     "campaigns[1].payout: PrestaShop has no API to refund a payment", "payout:  refund"),
    ("poll-every", "      poll_every: 5m", "      poll_every: sometimes", "shops[0].sync.poll_every:", "poll_every"),
    ("brand-colour", "    tone: tu", "    tone: tu\n    brand: {colour: red}", "shops[0].brand.colour: expected a colour",
     "brand"),
    ("sepa-iban", "    tone: tu", "    tone: tu\n    sepa: {name: X, iban: FR00 1234, bic: AGRIFRPPXXX}",
     "shops[0].sepa.iban: not a valid IBAN", "sepa"),
    ("typo-key", "    window: 48h", "    windw: 48h", "campaigns[0].windw: unknown key; did you mean 'window'?", "windw"),
    ("typo-key-shop", "    tone: tu", "    tones: tu", "shops[0].tones: unknown key; did you mean 'tone'?", "tones"),
    ("bad-duration", "    window: 48h", "    window: 48 hours", 'campaigns[0].window: expected a duration like "48h"', "window:"),
    ("zero-duration", "    hold: 14d\n    minimum", "    hold: 0d\n    minimum", "campaigns[0].hold: expected a duration longer than zero", "hold: 0d"),
    ("bad-percent", "        cashback: 8%", "        cashback: 8 percent",
     'campaigns[0].tiers[1].cashback: expected a percentage like "8%" or an amount like "3.00"', "8 percent"),
    ("percent-over-100", "        cashback: 8%", "        cashback: 180%", "campaigns[0].tiers[1].cashback: must be at most 100%", "180%"),
    ("negative-amount", '    member_cap: "30.00"', '    member_cap: "-30.00"', "campaigns[0].member_cap: must not be negative", "member_cap"),
    ("float-amount", '    budget: "2000.00"', "    budget: 2000.50", 'campaigns[0].budget: expected an amount written as a string like "3.00"', "budget"),
    ("too-many-decimals", '    minimum_order: "20.00"', '    minimum_order: "20.005"', "campaigns[0].minimum_order: EUR has 2 decimal places", "minimum_order"),
    ("yen-decimals", '      value: "500"', '      value: "500.5"', "campaigns[1].friend_reward.value: JPY has 0 decimal places", '"500.5"'),
    ("unknown-currency", "    currency: EUR", "    currency: EUX", "shops[0].currency: expected an ISO 4217 currency code", "EUX"),
    ("lowercase-currency", "    currency: EUR", "    currency: eur", "shops[0].currency: expected an ISO 4217 currency code", "eur"),
    ("bad-timezone", "    timezone: Europe/Paris", "    timezone: Europe/Pariss", "shops[0].timezone: expected an IANA time zone", "Pariss"),
    ("missing-shop", "    shop: woo", "    shop: wooo", "campaigns[0].shop: no shop with id 'wooo'; known shops: woo, presta", "shop: wooo"),
    ("decreasing-buyers", "      - buyers: 3", "      - buyers: 2",
     "campaigns[0].tiers[1].buyers: tiers must grow with the number of buyers: 2 comes after 2", "- buyers: 2\n        cashback: 8%"),
    ("decreasing-cashback", "        cashback: 8%", "        cashback: 4%",
     "campaigns[0].tiers[1].cashback: must not be lower than the tier before it", "4%"),
    ("mixed-tiers", "        cashback: 8%", '        cashback: "3.00"',
     "campaigns[0].tiers[1].cashback: mixes percentages and fixed amounts", '"3.00"'),
    ("wrong-type-port", "    port: 587", '    port: "587"', "server.smtp.port: expected a whole number, got text '587'", "port:"),
    ("wrong-type-list", "  - id: refer\n    type: referral\n    shop: presta\n    hold: 14d\n", "  - refer\n  - id: refer2\n    type: referral\n    shop: presta\n    hold: 14d\n",
     "campaigns[1]: expected a mapping with id, type, shop", "- refer\n"),
    ("wrong-type-shop", "  - id: presta\n    name: Presta Shop\n    platform: prestashop\n    url: https://presta.example\n    currency: JPY\n    timezone: Asia/Tokyo\n    prestashop:\n      webservice_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ123456\n",
     "  - presta\n", "shops[1]: expected a mapping of keys and values", "- presta"),
    ("duplicate-shop-id", "  - id: presta", "  - id: woo", "shops[1].id: duplicate id 'woo' (already used by shops[0])", "- id: woo\n    name: Presta"),
    ("duplicate-campaign-id", "  - id: refer", "  - id: group", "campaigns[1].id: duplicate id 'group' (already used by campaigns[0])", "- id: group\n    type: referral"),
    ("bad-platform", "    platform: woocommerce", "    platform: magento", "shops[0].platform: expected one of woocommerce, prestashop, custom, got 'magento'", "magento"),
    ("missing-required", "    window: 48h\n", "", "campaigns[0].window: is required", "- id: group"),
    ("bad-url", "    url: https://woo.example", "    url: woo.example", "shops[0].url: expected an http:// or https:// URL", "url: woo.example"),
    ("url-with-query", "    url: https://woo.example", "    url: https://woo.example/?x=1", "shops[0].url: expected a URL without query", "?x=1"),
    ("bad-tone", "    tone: tu", "    tone: toi", "shops[0].tone: expected one of tu, vous, got 'toi'", "toi"),
    ("bad-bool", "    platform: prestashop", "    platform: prestashop\n    woocommerce: yes",
     "shops[1].woocommerce: expected a mapping of keys and values", "woocommerce: yes"),
    ("wrong-platform-section", "    prestashop:\n      webservice_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ123456\n", "",
     "shops[1].prestashop: is required for a prestashop shop", "- id: presta"),
    ("short-ps-key", "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456", "SHORT", "shops[1].prestashop.webservice_key: a PrestaShop webservice key has 32 characters", "SHORT"),
    ("short-hint-secret", "      webservice_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ123456\n",
     "      webservice_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ123456\n      hint_secret: tooshort\n",
     "shops[1].prestashop.hint_secret: must be at least 32 characters", "hint_secret: tooshort"),
    ("bad-db-url", "sqlite:///bridge.db", "mysql://x/y", "server.database_url: expected sqlite:///path/to/file.db or postgresql://", "mysql"),
    ("short-secret", "  secret_key: ${SECRET_KEY}", "  secret_key: short", "server.secret_key: must be at least 16 characters", "secret_key"),
    ("bad-id", "  - id: woo\n", "  - id: Woo Shop\n", "shops[0].id: expected an id of lower-case letters", "- id: Woo Shop"),
    ("bad-campaign-type", "    type: referral", "    type: lottery", "campaigns[1].type: expected one of social_buying, referral", "lottery"),
    ("friend-cashback", "      type: coupon\n      value: \"500\"", "      type: cashback\n      value: \"500\"",
     "campaigns[1].friend_reward.type: a friend's welcome reward is a coupon", "type: cashback\n      value: \"500\""),
    ("ends-before-starts", "    window: 48h", "    window: 48h\n    starts: 2026-06-01\n    ends: 2026-05-01",
     "campaigns[0].ends: must not be before starts (2026-06-01)", "ends: 2026-05-01"),
    ("bad-date", "    window: 48h", "    window: 48h\n    starts: June 1st", "campaigns[0].starts: expected a date like 2026-06-01", "June 1st"),
    ("empty-tiers", "    tiers:\n      - buyers: 2\n        cashback: 5%\n      - buyers: 3\n        cashback: 8%\n",
     "    tiers: []\n", "campaigns[0].tiers: needs at least one tier", "tiers: []"),
    ("bad-products", "    window: 48h", "    window: 48h\n    eligible_products: some", "campaigns[0].eligible_products: expected same, any, or a list", "some"),
    ("top-level-typo", "campaigns:", "campaign:", "campaign: unknown key; did you mean 'campaigns'?", "campaign:"),
    ("basic-over-http", "    url: https://woo.example", "    url: http://woo.example",
     "shops[0].woocommerce.auth: basic needs an https:// URL", "woocommerce:"),
    ("oauth-over-https", "      consumer_secret: ${WC_SECRET}", "      consumer_secret: ${WC_SECRET}\n      auth: oauth",
     "shops[0].woocommerce.auth: oauth is for shops served over plain http://", "auth: oauth"),
    # issue 15: mistakes that ended in a traceback, were accepted, or were said imprecisely
    ("missing-consumer-secret", "      consumer_secret: ${WC_SECRET}\n", "",
     "shops[0].woocommerce.consumer_secret: is required", "woocommerce:"),
    ("api-refund-yes", "      consumer_secret: ${WC_SECRET}", "      consumer_secret: ${WC_SECRET}\n      api_refund: yes",
     "shops[0].woocommerce.api_refund: expected true or false, got 'yes'", "api_refund: yes"),
    ("auth-capitalised", "      consumer_secret: ${WC_SECRET}", "      consumer_secret: ${WC_SECRET}\n      auth: Basic",
     "shops[0].woocommerce.auth: expected one of basic, query_string, oauth, got 'Basic'", "auth: Basic"),
    ("statuses-not-a-list", "      consumer_secret: ${WC_SECRET}",
     "      consumer_secret: ${WC_SECRET}\n      extra_paid_statuses: shipped",
     "shops[0].woocommerce.extra_paid_statuses: expected a list", "extra_paid_statuses"),
    ("impossible-date", "    window: 48h", "    window: 48h\n    starts: 2026-02-30",
     "campaigns[0].starts: expected a date like 2026-06-01, got '2026-02-30'", "2026-02-30"),
    ("month-13", "    window: 48h", "    window: 48h\n    ends: 2026-13-01",
     "campaigns[0].ends: expected a date like 2026-06-01, got '2026-13-01'", "2026-13-01"),
    ("list-as-id", "  - id: woo\n", "  - id: [woo]\n", "shops[0].id: expected an id of lower-case letters", "- id: [woo]"),
    ("list-as-shop", "    shop: woo\n", "    shop: [woo]\n", "campaigns[0].shop: ", "shop: [woo]"),
    ("unclosed-variable", "      consumer_secret: ${WC_SECRET}", "      consumer_secret: ${WC_SECRET",
     "shops[0].woocommerce.consumer_secret: '${' without its closing '}': write ${NAME}", "${WC_SECRET\n"),
    ("unbraced-variable", "      consumer_secret: ${WC_SECRET}", "      consumer_secret: $WC_SECRET",
     "shops[0].woocommerce.consumer_secret: write ${WC_SECRET} with braces", "$WC_SECRET"),
    ("port-out-of-range", "    url: https://woo.example", "    url: https://woo.example:99999",
     "shops[0].url: the port must be a number from 1 to 65535", "99999"),
    ("unquoted-hash", "    tone: tu", "    tone: tu\n    brand:\n      colour: #c2410c",
     'shops[0].brand.colour: must have a value (an unquoted # starts a comment: write "#c2410c")', "#c2410c"),
    ("number-as-text", "    name: Woo Shop", "    name: 2024", "shops[0].name: expected text, got a number (put it in "
     "quotes to make it text)", "name: 2024"),
    ("lookalike-key", "    window: 48h", "    windоw: 48h", "campaigns[0].windоw: unknown key 'wind\\u043ew'; did you "
     "mean 'window'? (a letter in it only looks like one: retype it)", "windоw"),
    ("tab-indent", "    name: Woo Shop", "\tname: Woo Shop", "name: a tab in the indentation", "\tname"),
    ("forgotten-dash", "  - id: presta", "    id: presta", "shops: YAML syntax error: duplicate key 'id' (first at line "
     "10): keep one, or start a new list item with '- '", "id: presta"),
    ("text-pasted-at-the-end", "      value: \"1000\"\n", "      value: \"1000\"\nsome pasted text\n",
     "a line without 'key: value' (text pasted here, or a missing ':')", "some pasted text"),
    ("duplicate-top-level", "campaigns:", "server:\n  public_url: https://x.example\ncampaigns:",
     "YAML syntax error: duplicate key 'server' (first at line 1): keep one", "server:\n  public_url: https://x"),
]


@pytest.mark.parametrize("case,old,new,expected,line_fragment", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_config_reports_file_line_and_key(case, old, new, expected, line_fragment):
    assert old in GOOD, f"the case {case} no longer applies to GOOD"
    text = GOOD.replace(old, new, 1)
    problems = problems_of(text)
    line = _line_of_fragment(text, line_fragment)
    wanted = f"config.yaml:{line}: {expected}"
    assert any(p.startswith(wanted) for p in problems), f"{wanted!r} not in {problems}"


def _line_of_fragment(text, fragment):
    """Find the line where a (possibly multi-line) fragment starts."""
    position = text.index(fragment)
    return text.count("\n", 0, position) + 1


def test_enough_broken_configs_are_covered():
    assert len(BROKEN) >= 25


def test_unset_environment_variable_is_named_with_its_line():
    problems = problems_of(GOOD, environ={"SECRET_KEY": "s" * 20})
    assert f"config.yaml:{line_of(GOOD, 'WC_KEY')}: shops[0].woocommerce.consumer_key: environment variable WC_KEY is not set" in problems
    assert f"config.yaml:{line_of(GOOD, 'WC_SECRET')}: shops[0].woocommerce.consumer_secret: environment variable WC_SECRET is not set" in problems
    assert len(problems) == 2  # the cause only, not a second complaint about the same value


def test_environment_default_is_used():
    text = GOOD.replace("${SECRET_KEY}", "${UNSET_VAR:-a-default-secret-1234}")
    assert load(text).server.secret_key == "a-default-secret-1234"


def test_yaml_syntax_error_names_the_line():
    text = GOOD.replace("    window: 48h", "    window: [48h")
    problems = problems_of(text)
    assert len(problems) == 1 and problems[0].startswith("config.yaml:") and "YAML syntax error" in problems[0]


def test_duplicate_yaml_key_is_an_error_with_its_line():
    text = GOOD.replace("    window: 48h", "    window: 48h\n    window: 24h")
    problems = problems_of(text)
    assert any("YAML syntax error" in p and "duplicate" in p for p in problems), problems


def test_every_error_is_reported_at_once():
    text = GOOD.replace("    window: 48h", "    window: soon").replace("    currency: EUR", "    currency: EUX").replace(
        "    tone: tu", "    tonne: tu")
    problems = problems_of(text)
    assert len(problems) == 3
    assert [int(p.split(":")[1]) for p in problems] == sorted(int(p.split(":")[1]) for p in problems)


def test_empty_file_and_missing_file():
    assert problems_of("") == ["config.yaml:1: the file is empty; see config.example.yaml"]
    with pytest.raises(ConfigError) as caught:
        load_config("/nonexistent/config.yaml")
    assert "cannot read the configuration" in str(caught.value)


def test_a_list_at_top_level_is_an_error():
    problems = problems_of("- a\n- b\n")
    assert any("expected" in p or "unknown key" in p for p in problems)


def test_dashboard_users_are_checked_with_their_line_and_key():
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    users = (f"users:\n  - {{name: marie, password_hash: 'hunter2-in-clear', shops: [woo]}}\n"
             f"  - {{name: paul, password_hash: '{hashed}'}}\n"
             f"  - {{name: lea, password_hash: '{hashed}', shops: [nowhere]}}\n"
             f"  - {{name: marie, password_hash: '{hashed}', role: admin}}\n"
             f"  - {{name: zoe, password_hash: '{hashed}', role: boss, shops: [woo]}}\n")
    text = GOOD.rstrip("\n") + "\n" + users
    problems = problems_of(text)
    assert any(f"config.yaml:{line_of(text, 'hunter2')}: users[0].password_hash: must be an argon2 hash" in p
               for p in problems), problems
    assert any("users[1].shops: an owner needs the shops they may see" in p for p in problems), problems
    assert any("users[2].shops: no shop with id 'nowhere'" in p for p in problems), problems
    assert any("users[3].name: user 'marie' is declared twice" in p for p in problems), problems
    assert any("users[4].role:" in p for p in problems), problems
    good = load(GOOD.rstrip("\n") + f"\nusers:\n  - {{name: ops, password_hash: '{hashed}', role: admin}}\n")
    assert good.users[0].may_see("woo") and hashed not in repr(good)

"""Marshmallow schemas for the YAML configuration; each loads into a frozen model object."""

from __future__ import annotations

import difflib
import functools
from datetime import timedelta
from urllib.parse import urlsplit

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validates_schema,
)

from bridge.basics.money import Money, MoneyError, minor_digits
from bridge.config import fields as f
from bridge.config import model

_TOP_PLATFORMS = ("woocommerce", "prestashop", "custom")


def _cross_check(method):
    """A schema-level check runs only on parts that loaded: a broken part is reported by its own field."""
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (AttributeError, TypeError, KeyError):
            return None
    return guarded


class StrictSchema(Schema):
    """A schema where unknown keys are errors, with a suggestion when a known key is close."""

    class Meta:
        unknown = EXCLUDE  # reported by check_unknown_keys, with "did you mean"

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_unknown_keys(self, data: dict, original: dict, **kwargs) -> None:
        if not isinstance(original, dict):
            return
        known = [field.data_key or name for name, field in self.fields.items()]
        errors = {}
        for key in original:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(known))}"
                # a look-alike letter or a stray space shows as what it is, escaped
                odd = not str(key).isascii() or str(key) != str(key).strip() or not str(key).isprintable()
                written = f" {ascii(str(key))}" if odd else ""
                errors[key] = [f"unknown key{written}{hint}" + (" (a letter in it only looks like one: retype it)"
                                                                if close and not str(key).isascii() else "")
                               + (" (it starts or ends with a space)" if str(key) != str(key).strip() else "")]
        if errors:
            raise ValidationError(errors)


def _nested(schema, **kwargs):
    return fields.Nested(schema, **kwargs)


class SmtpSchema(StrictSchema):
    host = f.StrictString(required=True)
    port = f.StrictInteger(minimum=1, maximum=65535, load_default=587)
    tls = f.Choice(("none", "starttls", "ssl"), load_default="starttls")
    username = f.StrictString(load_default=None)
    password = f.StrictString(load_default=None)
    sender = f.StrictString(required=True)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.SmtpSettings(**data)


class WorkerSchema(StrictSchema):
    lease = f.Duration(load_default=timedelta(minutes=10))
    close_groups_every = f.Duration(load_default=timedelta(minutes=1))
    payouts_every = f.Duration(load_default=timedelta(minutes=5))

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.WorkerSettings(**data)


class ServerSchema(StrictSchema):
    public_url = f.HttpUrl(required=True)
    secret_key = f.StrictString(required=True)
    database_url = f.DatabaseUrl(load_default="sqlite:///bridge.db")
    log_level = f.Choice(("debug", "info", "warning", "error"), load_default="info")
    smtp = _nested(SmtpSchema, load_default=None)
    worker = _nested(WorkerSchema, load_default=lambda: WorkerSchema().load({}))
    rate_limits = f.StrictBoolean(load_default=True)
    admin_password = f.StrictString(load_default=None)
    proxies = f.StrictInteger(minimum=0, maximum=5, load_default=0)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_secret(self, data: dict, **kwargs) -> None:
        key = data.get("secret_key")
        if isinstance(key, str) and len(key) < 16:
            raise ValidationError({"secret_key": ["must be at least 16 characters (use a long random value)"]})
        password = data.get("admin_password")
        if isinstance(password, str) and len(password) < 4:
            raise ValidationError({"admin_password": ["must be at least 4 characters"]})

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.ServerSettings(**data)


class SyncSchema(StrictSchema):
    poll_every = f.DurationOrOff(load_default=timedelta(minutes=5))
    overlap = f.Duration(load_default=timedelta(minutes=10))
    backfill_from = f.Day(load_default=None)
    timeout = f.Duration(load_default=timedelta(seconds=60))

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.SyncSettings(**data)


class WooCommerceSchema(StrictSchema):
    consumer_key = f.StrictString(required=True)
    consumer_secret = f.StrictString(required=True)
    auth = f.Choice(("basic", "query_string", "oauth"), load_default="basic")
    api_refund = f.StrictBoolean(load_default=True)
    extra_paid_statuses = fields.List(f.StrictString(), load_default=list)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.WooCommerceSettings(**{**data, "extra_paid_statuses": tuple(data["extra_paid_statuses"])})


class PrestaShopSchema(StrictSchema):
    webservice_key = f.StrictString(required=True)
    id_shop = f.StrictInteger(minimum=1, load_default=None)
    hint_secret = f.StrictString(load_default=None)
    back_office_url = f.HttpUrl(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_key(self, data: dict, **kwargs) -> None:
        key = data.get("webservice_key")
        if isinstance(key, str) and len(key) != 32 and "${" not in key:
            raise ValidationError({"webservice_key": ["a PrestaShop webservice key has 32 characters"]})
        secret = data.get("hint_secret")
        if isinstance(secret, str) and len(secret) < 32 and "${" not in secret:
            raise ValidationError({"hint_secret": ["must be at least 32 characters (the same long random value as in "
                                                   "the bridgehints module)"]})

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.PrestaShopSettings(**data)


class SepaDebtorSchema(StrictSchema):
    name = f.StrictString(required=True)
    iban = f.Iban(required=True)
    bic = f.Bic(required=True)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.SepaDebtor(**data)


class BrandSchema(StrictSchema):
    colour = f.Colour(load_default="#1f6feb")
    logo_url = f.HttpUrl(load_default=None)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.Brand(**data)


class CustomSchema(StrictSchema):
    signing_secret = f.StrictString(required=True)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_secret(self, data: dict, **kwargs) -> None:
        secret = data.get("signing_secret") or ""
        if len(secret) < 32:
            raise ValidationError({"signing_secret": [
                f"must be at least 32 characters (it signs every order the shop sends), got {len(secret)}; "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` makes one"]})

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.CustomSettings(**data)


class EventEndpointSchema(StrictSchema):
    name = f.Identifier(required=True)
    url = f.HttpUrl(required=True)
    secret = f.StrictString(required=True)
    alert_email = fields.Email(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_endpoint(self, data: dict, **kwargs) -> None:
        errors = {}
        if "secret" in data and len(data["secret"]) < 32:
            errors["secret"] = [f"must be at least 32 characters (it signs every event), got {len(data['secret'])}; "
                                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` makes one"]
        host = urlsplit(data.get("url") or "").hostname or ""
        if (data.get("url") or "").startswith("http://") and host not in ("localhost", "127.0.0.1", "::1"):
            errors["url"] = ["must be https:// (events carry customers' e-mails); plain http:// is only for a "
                             "receiver on this machine (localhost)"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.EventEndpoint(**data)


class ShopSchema(StrictSchema):
    id = f.Identifier(required=True)
    name = f.StrictString(required=True)
    platform = f.Choice(_TOP_PLATFORMS, required=True)
    url = f.HttpUrl(required=True)
    currency = f.Currency(required=True)
    timezone = f.TimeZone(required=True)
    locale = f.Choice(("fr", "en"), load_default="en")
    tone = f.Choice(("tu", "vous"), load_default="vous")
    sync = _nested(SyncSchema, load_default=lambda: SyncSchema().load({}))
    woocommerce = _nested(WooCommerceSchema, load_default=None)
    prestashop = _nested(PrestaShopSchema, load_default=None)
    custom = _nested(CustomSchema, load_default=None)
    sepa = _nested(SepaDebtorSchema, load_default=None)
    brand = _nested(BrandSchema, load_default=lambda: BrandSchema().load({}))
    events = fields.List(_nested(EventEndpointSchema), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_endpoint_names(self, data: dict, **kwargs) -> None:
        names = [e.name for e in data.get("events") or ()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError({"events": [f"endpoint name {twice[0]!r} is used twice; each needs its own name"]})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    @_cross_check
    def check_platform_section(self, data: dict, original: dict, **kwargs) -> None:
        platform = data.get("platform")
        if platform is None or not isinstance(original, dict):
            return
        errors = {}
        for name in _TOP_PLATFORMS:
            if name == platform and original.get(name) is None:
                what = "the secret its server signs orders with" if name == "custom" else "its API credentials"
                errors[name] = [f"is required for a {name} shop ({what})"]
            if name != platform and original.get(name) is not None:
                errors[name] = [f"only belongs to a {name} shop; this shop's platform is {platform}"]
        if errors:
            raise ValidationError(errors)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_auth_scheme(self, data: dict, **kwargs) -> None:
        """The WooCommerce client picks OAuth for http:// and basic auth for https://: the setting must agree."""
        woo, url = data.get("woocommerce"), data.get("url")
        if woo is None or url is None:
            return
        if woo.auth == "oauth" and url.startswith("https://"):
            raise ValidationError({"woocommerce": {"auth": [
                "oauth is for shops served over plain http://; this shop is https://, use basic"]}})
        if woo.auth != "oauth" and url.startswith("http://"):
            raise ValidationError({"woocommerce": {"auth": [
                f"{woo.auth} needs an https:// URL (over plain http:// WooCommerce accepts only OAuth 1.0a); "
                "use auth: oauth"]}})

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.Shop(**{**data, "events": tuple(data["events"])})


class TierSchema(StrictSchema):
    buyers = f.StrictInteger(minimum=1, required=True)
    cashback = f.PercentOrAmount(required=True)


class CampaignBase(StrictSchema):
    id = f.Identifier(required=True)
    type = f.Choice(("social_buying", "referral"), required=True)
    shop = f.Identifier(required=True)
    name = f.StrictString(load_default=None)
    starts = f.Day(load_default=None)
    ends = f.Day(load_default=None)
    minimum_order = f.Amount(load_default=None)
    attribution_window = f.Duration(load_default=timedelta(days=30))
    payout = f.Choice(("refund", "sepa", "coupon"), load_default="coupon")
    approval = f.Choice(("automatic", "manual"), load_default="automatic")
    aggregator_domains = f.DomainList(load_default=model.AGGREGATOR_DOMAINS)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_dates(self, data: dict, **kwargs) -> None:
        if data.get("starts") and data.get("ends") and data["ends"] < data["starts"]:
            raise ValidationError({"ends": [f"must not be before starts ({data['starts']})"]})


class SocialBuyingSchema(CampaignBase):
    window = f.Duration(required=True)
    hold = f.Duration(required=True)
    eligible_products = f.ProductSelection(load_default="same")
    eligible_base = f.Choice(("paid_incl_tax", "paid_excl_tax"), load_default="paid_incl_tax")
    tiers = fields.List(fields.Nested(TierSchema), required=True)
    member_cap = f.Amount(load_default=None)
    budget = f.Amount(load_default=None)
    clawback = f.Choice(("deduct", "write_off"), load_default="deduct")

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_tiers(self, data: dict, **kwargs) -> None:
        tiers = data.get("tiers")
        if tiers is None:
            return
        if not tiers:
            raise ValidationError({"tiers": ["needs at least one tier"]})
        errors = {}
        kinds = {t["cashback"][0] for t in tiers if "cashback" in t}
        if len(kinds) > 1:
            errors[1] = {"cashback": ["mixes percentages and fixed amounts; use one kind for every tier"]}
        for i in range(1, len(tiers)):
            before, now = tiers[i - 1], tiers[i]
            if "buyers" in before and "buyers" in now and now["buyers"] <= before["buyers"]:
                errors.setdefault(i, {})["buyers"] = [
                    f"tiers must grow with the number of buyers: {now['buyers']} comes after {before['buyers']}"]
            if len(kinds) == 1 and "cashback" in before and "cashback" in now \
                    and now["cashback"][1] < before["cashback"][1]:
                errors.setdefault(i, {})["cashback"] = [
                    "must not be lower than the tier before it (more buyers never lowers the cashback)"]
        if errors:
            raise ValidationError({"tiers": errors})


class RewardSchema(StrictSchema):
    type = f.Choice(("coupon", "cashback"), required=True)
    value = f.PercentOrAmount(required=True)
    minimum_order = f.Amount(load_default=None)
    valid_for = f.Duration(load_default=None)


class ReferralSchema(CampaignBase):
    friend_reward = _nested(RewardSchema, required=True)
    referrer_reward = _nested(RewardSchema, required=True)
    new_customers_only = f.StrictBoolean(load_default=True)
    hold = f.Duration(required=True)
    max_rewards_per_referrer = f.StrictInteger(minimum=1, load_default=None)
    eligible_products = f.ProductSelection(load_default="any")
    budget = f.Amount(load_default=None)
    show_referrer_name = f.StrictBoolean(load_default=False)
    max_rewards_per_period = f.StrictInteger(minimum=1, load_default=None)
    period = f.Duration(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_period(self, data: dict, **kwargs) -> None:
        if data.get("max_rewards_per_period") and not data.get("period"):
            raise ValidationError({"period": ["is required with max_rewards_per_period (for example 30d)"]})

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_friend_reward(self, data: dict, **kwargs) -> None:
        reward = data.get("friend_reward")
        if reward and reward.get("type") == "cashback":
            raise ValidationError({"friend_reward": {"type": ["a friend's welcome reward is a coupon"]}})

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_products(self, data: dict, **kwargs) -> None:
        if data.get("eligible_products") == "same":
            raise ValidationError({"eligible_products": [
                "a referral has no first product to be the same as: use any, or a list of product ids"]})


class CampaignField(fields.Field):
    """A campaign, loaded by the schema that its `type` names."""

    schemas = {"social_buying": SocialBuyingSchema, "referral": ReferralSchema}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("expected a mapping with id, type, shop, ...")
        schema = self.schemas.get(value.get("type"))
        if schema is None:
            raise ValidationError({"type": [f"expected one of social_buying, referral, got {value.get('type')!r}"]})
        return dict(schema().load(value), type=value["type"])


class UserSchema(StrictSchema):
    name = f.Identifier(required=True)
    password_hash = f.StrictString(required=True)
    role = f.Choice(("admin", "owner"), load_default="owner")
    shops = fields.List(f.Identifier(), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    @_cross_check
    def check_user(self, data: dict, **kwargs) -> None:
        if not data["password_hash"].startswith("$argon2"):
            raise ValidationError({"password_hash": [
                "must be an argon2 hash, as `bridge users hash-password` prints it (never the password itself)"]})
        if data.get("role", "owner") == "owner" and not data.get("shops"):
            raise ValidationError({"shops": ["an owner needs the shops they may see (or role: admin for all of them)"]})

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        return model.User(name=data["name"], password_hash=data["password_hash"], role=data["role"],
                          shops=tuple(data["shops"]))


class ConfigSchema(StrictSchema):
    server = _nested(ServerSchema, required=True)
    shops = fields.List(fields.Nested(ShopSchema), required=True)
    campaigns = fields.List(CampaignField(), load_default=list)
    users = fields.List(fields.Nested(UserSchema), load_default=list)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    @_cross_check
    def check_references(self, data: dict, original: dict, **kwargs) -> None:
        raw_shops = original.get("shops") if isinstance(original, dict) else None
        raw_campaigns = original.get("campaigns") if isinstance(original, dict) else None
        errors = {}
        shop_currency = {}
        if isinstance(raw_shops, list):
            _check_unique(raw_shops, "shops", errors)
            shop_currency = {s.get("id"): s.get("currency") for s in raw_shops if isinstance(s, dict)}
        if isinstance(raw_campaigns, list):
            _check_unique(raw_campaigns, "campaigns", errors)
            for i, raw in enumerate(raw_campaigns):
                if not isinstance(raw, dict) or "shop" not in raw or raw_shops is None:
                    continue
                if raw["shop"] not in shop_currency:
                    errors.setdefault("campaigns", {}).setdefault(i, {})["shop"] = [
                        f"no shop with id {raw['shop']!r}; known shops: {', '.join(map(str, shop_currency)) or 'none'}"]
                else:
                    _check_minor_units(raw, shop_currency[raw["shop"]], errors.setdefault("campaigns", {}), i)
                    _check_sepa(raw, raw_shops, errors.setdefault("campaigns", {}), i)
        raw_users = original.get("users") if isinstance(original, dict) else None
        if isinstance(raw_users, list):
            _check_user_names(raw_users, errors)
            for i, raw in enumerate(raw_users):
                unknown = [s for s in (raw.get("shops") if isinstance(raw, dict) else None) or []
                           if isinstance(s, str) and s not in shop_currency]
                if unknown and raw_shops is not None:
                    errors.setdefault("users", {}).setdefault(i, {})["shops"] = [
                        f"no shop with id {unknown[0]!r}; known shops: {', '.join(map(str, shop_currency)) or 'none'}"]
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise ValidationError(errors)

    @post_load
    def build(self, data: dict, **kwargs) -> object:
        currency = {s.id: s.currency for s in data["shops"]}
        endpoints = {s.id: tuple(e.name for e in s.events) for s in data["shops"]}
        campaigns = tuple(_build_campaign(c, currency[c["shop"]], endpoints[c["shop"]]) for c in data["campaigns"])
        return dict(server=data["server"], shops=tuple(data["shops"]), campaigns=campaigns, users=tuple(data["users"]))


def _check_user_names(raw_users: list, errors: dict) -> None:
    seen = set()
    for i, raw in enumerate(raw_users):
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and name in seen:
            errors.setdefault("users", {}).setdefault(i, {})["name"] = [f"user {name!r} is declared twice"]
        seen.add(name)


def _check_sepa(raw: dict, raw_shops: list, errors: dict, index: int) -> None:
    """A campaign paying by bank transfer needs a EUR shop with a `sepa` debtor account; PrestaShop cannot refund."""
    shop = next((s for s in raw_shops if isinstance(s, dict) and s.get("id") == raw["shop"]), {})
    if raw.get("payout") == "refund" and shop.get("platform") == "prestashop":
        errors.setdefault(index, {})["payout"] = [
            "PrestaShop has no API to refund a payment: pay this campaign by sepa (bank transfer) or coupon"]
        return
    if shop.get("platform") == "custom":
        if raw.get("type") == "referral":  # (the friend's welcome coupon, made at the click, is not built for them)
            errors.setdefault(index, {})["type"] = [
                "referral campaigns on a custom shop are not available yet (the friend's welcome coupon needs the "
                "shop's own system); run a social_buying campaign"]
            return
        if raw.get("payout", "coupon") != "sepa" and not shop.get("events"):
            errors.setdefault(index, {})["payout"] = [
                f"a custom shop's system makes the {raw.get('payout', 'coupon')}s itself, asked by a payout.requested "
                f"event: shop {raw['shop']!r} needs an events endpoint (shops[].events), or pay by sepa"]
            return
    if raw.get("payout") != "sepa":
        return
    if shop.get("currency") != "EUR":
        problem = f"sepa transfers are in EUR; shop {raw['shop']!r} sells in {shop.get('currency')}"
    elif not shop.get("sepa"):
        problem = f"shop {raw['shop']!r} needs a sepa section (name, iban, bic of the account that pays)"
    else:
        return
    errors.setdefault(index, {})["payout"] = [problem]


def _check_unique(items: list, section: str, errors: dict) -> None:
    """Record an error for each item whose id repeats an earlier one."""
    seen = {}
    for i, item in enumerate(items):
        ident = item.get("id") if isinstance(item, dict) else None
        if not isinstance(ident, str):  # a missing or mistyped id is reported by its field
            continue
        if ident in seen:
            errors.setdefault(section, {}).setdefault(i, {})["id"] = [
                f"duplicate id {ident!r} (already used by {section}[{seen[ident]}])"]
        else:
            seen[ident] = i


_AMOUNT_KEYS = ("minimum_order", "member_cap", "budget")


def _check_minor_units(raw: dict, currency: str, errors: dict, index: int) -> None:
    """Refuse amounts with more decimals than the shop's currency has (3.001 EUR, 10.5 JPY)."""
    try:
        digits = minor_digits(currency)
    except MoneyError:
        return
    places = [((key,), raw.get(key)) for key in _AMOUNT_KEYS]
    for t, tier in enumerate(raw.get("tiers") or []):
        if isinstance(tier, dict):
            places.append((("tiers", t, "cashback"), tier.get("cashback")))
    for reward in ("friend_reward", "referrer_reward"):
        if isinstance(raw.get(reward), dict):
            places += [((reward, "value"), raw[reward].get("value")),
                       ((reward, "minimum_order"), raw[reward].get("minimum_order"))]
    for path, value in places:
        if isinstance(value, (str, int)) and not isinstance(value, bool) and not str(value).strip().endswith("%"):
            try:
                exponent = Money.of(value, currency).amount.as_tuple().exponent
            except (MoneyError, ValueError):
                continue
            if isinstance(exponent, int) and -exponent > digits:
                node = errors.setdefault(index, {})
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = [f"{currency} has {digits} decimal places; {value!r} has more"]


def _money(value, currency):
    return None if value is None else Money(value, currency)


def _cashback(pair) -> model.Cashback:
    return model.Cashback(kind=pair[0], value=pair[1])


def _reward(data: dict, currency: str) -> model.RewardSpec:
    kind, value = data["value"]
    return model.RewardSpec(kind=data["type"], amount=Money(value, currency) if kind == "fixed" else None,
                            percent=value if kind == "percent" else None,
                            minimum_order=_money(data["minimum_order"], currency), valid_for=data["valid_for"])


def _build_campaign(data: dict, currency: str, endpoints: tuple[str, ...]):
    """Turn a validated campaign dict into its frozen model, amounts in the shop's currency."""
    common = dict(id=data["id"], shop=data["shop"], currency=currency, name=data["name"] or data["id"], endpoints=endpoints,
                  starts=data["starts"], ends=data["ends"], attribution_window=data["attribution_window"],
                  minimum_order=_money(data["minimum_order"], currency), payout=data["payout"],
                  approval=data["approval"], aggregator_domains=data["aggregator_domains"])
    if data["type"] == "social_buying":
        tiers = tuple(model.Tier(buyers=t["buyers"], cashback=_cashback(t["cashback"])) for t in data["tiers"])
        return model.SocialBuyingCampaign(
            **common, window=data["window"], hold=data["hold"], eligible_products=data["eligible_products"],
            eligible_base=data["eligible_base"], tiers=tiers, member_cap=_money(data["member_cap"], currency),
            budget=_money(data["budget"], currency), clawback=data["clawback"])
    return model.ReferralCampaign(
        **common, friend_reward=_reward(data["friend_reward"], currency),
        referrer_reward=_reward(data["referrer_reward"], currency), new_customers_only=data["new_customers_only"],
        hold=data["hold"], max_rewards_per_referrer=data["max_rewards_per_referrer"],
        max_rewards_per_period=data["max_rewards_per_period"], period=data["period"],
        eligible_products=data["eligible_products"], budget=_money(data["budget"], currency),
        show_referrer_name=data["show_referrer_name"])

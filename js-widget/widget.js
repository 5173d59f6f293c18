/*! bridge widget: share links, group progress and the referral code on any shop. No build step.
 * Its words come with the data it reads (the shop's "texts"), in the shop's language and tone.
 * <script src="https://BRIDGE/widget.js" data-shop="SHOP_ID" async></script>
 * Rules: never throw into the host page; never trust page globals that scripts may replace
 * (no Array.prototype methods, no JSON object: fetch's own json() and form bodies instead);
 * every text goes in with textContent; styles live in a Shadow DOM. */
(function () {
  "use strict";
  var doc = document, win = window;
  var CSS = ":host{all:initial;display:block}*{box-sizing:border-box}" +
    ".b{font:15px/1.45 system-ui,-apple-system,Segoe UI,Arial,sans-serif;color:#18181b;background:#fff;border:1px solid #d4d4d8;" +
    "border-top:4px solid var(--c);border-radius:10px;padding:16px;margin:16px 0;max-width:640px}" +
    "h2{font-size:18px;margin:0 0 8px}p{margin:6px 0}.bar{height:10px;background:#e4e4e7;border-radius:5px;overflow:hidden;margin:10px 0}" +
    ".bar i{display:block;height:100%;background:var(--c)}.row{display:flex;gap:8px;flex-wrap:wrap;margin-top:10px}" +
    "input{flex:1 1 220px;font:inherit;padding:8px;border:1px solid #71717a;border-radius:6px;min-width:0}" +
    "button,a.ch{font:inherit;font-weight:600;padding:8px 12px;border-radius:6px;border:2px solid var(--c);background:var(--c);color:#fff;" +
    "cursor:pointer;text-decoration:none;display:inline-block}a.ch{background:#fff;color:#18181b}" +
    "button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #18181b;outline-offset:2px}" +
    ".t{font-variant-numeric:tabular-nums;font-weight:600}.ban{position:fixed;left:8px;right:8px;bottom:8px;z-index:2147483647;margin:0 auto}" +
    ".x{float:right;background:#fff;color:#18181b;border-color:#d4d4d8;padding:2px 8px}";

  function text(dict, key, vars) {
    var s = dict[key] || "";
    for (var k in vars) if (Object.prototype.hasOwnProperty.call(vars, k)) {
      var token = "{" + k + "}", value = String(vars[k]), at = s.indexOf(token);
      while (at >= 0) {  // by hand: Array.prototype.join may have been replaced by the page
        s = s.slice(0, at) + value + s.slice(at + token.length);
        at = s.indexOf(token, at + value.length);
      }
    }
    return s;
  }

  // One buyer or several: English says "1 buyer", French also "0 acheteur" (singular below 2).
  function counted(dict, key, n, vars) {
    return text(dict, (dict.fr ? n < 2 : n === 1) ? key + "1" : key, vars);
  }

  function el(tag, attrs, kids) {
    var node = doc.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    }
    for (var i = 0; kids && i < kids.length; i++) if (kids[i]) node.appendChild(kids[i]);
    return node;
  }

  function mount(where, colour, fixed) {
    var host = doc.createElement("bridge-widget");
    var props = ["display", "block", "visibility", "visible", "opacity", "1", "position", fixed ? "fixed" : "static",
      "transform", "none", "filter", "none", "clip-path", "none", "max-height", "none", "overflow", "visible",
      // below the floated columns themes put before it (Storefront's addresses), never beside or under them
      "clear", fixed ? "none" : "both", "float", "none",
      // above the theme's own fixed bars (Storefront's handheld footer covered the banner's button)
      "z-index", fixed ? "2147483647" : "auto"];
    for (var i = 0; i < props.length; i += 2) host.style.setProperty(props[i], props[i + 1], "important");
    var root = host.attachShadow({mode: "open"});
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", {text: CSS}));
    }
    var box = el("div", {"class": fixed ? "b ban" : "b", role: "region", "aria-label": "bridge"});
    box.style.setProperty("--c", /^#[0-9a-f]{6}$/i.test(colour || "") ? colour : "#1f6feb");
    root.appendChild(box);
    where.appendChild(host);
    return box;
  }

  // Every word comes with the shop, in its language and tone (bridge/sharing/widget_texts.py).
  function dictFor(shop) { return (shop && shop.texts) || {}; }

  function clock(seconds, day) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    var s = Math.floor(seconds % 60), two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d ? d + " " + day + " " : "") + two(h) + ":" + two(m) + ":" + two(s);
  }

  // Views, shares and landings go to the owner's statistics as beacons (set up by main, once the API is known).
  var tell = function () {};

  function withVia(url, via) { return url + (url.indexOf("?") < 0 ? "?" : "&") + "via=" + via; }

  function copy(value, button, label, done) {
    var ok = function () { button.textContent = done; setTimeout(function () { button.textContent = label; }, 2000); };
    try {
      if (navigator.clipboard && win.isSecureContext) { navigator.clipboard.writeText(value).then(ok, ok); return; }
    } catch (e) { /* fall back below */ }
    var area = el("textarea", {text: value});
    doc.body.appendChild(area); area.select();
    try { doc.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    doc.body.removeChild(area); ok();
  }

  function showGroup(view, where) {
    var d = dictFor(view.shop), box = mount(where, view.shop && view.shop.colour);
    var tiers = (view.campaign && view.campaign.tiers) || [], top = tiers.length ? tiers[tiers.length - 1] : null;
    var goal = view.next ? view.next.buyers : (top ? top.buyers : 1), n = view.members || 0;
    var pct = Math.max(0, Math.min(100, Math.round(100 * n / Math.max(goal, 1))));
    var bar = el("div", {"class": "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(goal),
      "aria-valuenow": String(n), "aria-label": counted(d, "members", n, {n: n})}, [el("i")]);
    bar.firstChild.style.width = pct + "%";
    var status = view.cashback ? text(d, "now", {c: view.cashback}) : (tiers.length ? text(d, "below", {b: tiers[0].buyers, c: tiers[0].cashback}) : "");
    // A closed group invites nobody: no next tier to reach, no link to share, what each member gets.
    var open = view.state === "open";
    var next = !open ? "" : view.next ? counted(d, "next", view.next.missing, {m: view.next.missing, c: view.next.cashback}) : (view.cashback ? text(d, "top") : "");
    var timer = el("span", {"class": "t", role: "timer", "aria-live": "off"});
    var end = Date.now() + 1000 * (view.seconds_left || 0);
    var tick = function () {
      var left = Math.max(0, (end - Date.now()) / 1000);
      timer.textContent = left > 0 && view.state === "open" ? clock(left, text(d, "day")) : "";
      timer.parentNode && (timer.parentNode.firstChild.textContent = left > 0 && view.state === "open" ? text(d, "closes") + " " : text(d, "closed"));
      if (left <= 0) clearInterval(every);
    };
    var every = setInterval(tick, 1000);
    var kids = [el("h2", {text: text(d, "title")}), el("p", {text: counted(d, open ? "members" : "final", n, {n: n}) + " · " + status}), bar,
      next ? el("p", {text: next}) : null,
      view.you && view.you.amount ? el("p", {text: text(d, open ? "you" : "got", {a: view.you.amount})}) : null,
      el("p", {}, [el("span", {text: ""}), timer])];
    for (var j = 0; j < kids.length; j++) if (kids[j]) box.appendChild(kids[j]);
    if (open) sharing(box, d, view.shop, view.share_url, text(d, "msg", {s: view.shop ? view.shop.name : "", u: ""}), true);
    tick();
  }

  // The buyer's own referral link and the offer: alone, or as a short second block under the group's.
  function showReferral(view, where, short) {
    var d = dictFor(view.shop), r = view.referral, box = mount(where, view.shop && view.shop.colour);
    box.appendChild(el(short ? "p" : "h2", {"class": short ? "t" : "", text: text(d, "rtitle")}));
    box.appendChild(el("p", {text: text(d, "roffer", {w: r.welcome, r: r.reward})}));
    sharing(box, d, view.shop, r.url, text(d, "rmsg", {w: r.welcome, s: view.shop ? view.shop.name : "", u: ""}), !short);
  }

  // A link to share: the address with a copy button, then (unless short) the channels and the native share.
  function sharing(box, d, shop, url, msg, channels) {
    var input = el("input", {value: url, readonly: "readonly", "aria-label": text(d, "share")});
    var label = text(d, "copy"), button = el("button", {type: "button", text: label});
    var link = url.split("/r/")[1] || "";
    tell("view", link);
    button.addEventListener("click", function () { tell("share", link, "copy"); copy(url, button, label, text(d, "copied")); });
    box.appendChild(el("div", {"class": "row"}, [input, button]));
    if (!channels) return;
    channels = [["WhatsApp", "whatsapp", "https://wa.me/?text=" + encodeURIComponent(msg + withVia(url, "whatsapp"))],
      ["Messenger", "messenger", "fb-messenger://share/?link=" + encodeURIComponent(withVia(url, "messenger"))],
      ["Facebook", "facebook", "https://www.facebook.com/sharer/sharer.php?u=" + encodeURIComponent(withVia(url, "facebook"))],
      ["X", "x", "https://twitter.com/intent/tweet?text=" + encodeURIComponent(msg) + "&url=" + encodeURIComponent(withVia(url, "x"))],
      ["E-mail", "email", "mailto:?subject=" + encodeURIComponent(shop ? shop.name : "") + "&body=" + encodeURIComponent(msg + withVia(url, "email"))],
      ["SMS", "sms", "sms:?&body=" + encodeURIComponent(msg + withVia(url, "sms"))]];
    var row = el("div", {"class": "row"}), press = function (via) { return function () { tell("share", link, via); }; };
    for (var i = 0; i < channels.length; i++) {
      var a = el("a", {"class": "ch", href: channels[i][2], target: "_blank", rel: "noopener noreferrer", text: channels[i][0]});
      a.addEventListener("click", press(channels[i][1]));
      row.appendChild(a);
    }
    if (navigator.share) {
      var native = el("button", {type: "button", text: text(d, "more")});
      native.addEventListener("click", function () {
        tell("share", link, "share");
        navigator.share({title: shop ? shop.name : "", text: msg, url: withVia(url, "share")}).then(null, function () {});
      });
      row.appendChild(native);
    }
    box.appendChild(row);
  }

  function banner(message, shop, extra) {
    var d = dictFor(shop), box = mount(doc.body, shop && shop.colour, true);
    var close = el("button", {type: "button", "class": "x", "aria-label": text(d, "dismiss"), text: "×"});
    close.addEventListener("click", function () { box.parentNode.host.remove(); });
    box.appendChild(close);
    box.appendChild(el("p", {text: message}));
    if (extra) box.appendChild(extra);
    return box;
  }

  function main() {
    var script = doc.currentScript;
    if (!script || !script.getAttribute("data-shop")) {
      var all = doc.getElementsByTagName("script");
      for (var i = 0; i < all.length; i++) if (all[i].getAttribute("data-shop") && /\/widget\.js(\?|$)/.test(all[i].src)) script = all[i];
    }
    var shop = script && script.getAttribute("data-shop");
    if (!shop || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(shop)) return;
    var api = new URL(script.src).origin + "/api/v1";
    var store = "bridge:" + shop, params = new URLSearchParams(win.location.search);
    tell = function (kind, link, via) {
      try { navigator.sendBeacon(api + "/shops/" + shop + "/events", "k=" + kind + "&c=" + encodeURIComponent(link) + (via ? "&via=" + via : "")); } catch (e) { /* statistics only */ }
    };
    var get = function (path) {
      return fetch(api + path, {credentials: "omit"}).then(function (r) { return r.ok ? r.json() : null; });
    };
    var post = function (path, fields) {
      var body = "";
      for (var k in fields) if (Object.prototype.hasOwnProperty.call(fields, k) && fields[k]) {
        body += (body ? "&" : "") + encodeURIComponent(k) + "=" + encodeURIComponent(fields[k]);
      }
      return fetch(api + path, {method: "POST", credentials: "omit", body: body,
        headers: {"Content-Type": "application/x-www-form-urlencoded"}}).then(function (r) {
        // A refusal (422) comes back too, so that the page can say why; other failures are null.
        return r.ok || r.status === 422 ? r.json() : null;
      });
    };
    var kept = function () {
      var value = null;
      try { value = win.localStorage.getItem(store); } catch (e) { /* storage may be blocked */ }
      if (!value) {
        var m = doc.cookie.match(new RegExp("(?:^|; )bridge_" + shop + "=([^;]*)"));
        value = m ? decodeURIComponent(m[1]) : null;
      }
      var parts = value ? value.split("|") : [];
      return parts.length === 2 && +parts[1] > Date.now() ? parts[0] : null;
    };
    var keep = function (code, days) {
      var until = Date.now() + days * 86400000, value = code + "|" + until;
      try { win.localStorage.setItem(store, value); } catch (e) { /* the cookie below still keeps it */ }
      doc.cookie = "bridge_" + shop + "=" + encodeURIComponent(value) + "; max-age=" + Math.round(days * 86400) +
        "; path=/; SameSite=Lax" + (win.location.protocol === "https:" ? "; Secure" : "");
    };

    var code = params.get("bridge");
    if (code && /^[0-9A-Za-z]{8,32}(\.[0-9A-Za-z]{8,32})?$/.test(code)) {
      get("/links/" + code.split(".")[0]).then(function (link) {
        if (!link) return;
        keep(code, link.attribution_days || 30);
        tell("landing", code);
        var d = dictFor(link.shop);
        if (link.kind === "advocate") {
          var email = el("input", {type: "email", autocomplete: "email", "aria-label": text(d, "email"), placeholder: text(d, "email")});
          var ask = el("button", {type: "button", text: text(d, "get")}), form = el("div", {"class": "row"}, [email, ask]);
          ask.addEventListener("click", function () {
            post("/shops/" + shop + "/welcome", {code: code, email: email.value}).then(function (got) {
              // The code once the shop has it; "on its way" while it does not yet; else why not, in words.
              var done = got && (got.coupon || got.state === "pending"), why = "no_other";
              if (got && got.error && d["no_" + got.error.reason]) why = "no_" + got.error.reason;
              var say = got && got.coupon ? text(d, "code", {k: got.coupon}) : done ? text(d, "pending") : text(d, why);
              var note = el("p", {"class": got && got.coupon ? "t" : "", role: "status", text: say});
              var last = form.nextSibling, parent = form.parentNode;
              if (last && last.getAttribute && last.getAttribute("role") === "status") parent.removeChild(last);
              if (done) parent.replaceChild(note, form);
              else parent.insertBefore(note, form.nextSibling);
            })["catch"](function () {});
          });
          banner(text(d, link.referrer ? "welcomef" : "welcome", {c: link.campaign.welcome, f: link.referrer}), link.shop, form);
        } else if (link.state === "open") {
          banner(text(d, "land", {c: link.campaign.max_cashback}), link.shop);
        }
      })["catch"](function () {});
    } else if (params.get("bridge_notice")) {
      get("/shops/" + shop).then(function (info) { if (info) banner(text(dictFor(info.shop), "shut"), info.shop); })["catch"](function () {});
    }

    // "Get my link" where the shop put its place: the link goes by e-mail, never onto the page.
    var ask = doc.querySelector("[data-bridge-referral]");
    if (ask) get("/shops/" + shop + "?use=ask").then(function (info) {
      if (!info || !info.referral) return;
      var d = dictFor(info.shop), box = mount(ask, info.shop && info.shop.colour);
      var email = el("input", {type: "email", autocomplete: "email", "aria-label": text(d, "email"), placeholder: text(d, "email")});
      var send = el("button", {type: "button", text: text(d, "rget")}), form = el("div", {"class": "row"}, [email, send]);
      var note = el("p", {role: "status"});
      box.appendChild(el("h2", {text: text(d, "rtitle")}));
      box.appendChild(el("p", {text: text(d, "roffer", {w: info.referral.welcome, r: info.referral.reward})}));
      box.appendChild(form); box.appendChild(note);
      send.addEventListener("click", function () {
        post("/shops/" + shop + "/referral-links", {email: email.value}).then(function (got) {
          var sent = got && got.state === "sent";
          note.textContent = text(d, sent ? "rsent" : got && got.error ? "no_bad_email" : "no_other");
          if (sent) box.removeChild(form);
        })["catch"](function () { note.textContent = text(d, "no_other"); });
      });
    })["catch"](function () {});

    var order = null, key = null, path = win.location.pathname;
    var marked = doc.querySelector("[data-order-id][data-order-key]");
    var received = path.match(/\/order-received\/(\d+)\/?$/);
    if (script.getAttribute("data-order-id") && script.getAttribute("data-order-key")) {
      order = script.getAttribute("data-order-id"); key = script.getAttribute("data-order-key");
    } else if (marked) {
      order = marked.getAttribute("data-order-id"); key = marked.getAttribute("data-order-key");
    } else if (received && params.get("key")) {
      order = received[1]; key = params.get("key");
    } else if (/^\d+$/.test(params.get("order-received") || "") && params.get("key")) {  // plain permalinks
      order = params.get("order-received"); key = params.get("key");
    } else if (params.get("id_order") && params.get("key") && /confirmation/.test(win.location.href)) {
      order = params.get("id_order"); key = params.get("key");
    }
    if (order && key) {
      // Nothing to show: give back the place a module kept for the widget.
      var held = doc.querySelector("[data-bridge-widget]"), release = function () { if (held) held.style.minHeight = "0"; };
      var waiting = null, again = 0;
      var show = function (view) {
        var ready = view && (view.share_url || view.referral);
        if (waiting && view && (ready || view.state !== "awaiting_payment")) {
          waiting.parentNode.host.remove(); waiting = null;
        }
        if (!ready && (!view || view.state !== "awaiting_payment")) return waiting ? null : release();
        // The module's placeholder; else the confirmation's own block (PrestaShop's classic theme gives its
        // <body> the id order-confirmation, so that id is only taken when it is not the body's); else main.
        var spots = ["[data-bridge-widget]", ".woocommerce-order", "#content-hook_order_confirmation .card-block",
          "#content-hook_order_confirmation", "main#order-confirmation, div#order-confirmation, section#order-confirmation",
          "main, #main, #content"], spot = null;
        for (var s = 0; !spot && s < spots.length; s++) spot = doc.querySelector(spots[s]);  // in this order of preference
        spot = spot || doc.body;
        if (view.share_url) showGroup(view, spot);
        if (view.referral) showReferral(view, spot, !!view.share_url);
        if (ready) return;
        // Not paid yet (a bank transfer, a slow gateway): say the link is coming, and ask again with
        // backoff for about five minutes (5 s, 10 s, ... 160 s); the e-mail follows once paid in any case.
        if (!waiting) {
          var d = dictFor(view.shop);
          waiting = mount(spot, view.shop && view.shop.colour);
          waiting.appendChild(el("h2", {text: text(d, "title")}));
          waiting.appendChild(el("p", {role: "status", text: text(d, "awaiting")}));
        }
        if (again < 6) {
          setTimeout(function () {
            get("/shops/" + shop + "/orders/" + encodeURIComponent(order) + "?key=" + encodeURIComponent(key))
              .then(show)["catch"](function () {});
          }, 5000 * Math.pow(2, again++));
        }
      };
      post("/shops/" + shop + "/conversions", {order_id: order, key: key, code: kept()}).then(show)["catch"](release);
    }
  }

  try { main(); } catch (e) { /* a widget must never break the page it is pasted into */ }
})();

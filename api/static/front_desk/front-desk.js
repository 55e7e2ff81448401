// The front-desk page: a guard signs in at the municipality's provider (sign-in.js) or, in development,
// pastes a token; then types or scans CPR numbers.
// The CPR number goes only into a POST body: never the URL, the history, storage or a cookie.
"use strict";

(() => {
  const TOKEN_KEY = "vaern.front-desk.token"; // a pasted token, in sessionStorage: gone when the tab closes
  const signIn = window.VaernSignIn;
  const LOOKUP_URL = "front-desk/lookup"; // relative, so a path prefix in front of Vaern still works
  const TIMEOUT_MS = 8000;
  const PENDING_DELAY_MS = 250; // a quick answer replaces the old one without a "wait" flash
  const RESULT_SECONDS = 120; // an answer does not stay on an unattended screen
  const SOON_MS = 30 * 60 * 1000; // a meeting starting within this is highlighted
  const CPR_SHAPE = /^(\d{6})-?(\d{4})$/;
  const REFUSED = "Vaern kan ikke bruge det som CPR-nummer. Tjek fødselsdatoen og de sidste 4 cifre.";

  // The in-person rules, in the guard's words; "open" is not here: it is no restriction.
  const RULES = {
    by_appointment: { tone: "appointment", icon: "icon-appointment", kicker: "Begrænset adgang", headline: "Kun efter aftale" },
    guard_present: { tone: "guard", icon: "icon-guard", kicker: "Begrænset adgang", headline: "Kun med vagt til stede" },
    banned: { tone: "banned", icon: "icon-banned", kicker: "Adgang nægtet", headline: "Må ikke komme ind" },
  };
  // A rule this page does not know yet is never shown as "may come in".
  const UNKNOWN_RULE = {
    tone: "guard", icon: "icon-guard", kicker: "Begrænset adgang", headline: "Ukendt regel",
    lines: ["Siden kender ikke denne regel. Spørg den ansvarlige, før borgeren lukkes ind."],
  };
  const rule = (terms) => RULES[terms.rule] || UNKNOWN_RULE;

  const ZONE = "Europe/Copenhagen";
  const DATE = new Intl.DateTimeFormat("da-DK", { day: "numeric", month: "long", year: "numeric", timeZone: ZONE });
  const CLOCK = new Intl.DateTimeFormat("da-DK", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: ZONE });

  const $ = (id) => document.getElementById(id);
  const el = {
    login: $("login"), loginForm: $("login-form"), loginNotice: $("login-notice"), token: $("token"),
    signIn: $("sign-in"), signInButton: $("sign-in-button"),
    lookup: $("lookup"), lookupForm: $("lookup-form"), cpr: $("cpr"),
    session: $("session"), who: $("who"), logout: $("logout"), result: $("result"),
  };

  let inFlight = null;
  let pendingTimer = 0;
  let expiryTimer = 0;
  let signsIn = false; // at the provider; else the guard pastes a token
  let signedOutHere = false; // then the provider asks who is signing in, not the last one

  // ---- session -------------------------------------------------------------------------------

  function token() {
    return signsIn ? signIn.token() : sessionStorage.getItem(TOKEN_KEY);
  }

  function forgetToken() {
    if (signsIn) signIn.forget();
    sessionStorage.removeItem(TOKEN_KEY);
  }

  // The claims are read only to greet the guard and spot an expired token; Vaern checks the signature.
  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
  }

  function showLogin(notice) {
    el.lookup.hidden = true;
    el.session.hidden = true;
    el.login.hidden = false;
    el.loginNotice.textContent = notice || "";
    el.loginNotice.hidden = !notice;
    (signsIn ? el.signInButton : el.token).focus();
  }

  function showLookup() {
    const name = (claims(token()) || {}).name;
    el.who.textContent = name ? `Logget ind: ${name}` : "Logget ind";
    el.login.hidden = true;
    el.session.hidden = false;
    el.lookup.hidden = false;
    el.cpr.focus();
  }

  function logIn(event) {
    event.preventDefault();
    const value = el.token.value.trim().replace(/^Bearer\s+/i, "");
    el.token.value = "";
    if (!value) return showLogin("Indsæt dit token for at logge ind.");
    const exp = (claims(value) || {}).exp;
    if (exp && exp * 1000 <= Date.now()) return showLogin("Dette token er udløbet. Hent et nyt og log ind igen.");
    sessionStorage.setItem(TOKEN_KEY, value);
    clearResult();
    showLookup();
  }

  function logOut() {
    forgetToken();
    signedOutHere = true;
    abortLookup();
    clearField();
    clearResult();
    showLogin("Du er logget ud.");
  }

  // ---- lookup --------------------------------------------------------------------------------

  function abortLookup() {
    if (inFlight) inFlight.abort();
    inFlight = null;
    clearTimeout(pendingTimer);
  }

  async function lookUp(event) {
    event.preventDefault();
    const cpr = el.cpr.value.replace(/\s+/g, "");
    el.cpr.focus();
    if (!cpr) return;
    abortLookup(); // an answer still on its way is for the previous number
    const wrong = cprProblem(cpr);
    if (wrong) return refuse(wrong);
    clearField();
    const shown = `${CPR_SHAPE.exec(cpr)[1]}-••••`;
    if (!token()) return showLogin("Log ind for at slå op.");

    const request = new AbortController();
    inFlight = request;
    pendingTimer = setTimeout(() => render(pending(shown), false), PENDING_DELAY_MS);
    const timeout = setTimeout(() => request.abort(), TIMEOUT_MS);
    let card;
    try {
      card = await answer(cpr, request.signal, shown);
    } catch {
      card = unavailable(shown);
    } finally {
      clearTimeout(timeout);
    }
    if (inFlight !== request) return; // a newer lookup (or a log-out) took over
    inFlight = null;
    clearTimeout(pendingTimer);
    if (card.refused && !el.cpr.value) {
      el.cpr.value = cpr; // Vaern refused the number: back in the field for correction (unless one is being typed)
      return refuse(REFUSED);
    }
    render(card);
  }

  // An invalid number stays in the field, selected: the guard corrects it, or the next scan replaces it.
  function refuse(why) {
    render(invalid(why));
    el.cpr.setAttribute("aria-invalid", "true");
    el.cpr.focus();
    el.cpr.select();
  }

  function clearField() {
    el.cpr.value = "";
    el.cpr.removeAttribute("aria-invalid");
  }

  // What is wrong with a typed number, in the guard's words; null when it can be a CPR number.
  function cprProblem(cpr) {
    if (/[^\d-]/.test(cpr) || /-.*-/.test(cpr)) return "Kun cifre og én bindestreg: DDMMÅÅ\u2011XXXX.";
    const digits = cpr.replace("-", "");
    if (digits.length !== 10) {
      return `Nummeret har ${digits.length} ${digits.length === 1 ? "ciffer" : "cifre"}. Et CPR-nummer har 10.`;
    }
    if (!CPR_SHAPE.test(cpr)) return "Bindestregen hører til efter de første 6 cifre: DDMMÅÅ\u2011XXXX.";
    const born = birthDate(digits);
    if (!born) return "De første 6 cifre er ikke en dato: DDMMÅÅ, fødselsdatoen.";
    if (born > new Date()) return "Fødselsdatoen ligger efter i dag. Tjek de første 6 cifre og det 7. ciffer.";
    return null;
  }

  // The birth date a CPR number holds, its century read from the 7th digit as CPR does; null if no such day.
  function birthDate(digits) {
    const [day, month, year] = [0, 2, 4].map((at) => Number(digits.slice(at, at + 2)));
    const seventh = digits[6];
    const century = "5678".includes(seventh) && year >= 58 ? 1800
      : "0123".includes(seventh) || ("49".includes(seventh) && year >= 37) ? 1900 : 2000;
    const born = new Date(Date.UTC(century + year, month - 1, day));
    return born.getUTCMonth() === month - 1 && born.getUTCDate() === day ? born : null;
  }

  async function answer(cpr, signal, shown, renewable = true) {
    const response = await fetch(LOOKUP_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify({ cpr }),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      signal,
    });
    if (response.status === 401 && signsIn && renewable) {
      if (await signIn.renew()) return answer(cpr, signal, shown, false); // once, with the new token
    }
    if (response.status === 401 || response.status === 403) return signedOut(response.status);
    if (response.status === 422) return { ...invalid(REFUSED), refused: true };
    if (response.status === 503 && (await cannotTell(response))) return notCurrent(shown);
    if (!response.ok) return unavailable(shown);
    return verdict(await response.json(), shown);
  }

  // Vaern says it cannot tell (its answer would not be current): a problem marked `cannot_tell`.
  async function cannotTell(response) {
    try {
      const problem = await response.json();
      return problem.cannot_tell === true;
    } catch {
      return false;
    }
  }

  // ---- the cards -----------------------------------------------------------------------------

  // No restriction in force reads the same whether or not the citizen is registered at all:
  // the guard learns the terms, never who is on file.
  function verdict(body, shown) {
    const terms = body.in_person;
    const footer = `Opslag kl. ${clock(body.checked_at)} · CPR ${shown}`;
    if (terms.rule === "open") {
      return {
        tone: "open", icon: "icon-open", kicker: "Ingen begrænsning", headline: "Må komme ind",
        lines: ["Ingen begrænsning på personligt fremmøde."], footer,
      };
    }
    return {
      ...rule(terms),
      scope: scope(terms.scope),
      details: details(terms),
      others: (body.also_in_force || []).filter((t) => t.rule !== "open"),
      meetings: body.appointments_today, // null when the rule does not turn on meetings
      footer,
    };
  }

  function details(terms) {
    const rows = [];
    if (terms.instructions) rows.push(["Instruks", terms.instructions, "strong"]);
    if (terms.contact_point) rows.push(["Kontakt", terms.contact_point, "strong"]);
    if (terms.valid_until) rows.push(until(terms.valid_until));
    return rows;
  }

  function pending(shown) {
    return { tone: "pending", icon: "icon-pending", kicker: `CPR ${shown}`, headline: "Slår op …" };
  }

  function invalid(why) {
    return {
      tone: "notice", icon: "icon-invalid", kicker: "Kan ikke slå op", headline: "Ugyldigt CPR-nummer",
      lines: [why, "Ret nummeret i feltet, eller skriv eller scan det igen, og tryk Enter."],
    };
  }

  function unavailable(shown) {
    return {
      tone: "unavailable", icon: "icon-unavailable", kicker: "Intet svar", headline: "Tjenesten svarer ikke",
      lines: ["Det vides ikke, om borgeren må komme ind. Prøv igen om lidt, og følg jeres faste procedure imens."],
      footer: shown ? `CPR ${shown}` : "",
    };
  }

  function notCurrent(shown) {
    return {
      tone: "unavailable", icon: "icon-unavailable", kicker: "Intet svar", headline: "Kan ikke afgøre adgang",
      lines: [
        "Systemet kan ikke sige, om borgeren må komme ind: oplysningerne er ikke opdaterede lige nu.",
        "Følg jeres lokale procedure, og ring til teamet, før borgeren lukkes ind.",
      ],
      footer: shown ? `CPR ${shown}` : "",
    };
  }

  function signedOut(status) {
    forgetToken();
    showLogin("");
    const what = signsIn ? "log ind" : "token";
    const why = status === 403 ? `Dit ${what} giver ikke adgang til opslag ved skranken.` : "Dit log ind er udløbet eller ugyldigt.";
    return logInAgain(why);
  }

  function logInAgain(why) {
    const how = signsIn ? "Log ind igen, og slå op igen." : "Log ind med dit vagt-token, og slå op igen.";
    return { tone: "login", icon: "icon-login", kicker: "Ikke logget ind", headline: "Log ind igen", lines: [why, how] };
  }

  // The provider's token ran out and could not be renewed: the guard is asked, and nothing is left shown.
  function expired() {
    abortLookup();
    clearField();
    showLogin("");
    render(logInAgain("Dit log ind er udløbet."), false);
  }

  // ---- rendering -----------------------------------------------------------------------------

  function node(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text; // text only: nothing from the answer is parsed as HTML
    return made;
  }

  function icon(id) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "card__icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", `#${id}`);
    svg.append(use);
    return svg;
  }

  function render(card, fresh = true) {
    clearTimeout(expiryTimer);
    const article = node("article", `card card--${card.tone}`);
    const band = node("div", "card__band");
    const words = node("div", "card__words");
    words.append(node("p", "card__kicker", card.kicker), node("p", "card__headline", card.headline));
    if (card.scope) words.append(node("p", "card__scope", card.scope));
    band.append(icon(card.icon), words);
    // The number checked and when, beside the headline: seen with the answer, never scrolled to.
    if (card.footer) band.append(node("p", "card__footer", card.footer));
    article.append(band);

    const body = node("div", "card__body");
    for (const line of card.lines || []) body.append(node("p", "card__line", line));
    if (card.details && card.details.length) body.append(list(card.details));
    if (Array.isArray(card.meetings)) body.append(meetings(card.meetings));
    if (card.others && card.others.length) body.append(others(card.others));
    if (body.childNodes.length) article.append(body);

    el.result.replaceChildren(article);
    if (fresh) expiryTimer = setTimeout(expire, RESULT_SECONDS * 1000);
  }

  function list(rows) {
    const dl = node("dl", "card__details");
    for (const [term, value, weight] of rows) {
      const row = node("div", "card__detail");
      row.append(node("dt", "", term), node("dd", weight === "strong" ? "card__value card__value--strong" : "card__value", value));
      dl.append(row);
    }
    return dl;
  }

  function others(terms) {
    const section = node("section", "card__others");
    section.append(node("h3", "card__others-heading", "Også gældende"));
    const ul = node("ul", "card__others-list");
    for (const t of terms) {
      const [label, date] = until(t.valid_until);
      const parts = [rule(t).headline, scope(t.scope), t.instructions, t.contact_point, `${label.toLowerCase()} ${date}`];
      ul.append(node("li", `card__other card__other--${rule(t).tone}`, parts.filter(Boolean).join(" · ")));
    }
    section.append(ul);
    return section;
  }

  // Today's meetings at this centre, in local time as booked; the one starting within half an hour stands out.
  function meetings(today) {
    const section = node("section", "card__meetings");
    section.append(node("h3", "card__meetings-heading", "Aftaler i dag"));
    if (!today.length) {
      section.append(node("p", "card__meeting card__meeting--none", "Ingen aftale i dag"));
      return section;
    }
    const ul = node("ul", "card__meetings-list");
    const now = Date.now();
    for (const m of today) {
      const starts = new Date(m.starts_at).getTime();
      const soon = starts >= now && starts - now <= SOON_MS;
      const li = node("li", soon ? "card__meeting card__meeting--soon" : "card__meeting");
      li.append(node("span", "card__meeting-time", `kl. ${wall(m.starts)}–${wall(m.ends)}`));
      li.append(node("span", "card__meeting-place", [m.room, `center ${m.centre}`, m.host].join(" · ")));
      if (soon) li.append(node("span", "card__meeting-soon", `Om ${Math.max(1, Math.round((starts - now) / 60000))} min`));
      ul.append(li);
    }
    section.append(ul);
    return section;
  }

  // A wall time as booked ("10:00:00"), written as the page writes times ("10.00").
  const wall = (t) => t.slice(0, 5).replace(":", ".");

  function clearResult() {
    clearTimeout(expiryTimer);
    el.result.replaceChildren();
  }

  // Nothing typed stays on an unattended screen either.
  function expire() {
    clearResult();
    if (el.cpr.hasAttribute("aria-invalid")) clearField();
  }

  // ---- words for values ----------------------------------------------------------------------

  function scope(value) {
    if (!value || value.kind === "administration") return "Gælder hele forvaltningen";
    if (value.kind === "centre") return `Gælder kun center ${value.centre}`;
    if (value.kind === "case") return `Gælder kun sag ${value.case}`;
    return "";
  }

  function clock(iso) {
    const at = iso ? new Date(iso) : new Date();
    return CLOCK.format(Number.isNaN(at.getTime()) ? new Date() : at);
  }

  // A period ending at midnight is shown as its last whole day ("til og med 22. maj 2027").
  function until(iso) {
    const end = new Date(iso);
    if (Number.isNaN(end.getTime())) return ["Gælder til", iso];
    const time = CLOCK.format(end);
    if (/^00\D00$/.test(time)) return ["Gælder til og med", DATE.format(new Date(end.getTime() - 1))];
    return ["Gælder til", `${DATE.format(end)} kl. ${time}`];
  }

  // ---- keyboard ------------------------------------------------------------------------------

  function onCprKey(event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    if (el.cpr.value) clearField();
    else clearResult();
  }

  // A scanner "types" wherever the focus is: send stray digits and Escape back to the CPR field.
  function onPageKey(event) {
    if (el.lookup.hidden || event.target === el.cpr || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      clearResult();
      el.cpr.focus();
    } else if (/^\d$/.test(event.key) && !/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) {
      el.cpr.focus();
    }
  }

  // Signing in at the provider, or (with none configured) the token form; back from the provider, signed in.
  async function startSigningIn() {
    try {
      signsIn = await signIn.configured();
    } catch {
      return showLogin("Vaern svarer ikke. Genindlæs siden om lidt.");
    }
    if (!signsIn) {
      el.loginForm.hidden = false;
      return token() ? showLookup() : showLogin("");
    }
    el.signIn.hidden = false;
    signIn.whenExpired(expired);
    el.signInButton.addEventListener("click", () => {
      signIn.begin(signedOutHere).catch(() => showLogin("Kommunens login svarer ikke. Prøv igen om lidt."));
    });
    try {
      if (await signIn.complete()) return showLookup();
    } catch {
      return showLogin("Log ind lykkedes ikke. Prøv igen.");
    }
    return showLogin("");
  }

  function start() {
    el.loginForm.addEventListener("submit", logIn);
    el.lookupForm.addEventListener("submit", lookUp);
    el.logout.addEventListener("click", logOut);
    el.cpr.addEventListener("keydown", onCprKey);
    el.token.addEventListener("keydown", (event) => {
      if (event.key === "Escape") el.token.value = "";
    });
    document.addEventListener("keydown", onPageKey);
    // Leaving the page (or Back-forward caching it) takes the shown answer and any typed number along.
    window.addEventListener("pagehide", () => {
      abortLookup();
      clearField();
      clearResult();
    });
    startSigningIn();
  }

  start();
})();

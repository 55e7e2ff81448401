// Signing the guard in at the municipality's OpenID provider: the authorization-code flow with PKCE
// (RFC 7636, S256), when Vaern names a provider and a public client for this page (GET front-desk/sign-in).
// The tokens live in this script's memory only: never in the address, the history or storage. While the
// browser is away at the provider, sessionStorage holds the PKCE verifier and the state, and loses them
// the moment the browser is back.
"use strict";

window.VaernSignIn = (() => {
  const SETTINGS_URL = "front-desk/sign-in"; // relative, as the lookups: a path prefix in front of Vaern works
  const PENDING_KEY = "vaern.front-desk.sign-in";
  const RENEW_AHEAD_S = 30; // a refresh this long before expiry, or at 3/4 of a shorter life

  class SignInFailed extends Error {}

  let config = null;
  let endpoints = null;
  let session = null; // { accessToken, refreshToken, expiresAt }
  let timer = 0;
  let onExpired = () => {};

  const fetchOptions = { cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };

  // Whether this page signs in at a provider; false in development, where the guard pastes a token.
  async function configured() {
    const response = await fetch(SETTINGS_URL, { ...fetchOptions, headers: { Accept: "application/json" } });
    if (!response.ok) throw new SignInFailed(`sign-in settings: ${response.status}`);
    const body = await response.json();
    config = body.issuer && body.client_id ? body : null;
    return config !== null;
  }

  async function discover() {
    if (endpoints) return endpoints;
    const url = `${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const response = await fetch(url, fetchOptions);
    if (!response.ok) throw new SignInFailed(`discovery: ${response.status}`);
    const doc = await response.json();
    if (doc.issuer !== config.issuer) throw new SignInFailed("the discovery document names another issuer");
    endpoints = { authorize: doc.authorization_endpoint, token: doc.token_endpoint };
    return endpoints;
  }

  function base64url(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  const random = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  // The page's own address, without a query: the redirect URI registered for the client.
  const pageAddress = () => `${location.origin}${location.pathname}`;

  // To the provider. `fresh`: the guard signed out here, so the provider asks who they are again.
  async function begin(fresh = false) {
    const { authorize } = await discover();
    const verifier = random(32);
    const state = random(16);
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
    const url = new URL(authorize);
    url.search = new URLSearchParams({
      response_type: "code", client_id: config.client_id, redirect_uri: pageAddress(), scope: config.scope,
      state, code_challenge: await challengeOf(verifier), code_challenge_method: "S256",
      ...(fresh ? { prompt: "login" } : {}),
    }).toString();
    location.assign(url.href);
  }

  // Back from the provider: the code and state leave the address at once, whatever else happens; true when
  // the guard is now signed in, false when the page was not opened by the provider's answer.
  async function complete() {
    const answer = new URLSearchParams(location.search);
    if (!answer.has("state") && !answer.has("code") && !answer.has("error")) return false;
    history.replaceState(null, "", pageAddress());
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
    sessionStorage.removeItem(PENDING_KEY);
    if (answer.has("error")) throw new SignInFailed(`the provider answered ${answer.get("error")}`);
    if (!pending || answer.get("state") !== pending.state) throw new SignInFailed("an answer to no sign-in of ours");
    if (answer.has("iss") && answer.get("iss") !== config.issuer) throw new SignInFailed("another issuer answered");
    await exchange({
      grant_type: "authorization_code", code: answer.get("code"), redirect_uri: pageAddress(),
      code_verifier: pending.verifier,
    });
    return true;
  }

  async function exchange(form) {
    const { token } = await discover();
    const response = await fetch(token, {
      ...fetchOptions,
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ ...form, client_id: config.client_id }),
    });
    if (!response.ok) throw new SignInFailed(`the token endpoint answered ${response.status}`);
    const body = await response.json();
    if (typeof body.access_token !== "string") throw new SignInFailed("no access token");
    const lifetime = Number(body.expires_in) > 0 ? Number(body.expires_in) : 60;
    session = {
      accessToken: body.access_token,
      refreshToken: body.refresh_token || (form.refresh_token ?? null), // a provider may keep the old one valid
      expiresAt: Date.now() + lifetime * 1000,
    };
    schedule(lifetime);
  }

  // With a refresh token, a new access token ahead of expiry; without one, the guard is asked at expiry.
  function schedule(lifetime) {
    clearTimeout(timer);
    const ahead = session.refreshToken ? Math.min(RENEW_AHEAD_S, lifetime / 4) : 0;
    timer = setTimeout(renew, Math.max(0, session.expiresAt - Date.now() - ahead * 1000));
  }

  // A new access token from the refresh token; false (and the guard asked to sign in again) if there is none
  // or the provider refuses it.
  async function renew() {
    if (session && session.refreshToken) {
      try {
        await exchange({ grant_type: "refresh_token", refresh_token: session.refreshToken });
        return true;
      } catch {
        // refused or unreachable: as good as no refresh token
      }
    }
    forget();
    onExpired();
    return false;
  }

  function forget() {
    clearTimeout(timer);
    session = null;
  }

  return {
    configured, begin, complete, renew, forget,
    token: () => (session ? session.accessToken : null),
    whenExpired: (callback) => { onExpired = callback; },
  };
})();

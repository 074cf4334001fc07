/* Live updates for Maillage pages; pages work the same without them.
 *
 * A page opts in on its <body>, and loads two deferred scripts (no inline script):
 *   <body data-live data-rooms="theme:cybersecurite town:29103 initiative:7 help">
 *   <script src="/static/vendor/socket.io.min.js" defer></script>
 *   <script src="/static/live.js" defer></script>
 * data-live    connect; the session cookie says who (signed out: public rooms only).
 * data-rooms   optional: public rooms to follow, separated by spaces.
 * [data-notification-count]  any element: its text and the attribute's value become the
 *              unread count, "99+" past the API's cap (CSS may hide [data-notification-count="0"]).
 * [data-notification-list]   a list (<ul>) of <li data-id>: new notifications are added on
 *              top, read from the API (text, why, link), as text, never as HTML.
 * [data-refresh-for="help-request:<id>"]  any element with an id: when an activity about
 *              that request arrives, the page is fetched again and the element replaced by
 *              the new one of the same id (a claim taken or released, the history).
 * Pages may listen on document for:
 *   maillage:activity      detail: the activity's payload
 *   maillage:notification  detail: {id}, or the API's item when caught up after a reconnect
 */
(() => {
  "use strict";
  const body = document.body;
  if (!body || !body.hasAttribute("data-live") || typeof io !== "function") return;
  const KEY = "maillage:last-notification";
  const rooms = (body.dataset.rooms || "").split(/\s+/).filter(Boolean);
  // WebSocket first: one request instead of the polling handshake's four on a slow line;
  // long-polling still comes when a proxy refuses WebSockets.
  const socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
  let connectedBefore = false;

  const lastSeen = () => {
    try { return Number(sessionStorage.getItem(KEY)) || 0; } catch { return 0; }
  };
  const tell = (name, detail) =>
    document.dispatchEvent(new CustomEvent("maillage:" + name, { detail }));
  const getJSON = (url) =>
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(url + ": " + r.status))));

  function seen(notification) {
    try {
      if (notification.id > lastSeen()) sessionStorage.setItem(KEY, String(notification.id));
    } catch { /* no storage: no catching up after a reconnect */ }
    tell("notification", notification);
  }

  function refreshCount() {
    const badges = document.querySelectorAll("[data-notification-count]");
    if (!badges.length) return Promise.resolve();
    return getJSON("/api/v1/notifications/unread-count").then(({ count, capped }) => {
      // Past its cap the count is a floor: at least 100 is more than 99.
      const shown = capped ? count - 1 + "+" : String(count);
      for (const badge of badges) {
        badge.textContent = shown;
        badge.setAttribute("data-notification-count", shown);
      }
    });
  }

  // Notification ids only grow: what came after the last one seen is what was missed.
  function catchUp() {
    const after = lastSeen();
    const missed = after
      ? getJSON("/api/v1/notifications?after=" + after).then((page) => page.items.forEach(seen))
      : Promise.resolve();
    return missed.then(refreshCount);
  }

  socket.on("connect", () => {
    if (rooms.length) socket.emit("subscribe", { rooms });
    if (connectedBefore) catchUp().catch(console.warn);
    connectedBefore = true;
  });
  // The list page shows new notifications as they come, newest first.
  function extendList() {
    const list = document.querySelector("[data-notification-list]");
    if (!list) return Promise.resolve();
    const newest = list.querySelector("li[data-id]");
    const after = newest ? newest.getAttribute("data-id") : 0;
    return getJSON("/api/v1/notifications?after=" + after).then((page) => {
      list.querySelector(".empty")?.remove();
      for (const item of page.items) {
        const li = document.createElement("li");
        const link = document.createElement("a");
        const why = document.createElement("span");
        li.dataset.id = item.id;
        li.className = "unread";
        link.href = item.link;
        link.textContent = item.text;
        why.className = "why";
        why.textContent = item.reason_text;
        li.append(link, why);
        list.prepend(li);
      }
    });
  }

  socket.on("notification", (notification) => {
    seen(notification);
    refreshCount().catch(console.warn);
    extendList().catch(console.warn);
  });
  // The server renders the new state, in the reader's language, with its forms' tokens.
  function refreshParts(payload) {
    const room = "help-request:" + payload.help_request_id;
    const parts = document.querySelectorAll(`[data-refresh-for="${CSS.escape(room)}"][id]`);
    if (!payload.help_request_id || !parts.length) return Promise.resolve();
    return fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(location.href + ": " + r.status))))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        for (const part of parts) {
          const replacement = fresh.getElementById(part.id);
          if (replacement) part.replaceWith(document.importNode(replacement, true));
        }
      });
  }

  socket.on("activity", (payload) => {
    tell("activity", payload);
    refreshParts(payload).catch(console.warn);
  });
})();

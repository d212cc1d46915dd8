// The sandbox page: renders the bot's Block Kit as a person sees it in Slack, and acts as
// Slack (commands, clicks, Home), the upload pipeline (announce) and TikTok (answers, status).
"use strict";

const $ = (sel) => document.querySelector(sel);
let state = null;
let view = { kind: "channel", id: "C0LAUNCH" };

async function api(path, body) {
  const resp = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return resp.json();
}

function me() { return $("#person").value; }
function nameOf(userId) {
  const p = state && state.people.find((x) => x.user_id === userId);
  return p ? p.name : userId;
}

// --- mrkdwn: the bot escapes &, <, >; everything else in <…> is a Slack construct ---------
function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
function decodeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
function inline(text) {
  let html = escapeHtml(decodeSlack(text));
  const codes = [];
  html = html.replace(/`([^`]*)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  html = html.replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>");
  html = html.replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>");
  html = html.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
  return html;
}
function construct(inner) {
  if (inner.startsWith("@")) {
    const id = inner.slice(1).split("|")[0];
    return `<span class="mention">@${escapeHtml(nameOf(id))}</span>`;
  }
  if (inner.startsWith("!date^")) {
    const [main, fallback] = inner.split("|");
    const epoch = Number(main.split("^")[1]);
    const when = Number.isFinite(epoch) ? new Date(epoch * 1000).toLocaleString() : fallback;
    return `<time>${escapeHtml(when || "")}</time>`;
  }
  if (inner.startsWith("!")) return `<span class="mention">@${escapeHtml(inner.slice(1))}</span>`;
  const [url, label] = inner.split("|");
  if (/^https?:\/\//.test(url)) {
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(label || url)}</a>`;
  }
  return escapeHtml(inner);
}
function mrkdwn(text) {
  const parts = [];
  let last = 0;
  for (const m of (text || "").matchAll(/<([^<>]+)>/g)) {
    parts.push(inline(text.slice(last, m.index)));
    parts.push(construct(m[1]));
    last = m.index + m[0].length;
  }
  parts.push(inline((text || "").slice(last)));
  return parts.join("").replace(/\n/g, "<br>");
}
function textObject(obj) {
  if (!obj) return "";
  return obj.type === "plain_text" ? escapeHtml(obj.text) : mrkdwn(obj.text);
}

// --- Block Kit -------------------------------------------------------------------------------
function button(el, ctx) {
  const b = document.createElement(el.url ? "a" : "button");
  b.className = "btn" + (el.style ? " " + el.style : "");
  b.textContent = el.text.text;
  b.dataset.actionId = el.action_id || "";
  if (el.url) {
    b.href = el.url;
    b.target = "_blank";
    b.rel = "noopener";
    b.addEventListener("click", () => setTimeout(refresh, 1500));
  } else {
    b.type = "button";
    b.addEventListener("click", () => press(el, ctx));
  }
  return b;
}
async function press(el, ctx) {
  if (el.confirm) {
    const ok = await confirmDialog(el.confirm);
    if (!ok) return;
  }
  await api("/api/click", {
    user: me(), action_id: el.action_id, value: el.value || "",
    channel: ctx.channel, message_ts: ctx.ts, where: ctx.where,
  });
  setTimeout(refresh, 300);
}
function confirmDialog(confirm) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = confirm.title.text;
  $("#confirm-text").innerHTML = textObject(confirm.text);
  $("#confirm-ok").textContent = confirm.confirm.text;
  $("#confirm-deny").textContent = confirm.deny.text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}
function renderBlocks(blocks, ctx) {
  const box = document.createElement("div");
  box.className = "blocks";
  for (const block of blocks || []) {
    const div = document.createElement("div");
    div.className = "block " + block.type;
    if (block.type === "section") {
      const text = document.createElement("div");
      text.className = "text";
      text.innerHTML = textObject(block.text);
      div.appendChild(text);
      if (block.fields) {
        const fields = document.createElement("div");
        fields.className = "fields";
        fields.innerHTML = block.fields.map((f) => `<div>${textObject(f)}</div>`).join("");
        div.appendChild(fields);
      }
      if (block.accessory && block.accessory.type === "button") {
        div.appendChild(button(block.accessory, ctx));
      }
    } else if (block.type === "context") {
      div.innerHTML = (block.elements || []).map((e) => textObject(e)).join(" ");
    } else if (block.type === "actions") {
      for (const el of block.elements || []) if (el.type === "button") div.appendChild(button(el, ctx));
    } else if (block.type === "header") {
      div.innerHTML = `<h3>${textObject(block.text)}</h3>`;
    } else if (block.type === "divider") {
      div.innerHTML = "<hr>";
    }
    box.appendChild(div);
  }
  return box;
}
function renderMessage(msg, ctx, label) {
  const div = document.createElement("article");
  div.className = "message" + (label ? " ephemeral" : "");
  div.dataset.ts = msg.ts || "";
  const head = document.createElement("header");
  head.innerHTML = `<b>tiktok-cancel</b> <span class="app">APP</span>` +
    (label ? ` <span class="only-you">${label}</span>` : "");
  div.appendChild(head);
  if (msg.blocks && msg.blocks.length) div.appendChild(renderBlocks(msg.blocks, ctx));
  else div.insertAdjacentHTML("beforeend", `<div class="text">${mrkdwn(msg.text)}</div>`);
  if (msg.replies && msg.replies.length) {
    const thread = document.createElement("div");
    thread.className = "thread";
    thread.insertAdjacentHTML("beforeend", `<div class="thread-head">${msg.replies.length} repl${msg.replies.length === 1 ? "y" : "ies"}</div>`);
    for (const reply of msg.replies) thread.appendChild(renderMessage(reply, { ...ctx, ts: reply.ts }));
    div.appendChild(thread);
  }
  return div;
}

// --- the views -------------------------------------------------------------------------------
function render() {
  if (!state) return;
  const channels = $("#channels");
  channels.innerHTML = "";
  for (const c of state.channels) {
    const li = document.createElement("li");
    li.innerHTML = `<a href="#" data-channel="${c.id}"># ${escapeHtml(c.name)}</a>`;
    if (view.kind === "channel" && view.id === c.id) li.className = "active";
    channels.appendChild(li);
  }
  const box = $("#messages");
  box.innerHTML = "";
  $("#composer").hidden = view.kind === "home";
  if (view.kind === "channel") {
    const channel = state.channels.find((c) => c.id === view.id);
    $("#title").textContent = "# " + channel.name;
    for (const msg of channel.messages) box.appendChild(renderMessage(msg, { channel: channel.id, ts: msg.ts, where: "message" }));
  } else if (view.kind === "dm") {
    $("#title").textContent = "tiktok-cancel \u2014 messages";
    for (const msg of state.dms[me()] || []) box.appendChild(renderMessage(msg, { channel: "D" + me(), ts: msg.ts, where: "message" }));
  } else {
    $("#title").textContent = "tiktok-cancel \u2014 Home";
    const home = state.homes[me()];
    if (home) box.appendChild(renderBlocks(home.blocks, { channel: "", ts: "", where: "home" }));
    else box.insertAdjacentHTML("beforeend", '<p class="hint">Opening the Home tab\u2026</p>');
  }
  if (view.kind !== "home") {
    for (const msg of state.ephemeral[me()] || []) {
      box.appendChild(renderMessage(msg, { channel: view.id, ts: "", where: "message" }, "Only visible to you"));
    }
  }
  const uploads = $("#uploads");
  uploads.innerHTML = "";
  for (const u of state.uploads) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><code>${escapeHtml(u.publish_id)}</code><br><small>${escapeHtml(u.status)} ${escapeHtml(u.fail_reason)}</small></td>`;
    const td = document.createElement("td");
    const reason = document.createElement("select");
    for (const r of state.fail_reasons) reason.add(new Option(r, r));
    for (const [label, status] of [["Complete", "PUBLISH_COMPLETE"], ["Inbox", "SEND_TO_USER_INBOX"], ["Fail", "FAILED"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", async () => {
        await api("/api/tiktok/status", { publish_id: u.publish_id, status, fail_reason: status === "FAILED" ? reason.value : "" });
        setTimeout(refresh, 300);
      });
      td.appendChild(b);
    }
    td.appendChild(reason);
    tr.appendChild(td);
    uploads.appendChild(tr);
  }
}

async function refresh() {
  state = await api("/api/state");
  const select = $("#person");
  if (!select.options.length) {
    for (const p of state.people) select.add(new Option(`${p.name}${p.admin ? " (admin)" : ""}`, p.user_id));
    const answers = $("#next-answer");
    for (const a of state.answers) answers.add(new Option(a, a));
  }
  render();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-channel], a[data-view]");
  if (!a) return;
  event.preventDefault();
  if (a.dataset.channel) view = { kind: "channel", id: a.dataset.channel };
  else view = { kind: a.dataset.view, id: "" };
  if (view.kind === "home") api("/api/home", { user: me() }).then(() => setTimeout(refresh, 300));
  render();
});
$("#person").addEventListener("change", () => {
  if (view.kind === "home") api("/api/home", { user: me() });
  setTimeout(refresh, 300);
});
$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const raw = $("#command").value.trim();
  const text = raw.replace(/^\/tiktok-cancel\s*/, "");
  const channel = view.kind === "channel" ? view.id : "C0LAUNCH";
  await api("/api/command", { user: me(), text, channel });
  $("#command").value = "/tiktok-cancel ";
  setTimeout(refresh, 300);
});
$("#announce").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const video = {};
  for (const k of ["format", "codec"]) if (form.get(k)) video[k] = form.get(k);
  for (const k of ["fps", "width", "height", "duration_s", "size_bytes"]) {
    if (form.get(k)) video[k] = Number(form.get(k));
  }
  const body = {
    publish_id: form.get("publish_id"), title: form.get("title"), account: form.get("account"),
    source_url: form.get("source_url"), channel: "C0LAUNCH", video,
  };
  const result = await api("/api/announce", body);
  $("#announce-result").textContent = `HTTP ${result.status} ${JSON.stringify(result.body)}`;
  const next = form.get("publish_id").replace(/(\d+)$/, (d) => String(Number(d) + 1));
  event.target.elements.publish_id.value = next;
  setTimeout(refresh, 300);
});
$("#script-next").addEventListener("click", async () => {
  const answer = $("#next-answer").value;
  await api("/api/tiktok/next", { answer });
  $("#script-result").textContent = `The next cancel will get: ${answer}`;
});

refresh();
setInterval(refresh, 1500);

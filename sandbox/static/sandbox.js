// The sandbox page: renders the bot's Block Kit as a person sees it in Slack, and acts as
// Slack (commands, clicks, Home), the upload pipeline (announce, hold) and TikTok (answers,
// status). A date token's {ago} ("in 25 seconds") is kept current.
//
// The page re-renders from /api/state every second, in place: a message, a Home tab or an
// upload row that did not change is kept, and one that did is replaced only when the person
// is not pointing at or pressing something in it (see `busy`), so a click is never lost.
//
// A modal the bot opened for the person acting (views.open, as the Slack stand-in recorded it)
// shows in #modal, built from that view; its submit button sends the inputs to /api/view.
//
// Workspaces: the page shows one workspace at a time (#workspace, those with the app), and
// every call names it (`team`): the state is that workspace's, the person acts in it, the
// pipeline forms send its pipeline token. Add to Slack installs the next one (the sandbox makes
// the browser's round trip through the bot's /slack/install) and switches to it; Uninstall
// removes the app from the one shown (never the first), which stays shown until the person
// switches away: its history is still there, and the bot no longer answers in it.
//
// Safety: text from messages and modals only ever reaches the DOM through escapeHtml()
// (mrkdwn() escapes everything it does not itself turn into markup) or through textContent;
// a URL only as an attribute, and only an http(s) one.
"use strict";

const $ = (sel) => document.querySelector(sel);
const CHANNEL = "C0LAUNCH";
let state = null;
let team = ""; // the workspace shown ("" until the first state names the first one)
let view = { kind: "channel", id: CHANNEL };
let rendered = { messages: "", uploads: "", nav: "", options: "", armed: {} };
const seenDms = {};

// --- what the person is pointing at or pressing ----------------------------------------------
let pointed = null; // the element under the pointer (the last pointerover's target)
let pressed = null; // the element a pointer button went down on, until it comes up
let deferred = false; // an update waits for the pointer to leave (or the press to end)
document.addEventListener("pointerover", (event) => { pointed = event.target; rerender(); }, true);
document.addEventListener("pointerdown", (event) => { pressed = event.target; }, true);
for (const type of ["pointerup", "pointercancel"]) {
  // The click (same task as pointerup) is dispatched before the re-render this schedules.
  document.addEventListener(type, () => { pressed = null; rerender(); }, true);
}
document.documentElement.addEventListener("pointerleave", () => { pointed = null; rerender(); });
const CLICKABLE = "button, a, select, input, textarea, label, summary, tr[data-publish-id]";
// A node must not be replaced now: the person presses something in it, or points at
// something in it that takes a click.
function busy(node) {
  if (pressed && node.contains(pressed)) return true;
  const target = pointed && pointed.closest ? pointed.closest(CLICKABLE) : null;
  return Boolean(target && node.contains(target));
}
function rerender() {
  if (!deferred) return;
  deferred = false;
  setTimeout(() => render(false), 0);
}
// Make `box`'s children the `items` ({id, key, build}) in order, reusing the node of an item
// whose key did not change. A changed or removed node that is `busy` is left as it is, and
// `deferred` is set so that it is done once the pointer has moved on. True if all was done.
function patchChildren(box, items) {
  const old = new Map();
  for (const node of box.children) old.set(node.dataset.renderId, node);
  const ids = new Set(items.map((item) => item.id));
  for (const [id, node] of old) {
    if (!ids.has(id) && busy(node)) { deferred = true; return false; }
  }
  let complete = true;
  const nodes = items.map((item) => {
    const node = old.get(item.id);
    if (node && node.dataset.renderKey === item.key) return node;
    if (node && busy(node)) { complete = false; return node; }
    const fresh = item.build();
    fresh.dataset.renderId = item.id;
    fresh.dataset.renderKey = item.key;
    if (node) node.replaceWith(fresh);
    return fresh;
  });
  for (const [id, node] of old) if (!ids.has(id)) node.remove();
  // Only new nodes are inserted; the ones kept stay where they are (moving one would lose
  // a press on it).
  let cursor = box.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) { cursor = cursor.nextElementSibling; continue; }
    box.insertBefore(node, cursor);
  }
  if (!complete) deferred = true;
  return complete;
}

async function api(path, body) {
  const init = body === undefined ? { cache: "no-store" } : {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(team ? { team, ...body } : body),
  };
  const url = body === undefined && team ? `${path}?team=${encodeURIComponent(team)}` : path;
  const resp = await fetch(url, init);
  let data = null;
  try { data = await resp.json(); } catch (_) { data = { error: `HTTP ${resp.status}` }; }
  if (!resp.ok && !data.error) data.error = `HTTP ${resp.status}`;
  return data;
}

function me() { return $("#person").value; }
function person(userId) { return state && state.people.find((p) => p.user_id === userId); }
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- mrkdwn ----------------------------------------------------------------------------------
// The bot escapes &, < and > in everything it echoes; what is left inside <…> is a Slack
// construct (mention, date, link). Everything else is escaped here before any markup is added.
const EMOJI = {
  warning: "\u26a0\ufe0f", no_entry_sign: "\ud83d\udeab", white_check_mark: "\u2705",
  x: "\u274c", hourglass: "\u231b", hourglass_flowing_sand: "\u23f3", link: "\ud83d\udd17",
  tada: "\ud83c\udf89", information_source: "\u2139\ufe0f", lock: "\ud83d\udd12",
  bust_in_silhouette: "\ud83d\udc64", busts_in_silhouette: "\ud83d\udc65", inbox_tray: "\ud83d\udce5",
  heavy_check_mark: "\u2714\ufe0f", stopwatch: "\u23f1\ufe0f", question: "\u2753",
  rotating_light: "\ud83d\udea8", red_circle: "\ud83d\udd34", large_green_circle: "\ud83d\udfe2",
  clapper: "\ud83c\udfac", movie_camera: "\ud83c\udfa5", raised_hand: "\u270b",
  grey_question: "\u2754", double_vertical_bar: "\u23f8\ufe0f",
  ballot_box_with_check: "\u2611\ufe0f", no_entry: "\u26d4", arrow_forward: "\u25b6\ufe0f",
  point_right: "\ud83d\udc49",
};
function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
function decodeSlack(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
function emoji(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}
function inline(text) {
  let html = escapeHtml(decodeSlack(text));
  const codes = [];
  html = html.replace(/`([^`\n]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  html = html.replace(/(^|[^\w*])\*([^*\n]+?)\*(?![\w*])/g, "$1<b>$2</b>");
  html = html.replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, "$1<i>$2</i>");
  html = html.replace(/(^|[^\w~])~([^~\n]+?)~(?![\w~])/g, "$1<s>$2</s>");
  html = emoji(html);
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
}
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
// "in 25 seconds", "in 3 minutes", "2 hours ago": how far `epoch` is from now.
function fromNow(epoch) {
  const s = Math.round(epoch - Date.now() / 1000);
  const n = Math.abs(s);
  let amount;
  if (n < 1) return "now";
  if (n < 90) amount = `${n} second${n === 1 ? "" : "s"}`;
  else if (n < 90 * 60) { const m = Math.round(n / 60); amount = `${m} minute${m === 1 ? "" : "s"}`; }
  else { const h = Math.round(n / 3600); amount = `${h} hour${h === 1 ? "" : "s"}`; }
  return s > 0 ? `in ${amount}` : `${amount} ago`;
}
function tickCountdowns() {
  for (const node of document.querySelectorAll(".countdown[data-until]")) {
    node.textContent = fromNow(Number(node.dataset.until));
  }
}
function slackDate(epoch, format) {
  const d = new Date(epoch * 1000);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  const same = (a, b) => a.toDateString() === b.toDateString();
  const relative = same(d, today) ? "Today" : same(d, yesterday) ? "Yesterday" : "";
  const month = MONTHS[d.getMonth()];
  const date = `${month} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
  const short = `${month.slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
  const long = `${DAYS[d.getDay()]}, ${date}`;
  const hours = d.getHours() % 12 || 12, ampm = d.getHours() < 12 ? "AM" : "PM";
  const mm = String(d.getMinutes()).padStart(2, "0"), ss = String(d.getSeconds()).padStart(2, "0");
  const tokens = {
    date_num: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`,
    date, date_short: short, date_long: long,
    date_pretty: relative || date, date_short_pretty: relative || short,
    date_long_pretty: relative || long,
    time: `${hours}:${mm} ${ampm}`, time_secs: `${hours}:${mm}:${ss} ${ampm}`,
  };
  return format.replace(/\{(\w+)\}/g, (whole, name) => tokens[name] || whole);
}
function construct(inner) {
  const [main, ...rest] = inner.split("|");
  const label = decodeSlack(rest.join("|"));
  if (main.startsWith("@")) {
    const p = person(main.slice(1));
    return `<span class="mention">@${escapeHtml(p ? p.name : label || main.slice(1))}</span>`;
  }
  if (main.startsWith("#")) {
    const c = state && state.channels.find((x) => x.id === main.slice(1));
    return `<span class="mention">#${escapeHtml(c ? c.name : label || main.slice(1))}</span>`;
  }
  if (main.startsWith("!date^")) {
    const [, epoch, format] = main.split("^");
    const at = Number(epoch);
    if (!Number.isFinite(at) || !format) return `<time>${escapeHtml(label)}</time>`;
    // {ago} ("in 25 seconds", "3 minutes ago") is kept current as the page ticks, as Slack does.
    const parts = format.split("{ago}").map((piece) => escapeHtml(slackDate(at, piece)));
    const ago = `<span class="countdown" data-until="${at}">${escapeHtml(fromNow(at))}</span>`;
    return `<time title="${escapeHtml(label)}">${parts.join(ago)}</time>`;
  }
  if (main.startsWith("!subteam^")) {
    const group = state && state.usergroups.find((g) => g.id === main.slice(9));
    const handle = (label || (group ? group.handle : "group")).replace(/^@/, "");
    return `<span class="mention">@${escapeHtml(handle)}</span>`;
  }
  if (main.startsWith("!")) return `<span class="mention">@${escapeHtml(main.slice(1))}</span>`;
  const url = decodeSlack(main);
  if (/^https?:\/\//i.test(url)) {
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label || url)}</a>`;
  }
  return escapeHtml(label || url);
}
function mrkdwn(text) {
  // Constructs stand in as placeholders while the rest is formatted, so *bold* around a date
  // or a mention stays bold.
  const constructs = [];
  const marked = String(text || "").replace(/\u0001/g, "").replace(/<([^<>\n]+)>/g, (_, inner) => {
    constructs.push(construct(inner));
    return `\u0001${constructs.length - 1}\u0001`;
  });
  return inline(marked).replace(/\u0001(\d+)\u0001/g, (_, i) => constructs[Number(i)])
    .replace(/\n/g, "<br>");
}
function textObject(obj) {
  if (!obj) return "";
  if (obj.type === "plain_text") {
    const html = escapeHtml(obj.text || "");
    return obj.emoji === false ? html : emoji(html);
  }
  return mrkdwn(obj.text);
}
function setText(node, obj) { node.innerHTML = textObject(obj); return node; }

// --- Block Kit -------------------------------------------------------------------------------
function button(spec, ctx) {
  const label = spec.text ? spec.text.text : "";
  const safeUrl = spec.url && /^https?:\/\//i.test(spec.url);
  const b = el(safeUrl ? "a" : "button", "btn" + (spec.style ? " " + spec.style : ""), label);
  b.dataset.actionId = spec.action_id || "";
  if (safeUrl) {
    b.href = spec.url;
    b.target = "_blank";
    b.rel = "noopener";
    // Slack tells the app about a link button's click too; the bot only acknowledges it.
    if (ctx.where !== "modal") b.addEventListener("click", () => { api("/api/click", clickBody(spec, ctx)); });
  } else if (ctx.where === "modal") {
    b.type = "button"; // a button in a modal that is not a link: the bot's modals have none
    b.disabled = true;
  } else {
    b.type = "button";
    b.addEventListener("click", () => press(spec, ctx, b));
  }
  return b;
}
function clickBody(spec, ctx) {
  return {
    user: me(), action_id: spec.action_id || "", value: spec.value || "",
    channel: ctx.channel, message_ts: ctx.ts, where: ctx.where,
  };
}
async function press(spec, ctx, node) {
  if (spec.confirm && !(await confirmDialog(spec.confirm))) return;
  node.disabled = true;
  node.classList.add("busy");
  try {
    const result = await api("/api/click", clickBody(spec, ctx));
    if (result.error) flash(`The click failed: ${result.error}`);
  } finally {
    node.disabled = false;
    node.classList.remove("busy");
  }
  await refresh();
}
function confirmDialog(confirm) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = confirm.title ? confirm.title.text : "Are you sure?";
  setText($("#confirm-text"), confirm.text);
  $("#confirm-ok").textContent = confirm.confirm ? confirm.confirm.text : "Yes";
  $("#confirm-deny").textContent = confirm.deny ? confirm.deny.text : "Cancel";
  $("#confirm-ok").className = confirm.style === "primary" ? "primary" : "danger";
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}
// An image block or element: an <img> where `ctx.images` (a modal), else its alt text.
// Only an https image is loaded; one that does not load shows its alt text.
function image(spec, ctx, className) {
  const alt = String(spec.alt_text || "");
  const url = String(spec.image_url || "");
  if (!ctx.images || !/^https:\/\//i.test(url)) return el("span", "image-alt", `[image: ${alt}]`);
  const img = el("img", className);
  img.alt = alt;
  img.referrerPolicy = "no-referrer";
  img.addEventListener("error", () => img.replaceWith(el("span", "image-alt", `[image: ${alt}]`)), { once: true });
  img.src = url;
  return img;
}
function renderBlocks(blocks, ctx) {
  const box = el("div", "blocks");
  for (const block of blocks || []) {
    const div = el("div", "block " + block.type);
    if (block.type === "section") {
      const body = el("div", "body");
      if (block.text) body.appendChild(setText(el("div", "text"), block.text));
      if (block.fields) {
        const fields = el("div", "fields");
        for (const f of block.fields) fields.appendChild(setText(el("div", "field"), f));
        body.appendChild(fields);
      }
      div.appendChild(body);
      if (block.accessory && block.accessory.type === "button") div.appendChild(button(block.accessory, ctx));
      if (block.accessory && block.accessory.type === "image" && ctx.images) {
        div.appendChild(image(block.accessory, ctx, "accessory"));
      }
    } else if (block.type === "context") {
      for (const e of block.elements || []) {
        if (e.type === "image") div.appendChild(ctx.images ? image(e, ctx, "icon") : el("span", "image-alt", e.alt_text || ""));
        else div.appendChild(setText(el("span"), e));
      }
    } else if (block.type === "actions") {
      for (const e of block.elements || []) if (e.type === "button") div.appendChild(button(e, ctx));
    } else if (block.type === "header") {
      div.appendChild(setText(el("h3"), block.text));
    } else if (block.type === "divider") {
      div.appendChild(el("hr"));
    } else if (block.type === "image") {
      div.appendChild(image(block, ctx, "picture"));
    } else if (block.type === "input") {
      div.appendChild(inputBlock(block));
    } else {
      div.appendChild(el("span", "hint", `[${block.type} block]`));
    }
    box.appendChild(div);
  }
  return box;
}
function renderMessage(msg, ctx, ephemeral) {
  const art = el("article", "message" + (ephemeral ? " ephemeral" : ""));
  art.dataset.ts = msg.ts || "";
  const head = el("header");
  head.appendChild(el("span", "avatar", "tc"));
  head.appendChild(el("b", "", "tiktok-cancel"));
  head.appendChild(el("span", "app", "APP"));
  if (ephemeral) head.appendChild(el("span", "only-you", "Only visible to you"));
  art.appendChild(head);
  if (msg.blocks && msg.blocks.length) art.appendChild(renderBlocks(msg.blocks, ctx));
  else art.appendChild(el("div", "text")).innerHTML = mrkdwn(msg.text);
  if (msg.replies && msg.replies.length) {
    const thread = el("div", "thread");
    const n = msg.replies.length;
    thread.appendChild(el("div", "thread-head", `${n} ${n === 1 ? "reply" : "replies"}`));
    for (const reply of msg.replies) thread.appendChild(renderMessage(reply, { ...ctx, ts: reply.ts }, false));
    art.appendChild(thread);
  }
  return art;
}

// --- a modal's inputs ------------------------------------------------------------------------
// Each input block is a .input with its block_id and element type; inputValues() reads them
// back as /api/view takes them (a text, an option value or null, a list of option values).
let inputSeq = 0;
function optionText(option) {
  return option && option.text ? String(option.text.text || "") : "";
}
function inputBlock(block) {
  const e = block.element || {};
  const wrap = el("div", "input");
  wrap.dataset.blockId = String(block.block_id || "");
  wrap.dataset.kind = String(e.type || "");
  const id = `modal-input-${++inputSeq}`;
  const label = setText(el("label", "input-label"), block.label);
  if (block.optional) label.appendChild(el("span", "optional", " (optional)"));
  wrap.appendChild(label);
  let control = null;
  if (e.type === "plain_text_input") {
    control = el(e.multiline ? "textarea" : "input", "control");
    if (!e.multiline) control.type = "text";
    control.value = String(e.initial_value || "");
    if (e.placeholder) control.placeholder = String(e.placeholder.text || "");
    if (e.multiline) control.rows = 4;
  } else if (e.type === "static_select") {
    control = el("select", "control");
    // No option is chosen unless the view says which (initial_option): the placeholder shows.
    const none = new Option(e.placeholder ? String(e.placeholder.text || "") : "Select an option", "");
    none.disabled = true;
    control.add(none);
    const groups = e.option_groups ? e.option_groups : [{ options: e.options || [] }];
    for (const group of groups) {
      let parent = control;
      if (group.label) {
        parent = document.createElement("optgroup");
        parent.label = String(group.label.text || "");
        control.appendChild(parent);
      }
      for (const o of group.options || []) parent.appendChild(new Option(optionText(o), String(o.value)));
    }
    control.value = e.initial_option ? String(e.initial_option.value) : "";
    if (control.selectedIndex < 0) control.value = "";
  } else if (e.type === "checkboxes" || e.type === "radio_buttons") {
    control = el("div", "choices");
    const kind = e.type === "checkboxes" ? "checkbox" : "radio";
    const initial = e.type === "checkboxes" ? (e.initial_options || []) : (e.initial_option ? [e.initial_option] : []);
    const chosen = new Set(initial.map((o) => String(o.value)));
    for (const o of e.options || []) {
      const choice = el("label", "choice");
      const box = el("input");
      box.type = kind;
      box.name = id;
      box.value = String(o.value);
      box.checked = chosen.has(box.value);
      choice.appendChild(box);
      const words = el("span", "choice-text");
      words.appendChild(setText(el("span"), o.text));
      if (o.description) words.appendChild(setText(el("span", "choice-about"), o.description));
      choice.appendChild(words);
      control.appendChild(choice);
    }
  } else {
    wrap.appendChild(el("span", "hint", `[${e.type || "unknown"} input: not shown in the sandbox]`));
  }
  if (control) {
    control.id = id;
    if (control.tagName !== "DIV") label.htmlFor = id;
    wrap.appendChild(control);
  }
  if (block.hint) wrap.appendChild(setText(el("div", "input-hint"), block.hint));
  const error = el("div", "input-error");
  error.hidden = true;
  wrap.appendChild(error);
  return wrap;
}
function inputValues(box) {
  const values = {};
  for (const wrap of box.querySelectorAll(".input[data-block-id]")) {
    const kind = wrap.dataset.kind;
    const id = wrap.dataset.blockId;
    if (kind === "plain_text_input") values[id] = wrap.querySelector(".control").value;
    else if (kind === "static_select") values[id] = wrap.querySelector(".control").value || null;
    else if (kind === "checkboxes") {
      values[id] = [...wrap.querySelectorAll("input:checked")].map((x) => x.value);
    } else if (kind === "radio_buttons") {
      const on = wrap.querySelector("input:checked");
      values[id] = on ? on.value : null;
    }
  }
  return values;
}

// --- the modal the person acting has open ----------------------------------------------------
// Built once per view (its id and hash: an update rebuilds it), so what the person typed stays
// while the page refreshes; the errors shown in it come from the state on every refresh.
let modalKey = "";
const dismissed = new Set(); // views closed here: a state fetched before that may still show one
function renderModal() {
  const dialog = $("#modal");
  let open = state.modals ? state.modals[me()] : null;
  if (open && dismissed.has(open.view.id)) open = null;
  if (!open) {
    modalKey = "";
    if (dialog.open) dialog.close();
    return;
  }
  const view = open.view;
  const key = JSON.stringify([me(), view.id, view.hash]);
  if (key !== modalKey) {
    modalKey = key;
    buildModal(view);
  }
  showModalErrors(open.errors || {});
  if (!dialog.open) dialog.showModal();
}
function buildModal(view) {
  const dialog = $("#modal");
  dialog.dataset.viewId = String(view.id);
  dialog.dataset.callbackId = String(view.callback_id || "");
  setText($("#modal-title"), view.title || { type: "plain_text", text: "" });
  const ctx = { channel: "", ts: "", where: "modal", images: true };
  $("#modal-body").replaceChildren(renderBlocks(view.blocks, ctx));
  $("#modal-errors").replaceChildren();
  const submit = $("#modal-submit");
  submit.hidden = !view.submit;
  submit.disabled = false;
  submit.textContent = view.submit ? String(view.submit.text || "") : "";
  $("#modal-close").textContent = view.close ? String(view.close.text || "") : "Cancel";
}
// Each error next to its input; one for no input of this modal, under them all.
function showModalErrors(errors) {
  const shown = new Set();
  for (const wrap of $("#modal-body").querySelectorAll(".input[data-block-id]")) {
    const words = errors[wrap.dataset.blockId];
    const error = wrap.querySelector(".input-error");
    error.textContent = words || "";
    error.hidden = !words;
    wrap.classList.toggle("has-error", Boolean(words));
    if (words) shown.add(wrap.dataset.blockId);
  }
  const rest = Object.entries(errors).filter(([id]) => !shown.has(id));
  const key = JSON.stringify(rest);
  const box = $("#modal-errors");
  if (box.dataset.errors === key) return;
  box.dataset.errors = key;
  box.replaceChildren(...rest.map(([id, words]) => el("div", "", `${id}: ${words}`)));
}
function modalProblem(text) {
  const box = $("#modal-errors");
  box.dataset.errors = "";
  box.replaceChildren(el("div", "", text));
}
$("#modal-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const dialog = $("#modal");
  const submit = $("#modal-submit");
  submit.disabled = true;
  try {
    const result = await api("/api/view", {
      user: me(), view_id: dialog.dataset.viewId, values: inputValues($("#modal-body")),
    });
    if (result.error) modalProblem(`Not sent: ${result.error}`);
    else {
      showModalErrors(result.errors || {});
      if (result.sent && result.status !== 200) modalProblem(`The bot answered HTTP ${result.status}.`);
      if (result.closed) { dismissed.add(dialog.dataset.viewId); modalKey = ""; dialog.close(); }
    }
  } finally {
    submit.disabled = false;
  }
  await refresh(false, true);
});
async function closeModal() {
  const dialog = $("#modal");
  const viewId = dialog.dataset.viewId;
  dismissed.add(viewId);
  modalKey = "";
  dialog.close();
  await api("/api/view/close", { user: me(), view_id: viewId });
  await refresh(false, true);
}
$("#modal-close").addEventListener("click", closeModal);
$("#modal").addEventListener("cancel", (event) => { event.preventDefault(); closeModal(); });

// --- the views -------------------------------------------------------------------------------
function currentItems() {
  if (view.kind === "home") return { home: state.homes[me()] || null };
  const channelId = view.kind === "dm" ? "D" + me() : view.id;
  const messages = view.kind === "dm" ? state.dms[me()] || []
    : (state.channels.find((c) => c.id === view.id) || { messages: [] }).messages;
  const ephemeral = (state.ephemeral[me()] || []).filter((e) => e.channel === channelId);
  return { channelId, messages, ephemeral };
}
function renderNav() {
  const channels = $("#channels");
  const names = JSON.stringify(state.channels.map((c) => [c.id, c.name]));
  if (names !== rendered.nav) {
    rendered.nav = names;
    channels.replaceChildren();
    for (const c of state.channels) {
      const li = el("li");
      const a = el("a", "", "# " + c.name);
      a.href = "#";
      a.dataset.channel = c.id;
      li.appendChild(a);
      channels.appendChild(li);
    }
  }
  for (const a of channels.querySelectorAll("a[data-channel]")) {
    a.parentElement.className = view.kind === "channel" && view.id === a.dataset.channel ? "active" : "";
  }
  $("#li-home").className = view.kind === "home" ? "active" : "";
  $("#li-dm").className = view.kind === "dm" ? "active" : "";
  const dms = (state.dms[me()] || []).length;
  const seen = `${team}|${me()}`;
  if (view.kind === "dm") seenDms[seen] = dms;
  const unseen = dms - (seenDms[seen] || 0);
  $("#dm-badge").hidden = unseen <= 0;
  $("#dm-badge").textContent = String(unseen);
}
function renderMessages(force) {
  const items = currentItems();
  const key = JSON.stringify([team, view, me(), items]);
  if (!force && key === rendered.messages) return;
  const box = $("#messages");
  const atBottom = force || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  $("#composer").hidden = view.kind === "home";
  const where = `${team}:${view.kind}:${view.id}:${me()}`;
  let units;
  if (view.kind === "home") {
    $("#title").textContent = "tiktok-cancel \u00b7 Home";
    // The Home is one unit: it is re-rendered whole, when no one points into it.
    units = [{
      id: `${where}:home`,
      key: JSON.stringify(items.home),
      build: () => {
        if (!items.home) return el("p", "hint", "Opening the Home tab\u2026");
        const home = el("div", "home");
        home.appendChild(renderBlocks(items.home.blocks, { channel: "", ts: "", where: "home" }));
        return home;
      },
    }];
  } else {
    $("#title").textContent = view.kind === "dm" ? "tiktok-cancel \u00b7 Messages"
      : "# " + ((state.channels.find((c) => c.id === view.id) || {}).name || view.id);
    const all = [
      ...items.messages.map((m, i) => ({ m, seq: m.seq, n: i, eph: false })),
      ...items.ephemeral.map((m, i) => ({ m, seq: m.seq, n: i, eph: true })),
    ].sort((a, b) => a.seq - b.seq || a.n - b.n);
    units = all.map(({ m, eph }) => {
      const ctx = { channel: items.channelId, ts: eph ? "" : m.ts, where: "message" };
      return {
        id: `${where}:${eph ? "e:" + m.id : "m:" + m.ts}`,
        key: JSON.stringify(m),
        build: () => renderMessage(m, ctx, eph),
      };
    });
    if (!all.length) {
      const text = view.kind === "dm" ? "The bot writes here when a link is made."
        : "Nothing here yet. Type a command below, or announce an upload on the right.";
      units = [{ id: `${where}:empty`, key: text, build: () => el("p", "hint empty", text) }];
    }
  }
  // Until every unit is as the state says, the next tick tries again.
  rendered.messages = patchChildren(box, units) ? key : "";
  if (atBottom) box.scrollTop = box.scrollHeight;
}
// `text` in a `tag` that may wrap only after the characters in `after` (a publish_id such
// as v_pub_url~v2.123456789 after its ~ and dots, a code after its underscores), never
// inside a part; a part too long for its cell scrolls (see .uploads td).
function wrapsAt(tag, className, text, after) {
  const node = el(tag, className);
  String(text).split(after).forEach((part, i) => {
    if (i) node.appendChild(document.createElement("wbr"));
    node.appendChild(el("span", "part", part));
  });
  return node;
}
const ID_BREAKS = /(?<=[~.])/;
const CODE_BREAKS = /(?<=[_ ])/;
const TEXT_BREAKS = /(?<=[ ~])/;
function uploadRow(u) {
  const tr = el("tr");
  tr.dataset.publishId = u.publish_id;
  const id = el("td", "id");
  id.appendChild(wrapsAt("code", "", u.publish_id, ID_BREAKS));
  tr.appendChild(id);
  tr.appendChild(el("td", "", u.account));
  const at = el("td");
  const status = u.status + (u.fail_reason ? ` (${u.fail_reason})` : "");
  at.appendChild(wrapsAt("span", "status " + u.status.toLowerCase(), status, CODE_BREAKS));
  if (u.stopping) at.appendChild(el("div", "scripted", "cancel accepted: TikTok is stopping it"));
  if (u.next_answer) {
    at.appendChild(wrapsAt("div", "scripted", `next cancel: ${u.next_answer}`, CODE_BREAKS));
  }
  tr.appendChild(at);
  tr.addEventListener("click", () => { $("#upload").value = u.publish_id; updateMoves(); });
  return tr;
}
function renderUploadChoices() {
  const select = $("#upload");
  const ids = state.uploads.map((u) => u.publish_id);
  const key = JSON.stringify(ids);
  if (key === rendered.options) return;
  // Not while the person has the list open or is about to open it.
  if (document.activeElement === select || busy(select.parentElement)) { deferred = true; return; }
  const first = !rendered.options;
  const grew = !first && ids.length > JSON.parse(rendered.options).length;
  rendered.options = key;
  const chosen = select.value;
  select.replaceChildren(new Option("any upload", ""));
  for (const id of [...ids].reverse()) select.add(new Option(id, id));
  const newest = ids.length ? ids[ids.length - 1] : "";
  const known = chosen === "" || ids.includes(chosen);
  select.value = first || grew || !known ? newest : chosen;
  updateMoves();
}
// What TikTok's stand-in will answer its next calls, from the server: each scripted answer
// still waiting, or that nothing is armed. The answer pickers follow it: once a scripted
// answer is used, the picker for that call is back on the normal answer.
function renderArmed() {
  const box = $("#armed");
  const lines = state.armed.map((a) => {
    const what = a.call === "start" ? "next start (Direct Post init)"
      : `next cancel of ${a.publish_id || "any upload"}`;
    return `${what}: ${a.label}` + (a.in_use ? " \u2014 answering the cancel under way" : "");
  });
  const key = JSON.stringify(lines);
  if (key !== rendered.armedText) {
    rendered.armedText = key;
    box.replaceChildren(el("b", "", "Armed for TikTok's next calls"));
    box.classList.toggle("none", !lines.length);
    if (!lines.length) {
      box.appendChild(el("div", "", "Nothing armed: the next cancel and the next start get "
        + "TikTok's usual answer."));
    }
    for (const line of lines) box.appendChild(wrapsAt("div", "scripted", line, TEXT_BREAKS));
  }
  syncPicker("#next-answer", "cancel:" + $("#upload").value,
    (state.armed.find((a) => a.call === "cancel" && a.publish_id === $("#upload").value) || {}).answer);
  syncPicker("#next-init", "start", state.next_init);
}
// `selector` shows what is armed for `call` when that is first seen armed and whenever it
// changes (scripted, or used up: back to normal); it is left alone otherwise, so a choice
// not yet scripted stays as the person left it.
function syncPicker(selector, call, answer) {
  const value = answer || "normal";
  const seen = `${selector}|${call}`;
  const before = rendered.armed[seen];
  rendered.armed[seen] = value;
  if (before === undefined ? value !== "normal" : before !== value) $(selector).value = value;
}
function renderPanels() {
  $("#inits").textContent = `Direct Post inits TikTok has received: ${state.inits}.`;
  renderUploadChoices();
  renderArmed();
  const key = JSON.stringify([state.uploads, state.next_answer_any]);
  if (key === rendered.uploads) return;
  const rows = state.uploads.map((u) => ({
    id: u.publish_id, key: JSON.stringify(u), build: () => uploadRow(u),
  }));
  if (state.next_answer_any) {
    const text = `any upload, next cancel: ${state.next_answer_any}`;
    rows.push({
      id: "\u0000any", key: text,
      build: () => {
        const tr = el("tr");
        const td = el("td", "scripted", text);
        td.colSpan = 3;
        tr.appendChild(td);
        return tr;
      },
    });
  }
  rendered.uploads = patchChildren($("#uploads"), rows) ? key : "";
  updateMoves();
}
function updateMoves() {
  const none = !$("#upload").value;
  for (const b of document.querySelectorAll(".moves button")) b.disabled = none;
  for (const tr of document.querySelectorAll("#uploads tr")) {
    tr.classList.toggle("chosen", tr.dataset.publishId === $("#upload").value);
  }
}
// The switcher lists the workspaces that have the app; Add to Slack shows while one has not;
// Uninstall while the one shown is not the first.
function renderWorkspaces() {
  const select = $("#workspace");
  // (the one shown stays listed if another tab uninstalled it meanwhile)
  const listed = state.workspaces.filter((w) => w.installed || w.team_id === team);
  const key = JSON.stringify([listed, team]);
  if (key !== rendered.workspaces) {
    rendered.workspaces = key;
    select.replaceChildren(...listed.map((w) => new Option(
      w.installed ? w.name : `${w.name} (app uninstalled)`, w.team_id)));
    select.value = team;
    $("#workspace-name").textContent = (state.workspaces.find((w) => w.team_id === team) || {}).name || "";
  }
  const next = state.workspaces.find((w) => !w.installed);
  const add = $("#add-to-slack");
  add.hidden = !next;
  add.title = next ? `Install the app in ${next.name}, as its admin would` : "";
  $("#uninstall").hidden = !state.installed || team === state.workspaces[0].team_id;
}
function renderCurl() {
  const key = JSON.stringify([state.bot_url, state.pipeline_token]);
  if (key === rendered.curl) return;
  rendered.curl = key;
  const name = (state.workspaces.find((w) => w.team_id === team) || {}).name || team;
  $("#curl").textContent = [
    `(${name}'s pipeline token: the bot learns the workspace from it.)`,
    "",
    `curl -sS -X POST ${state.bot_url}/notifications \\`,
    `  -H "Authorization: Bearer ${state.pipeline_token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"publish_id": "v_pub_url~v2.2001", "channel": "${CHANNEL}", "title": "From curl"}'`,
    "",
    "(TikTok only knows uploads announced from this page; others answer invalid_publish_id.)",
    "",
    `curl -sS -X POST ${state.bot_url}/uploads \\`,
    `  -H "Authorization: Bearer ${state.pipeline_token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"upload_key": "from-curl-1", "channel": "${CHANNEL}", "account": "${state.team_account}",`,
    `       "source_url": "https://cdn.example.com/teaser.mp4", "hold_s": 60,`,
    `       "post": {"title": "From curl", "privacy_level": "SELF_ONLY"}}'`,
    "",
    `(A held upload needs the team account ${state.team_account}: the form's first hold links it.)`,
  ].join("\n");
}
function render(force) {
  if (!state || state.team !== team) return; // (a switch's new state is on its way)
  renderWorkspaces();
  renderCurl();
  renderNav();
  renderMessages(force);
  renderPanels();
  renderModal();
}
function setup() {
  const people = $("#person");
  for (const p of state.people) people.add(new Option(`${p.name}${p.admin ? " (admin)" : ""}`, p.user_id));
  const owner = $("#owner");
  owner.add(new Option("whoever is acting", ""));
  for (const a of state.accounts) owner.add(new Option(a.name, a.open_id));
  const names = { PROCESSING_DOWNLOAD: "downloading", PROCESSING_UPLOAD: "uploading" };
  for (const s of state.upload_states) $("#tiktok-status").add(new Option(names[s] || s, s));
  const answers = $("#next-answer");
  const groups = {};
  for (const a of state.answers) {
    let parent = answers;
    if (a.group) {
      if (!groups[a.group]) {
        groups[a.group] = document.createElement("optgroup");
        groups[a.group].label = a.group;
        answers.appendChild(groups[a.group]);
      }
      parent = groups[a.group];
    }
    parent.appendChild(new Option(a.label, a.value));
  }
  const inits = $("#next-init");
  const initGroups = {};
  for (const a of state.init_answers) {
    let parent = inits;
    if (a.group) {
      if (!initGroups[a.group]) {
        initGroups[a.group] = document.createElement("optgroup");
        initGroups[a.group].label = a.group;
        inits.appendChild(initGroups[a.group]);
      }
      parent = initGroups[a.group];
    }
    parent.appendChild(new Option(a.label, a.value));
  }
  const approvers = $("#approvers");
  const choices = [
    ...state.people.map((p) => ({ id: p.user_id, text: p.name, about: "" })),
    ...state.usergroups.map((g) => ({ id: g.id, text: `@${g.handle}`, about: g.members.join(", ") })),
  ];
  for (const c of choices) {
    const label = el("label", "check");
    const box = el("input");
    box.type = "checkbox";
    box.name = "approvers";
    box.value = c.id;
    box.checked = c.id === state.people[0].user_id;
    label.append(box, c.text);
    if (c.about) label.appendChild(el("span", "hint", `(${c.about})`));
    approvers.appendChild(label);
  }
  const sender = $("#submitted-by");
  sender.add(new Option("nobody (the pipeline)", ""));
  for (const p of state.people) sender.add(new Option(p.name, p.user_id));
  const last = state.people[state.people.length - 1];
  sender.value = last && last.user_id !== state.people[0].user_id ? last.user_id : "";
  for (const r of state.fail_reasons) $("#fail-reason").add(new Option(r, r));
  $("#fail-reason").value = state.fail_reasons.includes("file_format_check_failed")
    ? "file_format_check_failed" : state.fail_reasons[0];
}

let refreshing = null;
// `again`: fetch anew even while a fetch is under way (its answer may predate what was just
// done); `force`: that too, and render as for a new view (scrolled to the newest message).
async function refresh(force, again = force) {
  if (refreshing) { await refreshing; if (!again) return; }
  refreshing = (async () => {
    try {
      const asked = team;
      const next = await api("/api/state");
      if (next.error) throw new Error(next.error);
      if (asked !== team) return; // switched meanwhile: the next refresh shows the new one
      const first = !state;
      if (first) team = next.team;
      state = next;
      if (first) setup();
      render(force || first);
      document.body.classList.remove("offline");
    } catch (_) {
      document.body.classList.add("offline");
    }
  })();
  try { await refreshing; } finally { refreshing = null; }
}
function flash(text, where = "#tiktok-result") { $(where).textContent = text; }

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-channel], a[data-view]");
  if (!a) return;
  event.preventDefault();
  view = a.dataset.channel ? { kind: "channel", id: a.dataset.channel } : { kind: a.dataset.view, id: "" };
  render(true);
  if (view.kind === "home") api("/api/home", { user: me() }).then(() => refresh());
});
$("#person").addEventListener("change", () => {
  render(true);
  if (view.kind === "home") api("/api/home", { user: me() }).then(() => refresh());
});
// Show workspace `teamId`: its state is fetched anew before anything of it is drawn.
async function switchTo(teamId) {
  if (teamId === team) return;
  team = teamId;
  $("#workspace").value = teamId;
  await refresh(true);
  if (view.kind === "home") api("/api/home", { user: me() }).then(() => refresh());
}
$("#workspace").addEventListener("change", () => switchTo($("#workspace").value));
$("#add-to-slack").addEventListener("click", async () => {
  const button = $("#add-to-slack");
  button.disabled = true;
  flash("Adding the app to the next workspace\u2026", "#workspace-result");
  const result = await api("/api/install", { team: "" });
  button.disabled = false;
  if (result.error) { flash(`Not installed: ${result.error}`, "#workspace-result"); return; }
  flash(`Installed in ${result.name}: you are in it now.`, "#workspace-result");
  await switchTo(result.team_id);
});
$("#uninstall").addEventListener("click", async () => {
  const name = $("#workspace").selectedOptions[0] ? $("#workspace").selectedOptions[0].text : team;
  const sure = await confirmDialog({
    title: { type: "plain_text", text: `Uninstall from ${name}?` },
    text: { type: "plain_text", text: "The bot forgets this workspace: its TikTok links, held "
      + "uploads, settings and pipeline token. Add to Slack installs it again, clean." },
    confirm: { type: "plain_text", text: "Uninstall" },
    deny: { type: "plain_text", text: "Keep it" },
  });
  if (!sure) return;
  const button = $("#uninstall");
  button.disabled = true;
  const result = await api("/api/uninstall", { team });
  button.disabled = false;
  if (result.error) { flash(`Not uninstalled: ${result.error}`, "#workspace-result"); return; }
  flash(`Uninstalled from ${result.name}: the bot forgot it. What it posted stays, as in `
    + "Slack; a command now gets Bolt's not-installed answer. Add to Slack installs it again.",
  "#workspace-result");
  await refresh(true);
});
$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("#command");
  const raw = input.value.trim();
  if (!raw) return;
  if (raw.startsWith("/") && !/^\/tiktok-cancel(\s|$)/.test(raw)) {
    input.setCustomValidity("Only /tiktok-cancel exists here.");
    input.reportValidity();
    return;
  }
  input.setCustomValidity("");
  const text = raw.replace(/^\/tiktok-cancel\s*/, "");
  const channel = view.kind === "dm" ? "D" + me() : view.id;
  input.value = "/tiktok-cancel ";
  await api("/api/command", { user: me(), text, channel });
  await refresh(true);
});
$("#command").addEventListener("input", (event) => event.target.setCustomValidity(""));
// "Hold before starting": the form hands the upload to the bot (POST /uploads) instead.
function holding() { return $("#hold").checked; }
function showHold() {
  const hold = holding();
  for (const node of document.querySelectorAll("#announce .announce-only")) {
    node.hidden = hold;
    for (const input of node.querySelectorAll("input, select")) input.disabled = hold;
    if (node.matches("input, select")) node.disabled = hold;
  }
  for (const node of document.querySelectorAll("#announce .hold-only")) {
    node.hidden = !hold;
    for (const input of node.querySelectorAll("input, select")) input.disabled = !hold;
  }
  $("#announce-hint").hidden = hold;
  $("#hold-hint").hidden = !hold;
  $("#account").placeholder = hold ? "brand" : "e.g. brand";
  $("#announce-button").textContent = hold ? "Hold upload" : "Announce";
  showApproval();
}
// "Needs approval" (with Hold): the upload waits for the approvers chosen here.
function approving() { return holding() && $("#needs-approval").checked; }
function showApproval() {
  const on = approving();
  $("#approval").hidden = !on;
  $("#approval").disabled = !on;
}
$("#hold").addEventListener("change", showHold);
$("#needs-approval").addEventListener("change", showApproval);
showHold();
function numberOr(text) {
  const n = Number(text);
  return text === "" ? undefined : Number.isFinite(n) ? n : text;
}
async function holdUpload(form, video) {
  const body = {
    user: me(), account: form.get("account"), source_url: form.get("source_url"),
    hold_s: numberOr(String(form.get("hold_s") || "")), channel: CHANNEL, video,
    post: { title: form.get("title"), privacy_level: form.get("privacy_level") },
  };
  if (approving()) {
    body.approval = { approvers: form.getAll("approvers"), needed: numberOr(String(form.get("needed") || "")) };
    const minutes = Number(form.get("approve_within"));
    const by = new Date(Date.now() + minutes * 60000);
    if (form.get("approve_within") !== "" && !Number.isNaN(by.getTime())) {
      body.approval.approve_by = by.toISOString().replace(/\.\d+Z$/, "Z");
    }
    body.submitted_by = form.get("submitted_by");
  }
  const result = await api("/api/hold", body);
  const detail = result.error || (result.body && result.body.error) || "";
  const linked = result.linked
    ? ` First the sandbox linked Brand Social as the team account ${result.linked} and granted`
      + ` it to alex and sam, as an admin would (/tiktok-cancel team connect ${result.linked}).`
    : "";
  const waits = result.body && result.body.approve_by
    ? " It waits for approval: Review and approve is on the card, and in each approver's Messages."
    : "";
  flash(result.error ? `Not sent: ${result.error}`
    : `The bot answered HTTP ${result.status}${detail ? ": " + detail : ""}.${waits}${linked}`, "#announce-result");
}
$("#announce").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const video = {};
  for (const k of ["format", "codec"]) if (form.get(k)) video[k] = form.get(k);
  for (const k of ["fps", "width", "height", "duration_s", "size_bytes"]) {
    if (form.get(k) !== "") video[k] = Number(form.get(k));
  }
  if (holding()) {
    await holdUpload(form, video);
    if (view.kind !== "channel" || view.id !== CHANNEL) view = { kind: "channel", id: CHANNEL };
    await refresh(true);
    return;
  }
  const body = {
    user: me(), publish_id: form.get("publish_id"), title: form.get("title"),
    account: form.get("account"), open_id: form.get("open_id"), tiktok_status: form.get("tiktok_status"),
    source_url: form.get("source_url"), channel: CHANNEL, video,
  };
  const result = await api("/api/announce", body);
  const detail = result.error || (result.body && result.body.error) || "";
  flash(result.error ? `Not sent: ${result.error}`
    : `The bot answered HTTP ${result.status}${detail ? ": " + detail : ""}`, "#announce-result");
  if (result.status === 201) {
    const next = String(form.get("publish_id")).replace(/(\d+)$/, (d) => String(Number(d) + 1));
    event.target.elements.publish_id.value = next;
  }
  if (view.kind !== "channel" || view.id !== CHANNEL) view = { kind: "channel", id: CHANNEL };
  await refresh(true);
});
$("#upload").addEventListener("change", () => { updateMoves(); if (state) renderArmed(); });
// What is armed is shown from the server's state (#armed), never from what was asked here.
$("#script-next").addEventListener("click", async () => {
  const answer = $("#next-answer").value;
  const publishId = $("#upload").value;
  const result = await api("/api/tiktok/next", { answer, publish_id: publishId });
  flash(result.error ? `Not scripted: ${result.error}` : "");
  await refresh(false, true);
});
$("#script-init").addEventListener("click", async () => {
  const answer = $("#next-init").value;
  const result = await api("/api/tiktok/init", { answer });
  flash(result.error ? `Not scripted: ${result.error}` : "");
  await refresh(false, true);
});
for (const b of document.querySelectorAll(".moves button")) {
  b.addEventListener("click", async () => {
    const status = b.dataset.status;
    const body = { publish_id: $("#upload").value, status };
    if (status === "FAILED") body.fail_reason = $("#fail-reason").value;
    b.disabled = true;
    const result = await api("/api/tiktok/status", body);
    b.disabled = false;
    flash(result.error ? `Not moved: ${result.error}`
      : `${body.publish_id} is ${status}${body.fail_reason ? " (" + body.fail_reason + ")" : ""}; `
        + `TikTok's webhook got HTTP ${result.status}.`);
    await refresh();
  });
}

refresh(true);
setInterval(refresh, 1000);
setInterval(tickCountdowns, 250);

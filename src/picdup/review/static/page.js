// The group view of picdup: the live review page (data from the local server, decisions saved
// after every change) and the read-only HTML report (data embedded in the page) share this code.
// Every file name reaches the page through textContent or an attribute, never through innerHTML.
"use strict";
(function () {
  const LIVE = document.body.dataset.mode === "live";
  const PAGE_SIZE = 20;
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function fmtBytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    let v = n;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
    return (i === 0 ? String(v) : v.toFixed(1)) + " " + units[i];
  }
  const fmtDate = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "");

  // ---- data sources -------------------------------------------------------------------------
  let embedded = null;
  if (!LIVE) embedded = JSON.parse($("picdup-data").textContent);

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({ error: res.statusText }));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  async function loadSummary() {
    return LIVE ? api("api/summary") : embedded.summary;
  }

  async function loadPage(offset, filter) {
    if (LIVE) return api(`api/groups?offset=${offset}&limit=${PAGE_SIZE}&filter=${filter}`);
    const all = embedded.groups;
    return { total: all.length, offset, groups: all.slice(offset, offset + PAGE_SIZE) };
  }

  // ---- state --------------------------------------------------------------------------------
  const S = { summary: null, offset: 0, total: 0, filter: "all", groups: [], cur: 0, sel: 0 };

  function status(g, k) {
    const d = g.decisions || { files: [], notdup: [] };
    const verdict = d.files[k];
    const notdup = d.notdup.some(([a, b]) => (a === k && b === g.keep) || (b === k && a === g.keep));
    if (notdup) return { cls: "notdup", text: "not a duplicate: left alone", verdict, notdup };
    if (verdict) return { cls: verdict, text: "decided: " + verdict, verdict, notdup };
    // What apply will do with an undecided file: a copy you keep becomes the keeper.
    if (d.files.includes("keep")) return { cls: "", text: "suggested: remove (you keep another copy)", verdict, notdup };
    if (k === g.keep) return { cls: "keep", text: "suggested keeper", verdict, notdup };
    if (d.files[g.keep] === "remove") return { cls: "", text: "the keep policy decides", verdict, notdup };
    return { cls: "", text: "suggested: remove", verdict, notdup };
  }

  // ---- rendering ----------------------------------------------------------------------------
  function renderHeader() {
    const s = S.summary;
    $("title").textContent = s.name;
    const c = s.counts;
    let text = `${s.groups} groups · ${s.duplicates} duplicates · ${fmtBytes(s.reclaimable_bytes)} reclaimable`;
    if (LIVE && c) text += ` · decided: ${c.keep} keep, ${c.remove} remove, ${c.notdup} not duplicate`;
    $("stats").textContent = text;
    const last = Math.min(S.offset + PAGE_SIZE, S.total);
    $("page-info").textContent = S.total ? `groups ${S.offset + 1}–${last} of ${S.total}` : "no groups";
    $("prev-page").disabled = S.offset === 0;
    $("next-page").disabled = S.offset + PAGE_SIZE >= S.total;
  }

  function memberTile(g, k) {
    const m = g.members[k];
    const st = status(g, k);
    const classes = ["member"];
    if (k === g.keep) classes.push("keeper");
    if (st.verdict) classes.push("decided-" + st.verdict);
    if (st.notdup) classes.push("notdup");
    const img = el("img", { src: m.thumb, alt: "", loading: "lazy", decoding: "async" });
    img.addEventListener("error", () => {
      img.classList.add("broken");
      img.after(el("span", { class: "missing", text: "cannot show this file" }));
    }, { once: true });
    const button = (act, label, pressed, disabled) => el("button", {
      type: "button", "data-act": act, "aria-pressed": pressed ? "true" : "false", disabled,
      onclick: (ev) => { ev.stopPropagation(); select(g, k); act === "compare" ? openCompare() : decide(act); },
    }, label);
    const actions = el("div", { class: "actions" },
      LIVE ? button("keep", "Keep", st.verdict === "keep") : null,
      LIVE ? button("remove", "Remove", st.verdict === "remove") : null,
      LIVE ? button("notdup", "Not duplicate", st.notdup, k === g.keep || m.class === "exact") : null,
      k === g.keep ? null : button("compare", "Compare"));
    const fig = el("figure", {
      class: classes.join(" "), "data-m": k, "data-testid": "member",
      onclick: () => select(g, k),
      ondblclick: () => { select(g, k); if (k !== g.keep) openCompare(); },
    },
    el("div", { class: "thumb" }, img),
    el("figcaption", {},
      el("div", { class: "name", title: m.path, text: m.name }),
      el("div", { class: "dir", text: m.dir }),
      el("div", { class: "facts", text: `${fmtBytes(m.size)} · ${m.width}×${m.height} · ${m.format} · ${fmtDate(m.mtime)}` }),
      el("div", { class: "facts", text: `class ${m.class} · score ${Number(m.score).toFixed(3)} · distance ${m.distance}` }),
      el("div", { class: "status " + st.cls, text: st.text }),
      actions));
    return fig;
  }

  function groupCard(g, pos) {
    const keeper = g.members[g.keep];
    const card = el("article", { class: "group", "data-index": g.index, "data-pos": pos, "data-testid": "group" },
      el("h2", { text: `Group ${g.id} · ${g.class} · ${g.members.length} files · ${fmtBytes(g.reclaimable)} reclaimable` }),
      el("p", { class: "why" }, "Suggested keeper: ", el("b", { text: keeper.name }), ` — ${g.why}`),
      el("div", { class: "members" }, ...g.members.map((_, k) => memberTile(g, k))));
    card.addEventListener("click", () => { if (S.cur !== pos) { S.cur = pos; S.sel = defaultSel(g); highlight(); } });
    return card;
  }

  function defaultSel(g) { return g.members.length > 1 && g.keep === 0 ? 1 : 0; }

  function renderGroups() {
    const main = $("groups");
    main.replaceChildren(...S.groups.map((g, pos) => groupCard(g, pos)));
    if (!S.groups.length) main.append(el("p", { text: "No groups to show." }));
    highlight();
    performance.mark("picdup-groups-rendered");
    document.body.dataset.ready = "1";
  }

  function rerenderGroup(pos) {
    const old = document.querySelector(`.group[data-pos="${pos}"]`);
    if (old) old.replaceWith(groupCard(S.groups[pos], pos));
    highlight();
  }

  function highlight(scroll) {
    document.querySelectorAll(".group.current").forEach((n) => n.classList.remove("current"));
    document.querySelectorAll(".member.selected").forEach((n) => n.classList.remove("selected"));
    const card = document.querySelector(`.group[data-pos="${S.cur}"]`);
    if (!card) return;
    card.classList.add("current");
    const tile = card.querySelector(`.member[data-m="${S.sel}"]`);
    if (tile) tile.classList.add("selected");
    if (scroll) card.scrollIntoView({ block: "nearest" });
  }

  function select(g, k) {
    const pos = S.groups.indexOf(g);
    if (pos >= 0) S.cur = pos;
    S.sel = k;
    highlight();
  }

  async function showPage(offset, cur) {
    const page = await loadPage(offset, S.filter);
    S.offset = page.offset;
    S.total = page.total;
    S.groups = page.groups;
    S.cur = cur === "last" ? Math.max(0, S.groups.length - 1) : 0;
    S.sel = S.groups.length ? defaultSel(S.groups[S.cur]) : 0;
    renderHeader();
    renderGroups();
    highlight(true);
    if (cur === "top") window.scrollTo(0, 0);
  }

  async function moveGroup(step) {
    const next = S.cur + step;
    if (next >= 0 && next < S.groups.length) {
      S.cur = next;
      S.sel = defaultSel(S.groups[next]);
      highlight(true);
    } else if (step > 0 && S.offset + PAGE_SIZE < S.total) {
      await showPage(S.offset + PAGE_SIZE, 0);
    } else if (step < 0 && S.offset > 0) {
      await showPage(Math.max(0, S.offset - PAGE_SIZE), "last");
    }
  }

  function moveMember(step) {
    const g = S.groups[S.cur];
    if (!g) return;
    S.sel = (S.sel + step + g.members.length) % g.members.length;
    highlight();
  }

  // ---- decisions (live only) ----------------------------------------------------------------
  function saving(text, error) {
    const node = $("save-state");
    node.textContent = text;
    node.classList.toggle("error", !!error);
  }

  async function send(path, body, pos) {
    saving("saving…");
    try {
      const out = await api(path, body);
      S.groups[pos] = out.group;
      S.summary.counts = out.counts;
      renderHeader();
      rerenderGroup(pos);
      if (!$("compare").hidden) compareLabels();
      saving("saved");
    } catch (err) {
      saving("not saved: " + err.message, true);
    }
  }

  async function decide(act, memberIndex, other) {
    if (!LIVE) return;
    const pos = S.cur;
    const g = S.groups[pos];
    if (!g) return;
    const k = memberIndex === undefined ? S.sel : memberIndex;
    const st = status(g, k);
    if (act === "keep" || act === "remove") {
      await send("api/decide", { group: g.index, member: k, verdict: st.verdict === act ? null : act }, pos);
    } else if (act === "clear") {
      await send("api/decide", { group: g.index, member: k, verdict: null }, pos);
    } else if (act === "notdup") {
      const a = other === undefined ? g.keep : other;
      if (a === k || g.members[k].digest === g.members[a].digest) {
        saving("byte-identical files are always duplicates", true);
        return;
      }
      const marked = (g.decisions.notdup || []).some(([x, y]) => (x === a && y === k) || (x === k && y === a));
      await send("api/notdup", { group: g.index, a, b: k, value: !marked }, pos);
    }
  }

  // ---- compare ------------------------------------------------------------------------------
  const C = { a: 0, b: 1, view: "side", scale: 1, tx: 0, ty: 0, timer: null, drag: null };
  const panes = () => [$("pane-a"), $("pane-b"), $("pane-x")];

  function openCompare() {
    const g = S.groups[S.cur];
    if (!g || g.members.length < 2) return;
    C.a = g.keep;
    C.b = S.sel === g.keep ? (g.keep === 0 ? 1 : 0) : S.sel;
    $("compare").hidden = false;
    loadCompareImages();
    setView(C.view);
  }

  function closeCompare() {
    stopFlicker();
    $("compare").hidden = true;
    highlight();
  }

  function loadCompareImages() {
    const g = S.groups[S.cur];
    const src = (k) => (g.members[k].full || g.members[k].thumb);
    const [imgA, flickB] = $("pane-a").querySelectorAll("img");
    imgA.src = src(C.a);
    flickB.src = src(C.b);
    $("pane-b").querySelector("img").src = src(C.b);
    C.scale = 1; C.tx = 0; C.ty = 0;
    compareLabels();
    layout();
    if (C.view === "diff") drawDiff();
  }

  function compareLabels() {
    const g = S.groups[S.cur];
    const label = (tag, k) => {
      const m = g.members[k];
      return `${tag}: ${m.name} · ${m.width}×${m.height} · ${fmtBytes(m.size)} · ${status(g, k).text}`;
    };
    $("cmp-title").textContent = `Group ${g.id}`;
    $("pane-a").querySelector(".plabel").textContent = label("A", C.a);
    $("pane-b").querySelector(".plabel").textContent = label("B", C.b);
    $("pane-x").querySelector(".plabel").textContent = "difference |A − B|, amplified ×4";
    S.sel = C.b;
  }

  function setView(view) {
    C.view = view;
    stopFlicker();
    document.querySelectorAll("#compare [data-view]").forEach((b) => {
      b.setAttribute("aria-pressed", b.dataset.view === view ? "true" : "false");
    });
    $("pane-a").hidden = view === "diff";
    $("pane-b").hidden = view !== "side";
    $("pane-x").hidden = view !== "diff";
    $("compare").dataset.view = view;
    if (view === "flicker") startFlicker();
    if (view === "diff") drawDiff();
    layout();
  }

  function startFlicker() {
    const flick = $("pane-a").querySelector("img.flick");
    const label = $("pane-a").querySelector(".plabel");
    const g = S.groups[S.cur];
    C.timer = setInterval(() => {
      flick.hidden = !flick.hidden;
      label.textContent = (flick.hidden ? "A: " + g.members[C.a].name : "B: " + g.members[C.b].name);
    }, 600);
  }

  function stopFlicker() {
    if (C.timer) clearInterval(C.timer);
    C.timer = null;
    const flick = $("pane-a").querySelector("img.flick");
    if (flick) flick.hidden = true;
  }

  function whenLoaded(img) {
    return img.complete && img.naturalWidth ? Promise.resolve() : new Promise((resolve, reject) => {
      img.addEventListener("load", resolve, { once: true });
      img.addEventListener("error", reject, { once: true });
    });
  }

  // The two pictures are drawn at one size (A's, at most 1600 px) and subtracted pixel by pixel.
  async function drawDiff() {
    const imgA = $("pane-a").querySelector("img");
    const imgB = $("pane-b").querySelector("img");
    const canvas = $("pane-x").querySelector("canvas");
    try { await Promise.all([whenLoaded(imgA), whenLoaded(imgB)]); } catch (e) {
      $("pane-x").querySelector(".plabel").textContent = "cannot load both pictures";
      return;
    }
    const f = Math.min(1, 1600 / Math.max(imgA.naturalWidth, imgA.naturalHeight));
    const w = Math.max(1, Math.round(imgA.naturalWidth * f));
    const h = Math.max(1, Math.round(imgA.naturalHeight * f));
    const pixels = (img) => {
      const c = document.createElement("canvas");
      c.width = w; c.height = h;
      const ctx = c.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(img, 0, 0, w, h);
      return ctx.getImageData(0, 0, w, h).data;
    };
    const a = pixels(imgA);
    const b = pixels(imgB);
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    const out = ctx.createImageData(w, h);
    let total = 0;
    for (let i = 0; i < a.length; i += 4) {
      const d = (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2])) / 3;
      total += d;
      const v = Math.min(255, d * 4);
      out.data[i] = v; out.data[i + 1] = v; out.data[i + 2] = v; out.data[i + 3] = 255;
    }
    ctx.putImageData(out, 0, 0);
    const mean = total / (w * h);
    canvas.dataset.mean = mean.toFixed(2);
    $("pane-x").querySelector(".plabel").textContent =
      `difference |A − B| ×4 · mean ${mean.toFixed(2)} grey levels`;
    layout();
  }

  // One zoom and pan for every pane, so the same spot of both pictures stays under the pointer.
  function layout() {
    for (const pane of panes()) {
      if (pane.hidden) continue;
      const layer = pane.querySelector(".layer");
      const media = pane.querySelector("img, canvas");
      const nw = media.naturalWidth || media.width || 4;
      const nh = media.naturalHeight || media.height || 3;
      const pw = pane.clientWidth;
      const ph = pane.clientHeight;
      const fit = Math.min(pw / nw, ph / nh);
      const bw = nw * fit;
      const bh = nh * fit;
      layer.style.width = bw + "px";
      layer.style.height = bh + "px";
      layer.style.left = (pw - bw) / 2 + "px";
      layer.style.top = (ph - bh) / 2 + "px";
      layer.style.transform = `translate(${C.tx}px, ${C.ty}px) scale(${C.scale})`;
    }
    $("zoom-level").textContent = C.scale === 1 ? "fit" : `${Math.round(C.scale * 100)}%`;
    $("compare").dataset.scale = C.scale.toFixed(3);
    $("compare").dataset.tx = C.tx.toFixed(1);
  }

  function zoomAt(factor, pane, px, py) {
    const layer = pane.querySelector(".layer");
    const ox = parseFloat(layer.style.left) || 0;
    const oy = parseFloat(layer.style.top) || 0;
    const s2 = Math.min(64, Math.max(1, C.scale * factor));
    const qx = (px - ox - C.tx) / C.scale;
    const qy = (py - oy - C.ty) / C.scale;
    C.tx = s2 === 1 ? 0 : px - ox - qx * s2;
    C.ty = s2 === 1 ? 0 : py - oy - qy * s2;
    C.scale = s2;
    layout();
  }

  function zoomCentre(factor) {
    const pane = panes().find((p) => !p.hidden);
    zoomAt(factor, pane, pane.clientWidth / 2, pane.clientHeight / 2);
  }

  for (const pane of panes()) {
    pane.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = pane.getBoundingClientRect();
      zoomAt(ev.deltaY < 0 ? 1.25 : 0.8, pane, ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    pane.addEventListener("pointerdown", (ev) => {
      C.drag = { x: ev.clientX, y: ev.clientY, tx: C.tx, ty: C.ty };
      pane.setPointerCapture(ev.pointerId);
      pane.classList.add("dragging");
    });
    pane.addEventListener("pointermove", (ev) => {
      if (!C.drag) return;
      C.tx = C.drag.tx + ev.clientX - C.drag.x;
      C.ty = C.drag.ty + ev.clientY - C.drag.y;
      layout();
    });
    const end = () => { C.drag = null; pane.classList.remove("dragging"); };
    pane.addEventListener("pointerup", end);
    pane.addEventListener("pointercancel", end);
  }
  for (const img of document.querySelectorAll("#compare img")) img.addEventListener("load", layout);
  window.addEventListener("resize", () => { if (!$("compare").hidden) layout(); });

  document.querySelectorAll("#compare [data-view]").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  document.querySelectorAll("#compare [data-cmp]").forEach((b) => b.addEventListener("click", () => decide(b.dataset.cmp, C.b, C.a)));
  $("zoom-in").addEventListener("click", () => zoomCentre(1.5));
  $("zoom-out").addEventListener("click", () => zoomCentre(1 / 1.5));
  $("zoom-fit").addEventListener("click", () => { C.scale = 1; C.tx = 0; C.ty = 0; layout(); });
  $("cmp-swap").addEventListener("click", () => swap());
  $("cmp-close").addEventListener("click", closeCompare);

  function swap() { [C.a, C.b] = [C.b, C.a]; loadCompareImages(); }

  function cycleB(step) {
    const g = S.groups[S.cur];
    let b = C.b;
    do { b = (b + step + g.members.length) % g.members.length; } while (b === C.a);
    C.b = b;
    loadCompareImages();
  }

  // ---- apply (live only) --------------------------------------------------------------------
  let planId = null;
  async function openApply() {
    const dialog = $("apply-dialog");
    $("apply-plan").textContent = "";
    $("apply-result").textContent = "";
    $("apply-confirm-row").hidden = true;
    $("apply-run").disabled = true;
    planId = null;
    const opts = $("apply-options");
    try {
      const info = await api("api/apply-options");
      const actions = Object.entries(info.actions).map(([name, text]) =>
        el("option", { value: name, text: `${name}: ${text}` }));
      opts.replaceChildren(
        el("p", { text: `The plan uses ${info.decisions} (your decisions here); groups you did not decide follow the keep policy.` }),
        el("p", {}, el("label", {}, "Action ", el("select", { id: "apply-action" }, ...actions))),
        el("p", {}, el("label", {}, "Keep policy ", el("input", { id: "apply-keep", value: info.keep, size: 40 })),
          el("small", { text: " (comma-separated, strongest first: " + Object.keys(info.policies).join(", ") + ")" })),
        el("p", {}, el("label", {}, "Destination folder (quarantine, move, organize) ", el("input", { id: "apply-to", size: 40 }))));
      $("apply-preview").disabled = false;
    } catch (err) {
      opts.replaceChildren(el("p", { text: "Applying is not available: " + err.message }));
      $("apply-preview").disabled = true;
    }
    dialog.showModal();
  }

  async function previewPlan() {
    $("apply-result").textContent = "";
    $("apply-run").disabled = true;
    planId = null;
    try {
      const out = await api("api/plan", {
        action: $("apply-action").value, keep: $("apply-keep").value, to: $("apply-to").value || null,
      });
      planId = out.plan;
      $("apply-plan").textContent = out.text + "\n\n" + out.question;
      $("apply-phrase").textContent = out.phrase;
      $("apply-confirm").value = "";
      $("apply-confirm-row").hidden = !out.actions;
      if (!out.actions) $("apply-result").textContent = "Nothing to do.";
    } catch (err) {
      $("apply-plan").textContent = "";
      $("apply-confirm-row").hidden = true;
      $("apply-result").textContent = "Cannot plan: " + err.message;
    }
  }

  async function runPlan() {
    $("apply-run").disabled = true;
    try {
      const out = await api("api/apply", { plan: planId, confirm: $("apply-confirm").value });
      planId = null;
      $("apply-confirm-row").hidden = true;
      const lines = [out.text, ...out.problems, "undo with: " + out.undo];
      $("apply-result").textContent = lines.join("\n");
      $("apply-result").dataset.ok = out.ok ? "1" : "0";
    } catch (err) {
      $("apply-result").textContent = "Not applied: " + err.message;
    }
  }

  if (LIVE) {
    // Enter in a field must not close the dialog (the form's default); only Close does.
    $("apply-form").addEventListener("submit", (ev) => {
      if (!ev.submitter || ev.submitter.id !== "apply-close") ev.preventDefault();
    });
    $("apply-open").addEventListener("click", openApply);
    $("apply-preview").addEventListener("click", previewPlan);
    $("apply-run").addEventListener("click", runPlan);
    $("apply-confirm").addEventListener("input", () => {
      $("apply-run").disabled = !planId || $("apply-confirm").value !== $("apply-phrase").textContent;
    });
  }

  // ---- keyboard and controls ----------------------------------------------------------------
  // Keys are handled one after another: a decision typed right after "next group" must land on
  // the next group even while that group's page is still loading.
  let queue = Promise.resolve();
  const later = (fn) => { queue = queue.then(fn).catch((err) => saving(String(err), true)); };

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    if ($("apply-dialog").open) return;
    const key = ev.key;
    if (!keyAction(key, true) && !keyAction(key, false)) return;
    ev.preventDefault();
    // Which view the key is for is decided when its turn comes (after an earlier "c" opened
    // the compare view, say), not when it was pressed.
    later(() => {
      const act = keyAction(key, !$("compare").hidden);
      return act ? act() : undefined;
    });
  });

  function keyAction(key, comparing) {
    if (comparing) {
      switch (key) {
        case "Escape": return closeCompare;
        case "1": return () => setView("side");
        case "2": return () => setView("flicker");
        case "3": return () => setView("diff");
        case "+": case "=": return () => zoomCentre(1.5);
        case "-": return () => zoomCentre(1 / 1.5);
        case "0": return () => { C.scale = 1; C.tx = 0; C.ty = 0; layout(); };
        case "s": return swap;
        case "ArrowRight": return () => cycleB(1);
        case "ArrowLeft": return () => cycleB(-1);
        case "k": return () => decide("keep", C.b);
        case "r": case "x": case "Delete": return () => decide("remove", C.b);
        case "d": return () => decide("notdup", C.b, C.a);
        case "u": return () => decide("clear", C.b);
        default: return null;
      }
    }
    switch (key) {
      case "n": case "j": case "ArrowDown": return () => moveGroup(1);
      case "p": case "ArrowUp": return () => moveGroup(-1);
      case "ArrowRight": return () => moveMember(1);
      case "ArrowLeft": return () => moveMember(-1);
      case "k": return () => decide("keep");
      case "r": case "x": case "Delete": return () => decide("remove");
      case "d": return () => decide("notdup");
      case "u": case "Backspace": return () => decide("clear");
      case "c": case "Enter": return openCompare;
      default: return null;
    }
  }

  $("prev-page").addEventListener("click", () => showPage(Math.max(0, S.offset - PAGE_SIZE), "top"));
  $("next-page").addEventListener("click", () => showPage(S.offset + PAGE_SIZE, "top"));
  $("filter").addEventListener("change", () => { S.filter = $("filter").value; showPage(0, "top"); });
  $("goto").addEventListener("change", async () => {
    const want = parseInt($("goto").value, 10) - 1;
    if (!(want >= 0)) return;
    if (S.filter !== "all") { S.filter = "all"; $("filter").value = "all"; }
    await showPage(Math.floor(want / PAGE_SIZE) * PAGE_SIZE, 0);
    S.cur = Math.min(want % PAGE_SIZE, S.groups.length - 1);
    S.sel = S.groups.length ? defaultSel(S.groups[S.cur]) : 0;
    highlight(true);
    $("goto").blur();
  });

  (async function start() {
    try {
      S.summary = await loadSummary();
      await showPage(0, "top");
    } catch (err) {
      $("groups").replaceChildren(el("p", { class: "error", text: "Cannot load the report: " + err.message }));
    }
  })();
})();

/* Field work without signal (the field pages: a patrol's route page, the finding form, an
   inspector's spot-check batch).

   - Registers the service worker (/sw.js) that serves the app's files and the stored pages.
   - Takes today's work along: opening a patrol online stores its pages, its sites' pages and
     their latest thumbnails, and the files those pages use, in the browser's cache.
   - Without a connection, stop ticks, findings (point, note, photos shrunk as the upload
     setting says) and spot-check results go into a queue in IndexedDB, which survives closing
     the browser; the page lists what waits, each with a mark.
   - When the connection is back (and with "立即发送") the queue is sent in order, each act
     with its own Idempotency-Key (a retry after a lost answer changes nothing twice) and the
     time it happened in the field. What the server asks or refuses stays in the list with
     the server's words until the inspector answers or removes it: nothing is dropped.
   Hand-written, served by the app; uses photos.js (window.GisPhotos). */
(function () {
  "use strict";

  var me = document.currentScript;
  var DB = "gis-field", QUEUE = "queue", PACKS = "packs", CACHE = "gis-field";
  var RETRY_MS = 15000;
  var LABELS = { waiting: "待发送", sending: "发送中", sent: "已发送", question: "待确认", refused: "未被接受" };

  if ("serviceWorker" in navigator && me && me.getAttribute("data-worker")) {
    navigator.serviceWorker.register(me.getAttribute("data-worker"), { scope: "/" }).catch(function () {});
  }

  // ---------------------------------------------------------------- IndexedDB
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open(DB, 1);
        open.onupgradeneeded = function () {
          var d = open.result;
          if (!d.objectStoreNames.contains(QUEUE)) d.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
          if (!d.objectStoreNames.contains(PACKS)) d.createObjectStore(PACKS, { keyPath: "key" });
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function tx(store, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(store, mode);
        var result = work(t.objectStore(store));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function all(store) { return tx(store, "readonly", function (s) { return s.getAll(); }); }
  function put(store, value) { return tx(store, "readwrite", function (s) { return s.put(value); }); }
  function remove(store, key) { return tx(store, "readwrite", function (s) { return s.delete(key); }); }

  // ---------------------------------------------------------------- helpers
  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }
  function key() { return window.GisPhotos ? GisPhotos.newKey() : String(Date.now()) + Math.random(); }
  function nowIso() { return new Date().toISOString(); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function localTime(iso) {
    var d = new Date(iso);
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function mb(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }
  function maxSide() {
    var meta = document.querySelector("meta[name=photo-max-side]");
    return parseInt(meta ? meta.content : "2560", 10);
  }

  // ---------------------------------------------------------------- the queue panel
  var panel = null;
  function ensurePanel() {
    if (panel) return panel;
    panel = document.getElementById("field-queue");
    if (!panel) {
      panel = el("section", { id: "field-queue", "class": "field-queue" });
      var h1 = document.querySelector("main h1");
      if (h1 && h1.parentNode) h1.parentNode.insertBefore(panel, h1.nextSibling);
      else document.querySelector("main").prepend(panel);
    }
    return panel;
  }

  var lastError = "";
  function render() {
    return Promise.all([all(QUEUE), all(PACKS), storageLine()]).then(function (got) {
      var items = got[0], packs = got[1], storage = got[2];
      var box = ensurePanel();
      box.textContent = "";
      var head = el("div", { "class": "fq-head" });
      var waiting = items.filter(function (i) { return i.state === "waiting"; }).length;
      var net = el("span", { id: "fq-net", "class": navigator.onLine ? "fq-online" : "fq-offline" },
        navigator.onLine ? "在线" : "离线：记录先存在手机上");
      head.appendChild(net);
      head.appendChild(el("span", { id: "fq-count" }, waiting ? "待发送 " + waiting + " 项" : "没有待发送的记录"));
      var send = el("button", { type: "button", id: "fq-send", "class": "big-button secondary" }, "立即发送");
      send.disabled = !waiting || !navigator.onLine;
      send.addEventListener("click", function () { sync(true); });
      head.appendChild(send);
      box.appendChild(head);
      if (lastError) box.appendChild(el("p", { "class": "error small", id: "fq-error" }, lastError));
      var list = el("ol", { id: "fq-items", "class": "fq-items" });
      items.forEach(function (item) { list.appendChild(itemRow(item)); });
      if (items.length) box.appendChild(list);
      var info = el("p", { "class": "small muted", id: "fq-packs" });
      info.textContent = packs.length
        ? "已带走：" + packs.map(function (p) {
          return p.title + "（保存于 " + localTime(p.saved_at) + "，" + p.count + " 项，" + mb(p.bytes) + "）";
        }).join("；")
        : "尚未带走任何巡查（在线打开巡查路线页即自动保存）";
      box.appendChild(info);
      var clear = clearButton(packs);
      if (clear) box.appendChild(clear);
      if (tidied) box.appendChild(el("p", { "class": "small muted", id: "fq-tidy" }, tidied));
      if (storage) box.appendChild(storage);
      markStops(items);
    });
  }

  function itemRow(item) {
    var li = el("li", { "class": "fq-item fq-" + item.state, "data-seq": item.seq, "data-kind": item.kind });
    li.appendChild(el("span", { "class": "fq-mark" }, LABELS[item.state] || item.state));
    li.appendChild(el("span", { "class": "fq-label" }, " " + item.label + " · " + localTime(item.recorded_at)));
    if (item.photos && item.photos.length) li.appendChild(el("span", { "class": "small muted" }, " · 照片 " + item.photos.length + " 张"));
    if (item.message) li.appendChild(el("div", { "class": "fq-message small" }, item.message));
    if (item.state === "question") li.appendChild(questionForm(item));
    if (item.state === "refused" || item.state === "sent") {
      var drop = el("button", { type: "button", "class": "fq-drop" }, item.state === "sent" ? "从列表移除" : "放弃此项");
      drop.addEventListener("click", function () {
        if (item.state === "sent" || window.confirm("放弃后这条记录不会再发送，确定吗？")) remove(QUEUE, item.seq).then(render);
      });
      li.appendChild(drop);
    }
    return li;
  }

  /** The server's question about a finding near a site: attach to it, or a new site with a
      reason. The answer is sent as a new request (a new key). */
  function questionForm(item) {
    var form = el("form", { "class": "fq-question" });
    (item.candidates || []).forEach(function (c, i) {
      var label = el("label", { "class": "choice" });
      var radio = el("input", { type: "radio", name: "attach_to", value: String(c.id) });
      if (i === 0) radio.checked = true;
      label.appendChild(radio);
      label.appendChild(document.createTextNode(" " + c.code + " · " + c.address + " · " + c.status_label +
        " · 相距 " + c.distance_m + " 米" + (c.offer === "rebound" ? "（已销账：确认即为回潮，重新打开）" : "（并入该点位）")));
      form.appendChild(label);
    });
    var other = el("label", { "class": "choice" });
    var otherRadio = el("input", { type: "radio", name: "attach_to", value: "" });
    other.appendChild(otherRadio);
    other.appendChild(document.createTextNode(" 不是同一处，另行登记，理由："));
    var reason = el("input", { type: "text", name: "force_reason", maxlength: "500" });
    reason.addEventListener("input", function () { otherRadio.checked = true; });
    other.appendChild(reason);
    form.appendChild(other);
    form.appendChild(el("button", { type: "submit" }, "确认并发送"));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var chosen = form.querySelector("input[name=attach_to]:checked");
      delete item.fields.attach_to;
      delete item.fields.force_reason;
      if (chosen && chosen.value) item.fields.attach_to = chosen.value;
      else if (reason.value.trim()) item.fields.force_reason = reason.value.trim();
      else { window.alert("请选择并入的点位，或填写另行登记的理由"); return; }
      item.key = key(); // another request: another key
      item.state = "waiting";
      item.message = "";
      item.candidates = null;
      put(QUEUE, item).then(render).then(function () { sync(false); });
    });
    return form;
  }

  /** Stops ticked offline show it on the route page. */
  function markStops(items) {
    items.forEach(function (item) {
      if (item.kind !== "visit") return;
      var li = document.getElementById("stop-" + item.ref);
      if (!li) return;
      li.classList.toggle("queued", item.state === "waiting" || item.state === "sending");
      var badge = li.querySelector(".fq-stop-mark");
      if (!badge) { badge = el("span", { "class": "fq-stop-mark" }); li.querySelector(".stop-head").appendChild(badge); }
      badge.textContent = " " + (item.body.visited === false ? "取消已到" : "✓ 已到") + "（" + LABELS[item.state] + "）";
    });
    items.forEach(function (item) {
      if (item.kind !== "result") return;
      var row = document.getElementById("site-" + item.ref);
      if (!row) return;
      row.classList.add("queued");
      var cell = row.querySelector("td:last-child");
      if (cell) cell.setAttribute("data-queued", (item.body.result === "pass" ? "合格" : "不合格") + "（" + LABELS[item.state] + "）");
    });
  }

  // ---------------------------------------------------------------- storage (point 5)
  var persistAsked = false;
  function askPersistence() {
    if (persistAsked || !navigator.storage || !navigator.storage.persist) return;
    persistAsked = true;
    navigator.storage.persisted().then(function (yes) { if (!yes) return navigator.storage.persist(); }).catch(function () {});
  }
  function storageLine() {
    if (!navigator.storage || !navigator.storage.estimate) return Promise.resolve(null);
    return navigator.storage.estimate().then(function (e) {
      var line = el("p", { "class": "small muted", id: "fq-storage" },
        "本机存储：已用 " + mb(e.usage || 0) + "，上限约 " + mb(e.quota || 0));
      if (e.quota && e.usage / e.quota > FULL) {
        line.className = "small error";
        line.textContent += "——存储快满了，请尽快联网发送记录，移除已发送的项目，或清理其他已带走的巡查（待发送的记录和照片不会被清理）";
      }
      return line;
    }).catch(function () { return null; });
  }

  // ---------------------------------------------------------------- housekeeping (point 5)
  /* What the app may delete to make room: the copies taken along (the Cache Storage CACHE:
     pages, thumbnails, basemap tiles; and their PACKS records). The queue is not among them,
     by construction: every deletion below goes through dispose(), which refuses QUEUE. Only
     the inspector removes a queue item (one sent, or refused and given up), and a sent item
     no longer holds its photos. The service worker never opens IndexedDB. */
  var FULL = 0.8; // share of the quota from which the panel warns and old packs are dropped
  var tidied = "";
  function dispose(store, k) {
    if (store === QUEUE) return Promise.reject(new Error("the queue is never cleared by housekeeping"));
    return remove(store, k);
  }
  function nearlyFull() {
    if (!navigator.storage || !navigator.storage.estimate) return Promise.resolve(false);
    return navigator.storage.estimate().then(function (e) { return !!e.quota && e.usage / e.quota > FULL; },
      function () { return false; });
  }
  /** Drops the packs taken along other than `keepKey`, oldest first: all of them, or with
      `whileFull` only as long as the storage is nearly full. Their stored copies go too,
      except what the kept pack also uses. Answers how many packs were dropped. */
  function dropPacks(keepKey, whileFull) {
    if (!window.caches) return Promise.resolve(0);
    return Promise.all([all(PACKS), caches.open(CACHE)]).then(function (got) {
      var packs = got[0], cache = got[1], keep = {};
      packs.forEach(function (p) {
        if (p.key === keepKey) (p.urls || []).forEach(function (u) { keep[u] = true; });
      });
      var victims = packs.filter(function (p) { return p.key !== keepKey; });
      victims.sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      var step = function (i) {
        if (i >= victims.length) return Promise.resolve(i);
        return (whileFull ? nearlyFull() : Promise.resolve(true)).then(function (go) {
          if (!go) return i;
          var urls = (victims[i].urls || []).filter(function (u) { return !keep[u]; });
          return Promise.all(urls.map(function (u) { return cache.delete(u); }))
            .then(function () { return dispose(PACKS, victims[i].key); })
            .then(function () { return step(i + 1); });
        });
      };
      return step(0);
    });
  }
  function currentPack() {
    return /^\/patrols\/\d+$/.test(location.pathname) ? "patrol-" + patrolOfPath(location.pathname) : "";
  }
  function clearButton(packs) {
    var keepKey = currentPack();
    var others = packs.filter(function (p) { return p.key !== keepKey; }).length;
    if (!others) return null;
    var button = el("button", { type: "button", id: "fq-clear", "class": "fq-drop" },
      keepKey ? "清理其他已带走的巡查" : "清理已带走的巡查");
    button.addEventListener("click", function () {
      if (!window.confirm("将删除手机上保存的" + (keepKey ? "其他" : "") + "巡查页面、照片缩略图和底图；" +
        "待发送的记录和照片不会删除。确定吗？")) return;
      dropPacks(keepKey, false).then(function (n) {
        tidied = "已清理带走的巡查 " + n + " 项（待发送的记录和照片未动）";
        return render();
      });
    });
    return button;
  }

  // ---------------------------------------------------------------- adding to the queue
  function enqueue(item) {
    item.key = key();
    item.state = "waiting";
    item.recorded_at = item.recorded_at || nowIso();
    item.created = Date.now();
    askPersistence();
    return put(QUEUE, item);
  }

  function patrolOfPath(path) {
    var m = /^\/patrols\/(\d+)/.exec(path);
    return m ? m[1] : "";
  }

  // stop ticks on the route page
  document.querySelectorAll("form.tick").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (navigator.onLine) return; // online: the page's own form
      ev.preventDefault();
      var m = /^\/patrols\/(\d+)\/stops\/(\d+)\/visit/.exec(new URL(form.action).pathname);
      if (!m) return;
      var visited = (form.querySelector("input[name=visited]") || {}).value !== "0";
      var note = (form.querySelector("input[name=note]") || {}).value || "";
      var code = form.closest("li") && form.closest("li").querySelector(".stop-head a");
      enqueue({
        kind: "visit", ref: m[2], patrol_id: m[1],
        url: "/api/v1/patrols/" + m[1] + "/stops/" + m[2] + "/visit",
        label: (visited ? "已到 " : "取消已到 ") + (code ? code.textContent : "点位"),
        body: { visited: visited, note: note || null },
      }).then(render);
    });
  });

  // spot-check results on an inspector's batch page
  document.querySelectorAll("form[action*='/sampling/batches/'][action$='/result']").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (navigator.onLine) return;
      ev.preventDefault();
      var m = /\/sampling\/batches\/(\d+)\/sites\/(\d+)\/result/.exec(new URL(form.action).pathname);
      var result = form.querySelector("[name=result]").value;
      var notes = (form.querySelector("[name=notes]") || {}).value || "";
      if (result === "fail" && !notes.trim()) { window.alert("不合格须填写说明（发现的问题）"); return; }
      var row = form.closest("tr");
      var code = row && row.children[1] ? row.children[1].textContent.trim() : "";
      if (!code) { var h1 = document.querySelector("main h1"); code = h1 ? h1.textContent.replace("抽查点位", "").trim() : "点位"; }
      var input = form.querySelector("input[name=photos]");
      var files = Array.prototype.slice.call((input && input.files) || []);
      Promise.all(files.map(function (f) { return GisPhotos.prepare(f, maxSide()); })).then(function (prepared) {
        return enqueue({
          kind: "result", ref: m[2], batch_id: m[1],
          url: "/api/v1/samples/" + m[1] + "/sites/" + m[2] + "/result",
          photo_url: "/api/v1/samples/" + m[1] + "/sites/" + m[2] + "/photos",
          label: "抽查结果 " + code + "：" + (result === "pass" ? "合格" : "不合格"),
          body: { result: result, notes: notes },
          photos: prepared.map(function (f) { return { name: f.name, type: f.type, blob: f, key: key() }; }),
          photo_ids: [],
        });
      }).then(function () {
        if (!document.getElementById("site-" + m[2]) && document.getElementById("check-form")) {
          document.getElementById("check-form").hidden = true;
        }
        return render();
      });
    });
  });

  // the finding form: photos shrunk before they go (online by the page's form, offline into
  // the queue)
  var finding = document.getElementById("finding-form");
  if (finding) {
    var input = document.getElementById("photos");
    var ready = false;
    finding.addEventListener("submit", function (ev) {
      if (ready) return;
      ev.preventDefault();
      var files = Array.prototype.slice.call(input.files || []);
      var state = document.getElementById("finding-state");
      if (state) state.textContent = "正在处理照片…";
      Promise.all(files.map(function (f) { return GisPhotos.prepare(f, maxSide()); })).then(function (prepared) {
        if (navigator.onLine) {
          var dt = new DataTransfer();
          prepared.forEach(function (f) { dt.items.add(f); });
          input.files = dt.files;
          ready = true;
          finding.submit();
          return;
        }
        var fields = {};
        new FormData(finding).forEach(function (value, name) {
          if (typeof value === "string" && value !== "" && name !== "csrf_token") fields[name] = value;
        });
        return enqueue({
          kind: "finding", ref: fields.patrol_id || "", patrol_id: fields.patrol_id || "",
          url: "/api/v1/findings",
          label: "巡查发现：" + (fields.note || "").slice(0, 30),
          fields: fields,
          photos: prepared.map(function (f) { return { name: f.name, type: f.type, blob: f }; }),
        }).then(function () {
          if (fields.patrol_id) location.assign("/patrols/" + fields.patrol_id + "#field-queue");
          else render().then(function () { if (state) state.textContent = "已存入待发送队列"; });
        });
      });
    });
  }

  // ---------------------------------------------------------------- sending
  var busy = false, timer = null;
  function answerText(reply) {
    if (!reply.body || typeof reply.body !== "object") return "服务器答复 " + reply.status;
    return reply.body.message || ("服务器答复 " + reply.status);
  }
  function transient(reply) {
    return reply.network || reply.status === 0 || reply.status === 408 || reply.status === 429 || reply.status >= 500;
  }

  function sendOne(item) {
    if (item.kind === "finding") {
      var form = new FormData();
      Object.keys(item.fields).forEach(function (k) { form.append(k, item.fields[k]); });
      form.append("recorded_at", item.recorded_at);
      item.photos.forEach(function (p) { form.append("photos", p.blob, p.name); });
      return GisPhotos.send({ url: item.url, form: form, key: item.key });
    }
    if (item.kind === "result" && item.photos && item.photos.length) {
      return sendPhotosFirst(item);
    }
    return sendJson(item);
  }

  /** A result's photos go first, one request each with its own key; their ids are kept in
      the item as they arrive (a retry sends only what is missing), then the result. */
  function sendPhotosFirst(item) {
    var ids = item.photo_ids || (item.photo_ids = []);
    var next = function (i) {
      if (i >= item.photos.length) {
        item.body.photo_ids = ids.slice();
        return sendJson(item);
      }
      if (ids[i]) return next(i + 1);
      var p = item.photos[i];
      if (!p.blob) return Promise.resolve({ status: 422, body: { message: "照片已不在手机上" }, network: false });
      var form = new FormData();
      form.append("file", p.blob, p.name);
      return GisPhotos.send({ url: item.photo_url, form: form, key: p.key }).then(function (reply) {
        if (reply.status !== 201 && reply.status !== 200) return reply;
        ids[i] = reply.body.id;
        return put(QUEUE, item).then(function () { return next(i + 1); });
      });
    };
    return next(0);
  }

  function sendJson(item) {
    var body = Object.assign({}, item.body, { recorded_at: item.recorded_at });
    return fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRF-Token": csrf(), "Idempotency-Key": item.key },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var parsed = text;
        try { parsed = JSON.parse(text); } catch (e) { /* kept as text */ }
        return { status: response.status, body: parsed, network: false };
      });
    }, function () { return { status: 0, body: null, network: true }; });
  }

  function done(item, reply) {
    var b = reply.body || {};
    if (item.kind === "finding") return "已登记：" + (b.action_label || "") + "（点位 " + (b.site_code || b.site_id) + "）";
    if (item.kind === "result") return "已录入" + (b.reopened ? "，点位已重新打开" : "");
    return "已记录";
  }

  function runQueue() {
    return all(QUEUE).then(function (items) {
      var next = items.filter(function (i) { return i.state === "waiting"; });
      var step = function (k) {
        if (k >= next.length) return true;
        var item = next[k];
        return sendOne(item).then(function (reply) {
          if (reply.status >= 200 && reply.status < 300) {
            item.state = "sent";
            item.message = done(item, reply);
            item.photos = item.photos ? item.photos.map(function (p) { return { name: p.name, type: p.type }; }) : item.photos;
          } else if (transient(reply)) {
            lastError = reply.network ? "网络不通，稍后自动重发" : "服务器暂时无法处理（" + reply.status + "），稍后自动重发";
            return false;
          } else if (reply.status === 401) {
            lastError = "登录已过期：请重新登录后再发送（记录仍保存在手机上）";
            return false;
          } else if (reply.status === 409 && reply.body && reply.body.candidates) {
            item.state = "question";
            item.candidates = reply.body.candidates;
            item.message = answerText(reply);
          } else {
            item.state = "refused";
            item.message = answerText(reply) + "——服务器未保存此项；可放弃，或按说明处理后重新记录";
          }
          return put(QUEUE, item).then(function () { return step(k + 1); });
        });
      };
      return step(0);
    });
  }

  function sync(byHand) {
    if (busy || !navigator.onLine) return Promise.resolve();
    busy = true;
    lastError = "";
    var run = function () { return runQueue(); };
    var locked = navigator.locks ? navigator.locks.request("gis-field-sync", run) : run();
    return locked.then(function (finished) {
      busy = false;
      clearTimeout(timer);
      if (!finished) timer = setTimeout(function () { sync(false); }, RETRY_MS);
      return render();
    }, function () { busy = false; return render(); });
  }
  window.GisField = { sync: sync, render: render, dropPacks: dropPacks };

  window.addEventListener("online", function () { render(); sync(false); });
  window.addEventListener("offline", function () { render(); });

  // ---------------------------------------------------------------- taking a patrol along
  /** Have the service worker store these addresses (and the files their pages use). */
  function storeViaWorker(urls) {
    if (!("serviceWorker" in navigator)) return Promise.resolve({ count: 0, bytes: 0 });
    return navigator.serviceWorker.ready.then(function (reg) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (e) { resolve(e.data); };
        reg.active.postMessage({ type: "store", urls: urls }, [channel.port2]);
      });
    });
  }

  function takeAlong(patrolId) {
    return fetch("/api/v1/patrols/" + patrolId + "/offline", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (pack) {
        var urls = pack.pages.concat(pack.thumbnails, pack.files || [], pack.basemap || []);
        return storeViaWorker(urls).then(function (got) {
          return put(PACKS, { key: "patrol-" + patrolId, title: pack.title || ("巡查 " + patrolId),
            saved_at: nowIso(), count: got.count, bytes: got.bytes, urls: urls });
        });
      })
      .then(function () { return dropPacks("patrol-" + patrolId, true); })
      .then(function (n) {
        if (n) tidied = "存储将满：已移除较早带走的巡查 " + n + " 项（待发送的记录和照片未动）";
      });
  }

  // ---------------------------------------------------------------- the device on the map
  function showPosition() {
    var holder = document.querySelector("[data-map]");
    var map = holder && window[holder.getAttribute("data-map")];
    if (!map || !window.L || !navigator.geolocation) return;
    var marker = null;
    navigator.geolocation.watchPosition(function (pos) {
      var at = [pos.coords.latitude, pos.coords.longitude];
      if (!marker) {
        marker = L.circleMarker(at, { radius: 8, color: "#fff", weight: 3, fillColor: "#d9480f", fillOpacity: 1 })
          .bindTooltip("我的位置").addTo(map);
        holder.setAttribute("data-position", at.join(","));
      } else marker.setLatLng(at);
    }, function () {}, { enableHighAccuracy: true, maximumAge: 30000 });
  }

  // ---------------------------------------------------------------- start
  function start() {
    var patrol = patrolOfPath(location.pathname);
    var routePage = /^\/patrols\/\d+$/.test(location.pathname);
    var tasks = [render()];
    if (routePage) showPosition();
    if (routePage && navigator.onLine && window.caches) {
      tasks.push(takeAlong(patrol).then(render).catch(function () {}));
      askPersistence();
    }
    if (navigator.onLine && !routePage && !(navigator.serviceWorker && navigator.serviceWorker.controller)) {
      // the first visit, before the worker was there: it stores this page and its files
      tasks.push(storeViaWorker([location.pathname + location.search]).catch(function () {}));
    }
    if (navigator.onLine) tasks.push(sync(false));
    Promise.all(tasks).then(function () { document.documentElement.setAttribute("data-field-ready", "1"); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

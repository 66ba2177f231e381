/* The service worker of the field pages (served at /sw.js; version __VERSION__).

   It answers only for what field work needs and leaves every other request to the network:
   - the app's own files (/static/…): from the cache at once, refreshed in the background;
   - the field pages (/patrols…, /sampling…, a site's page /sites/<id>): from the network,
     stored on the way; without a connection (or after 8 s of a dead one) the stored copy;
   - photo thumbnails: the stored copy (taken along with a patrol), else the network.
   Nothing that changes data (POST…) and nothing of the API goes through it: the pages' own
   offline queue (field.js) sends those, so the server's answers reach the page directly.
   It never opens IndexedDB, where that queue keeps the photos waiting to be sent: all it
   ever deletes are its own caches of an older version (gis-static-…). */
"use strict";

var VERSION = "__VERSION__";
var STATIC = "gis-static-" + VERSION;
var FIELD = "gis-field"; // pages and thumbnails taken along: kept across versions
var PAGE = /^\/(patrols(\/.*)?|sampling(\/.*)?|sites\/\d+(\/workflow)?)$/;
var THUMB = /^\/(photos\/\d+\/thumb|basemap\/tiles\/.*)$/; // taken along: stored copy first
var PATIENCE_MS = 8000;

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("gis-static-") === 0 && k !== STATIC;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function stored(request) {
  return caches.match(request, { ignoreVary: true });
}

function staticFile(event) {
  var request = event.request;
  var refresh = fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(STATIC).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
  return stored(request).then(function (hit) {
    if (hit) { event.waitUntil(refresh.catch(function () {})); return hit; }
    return refresh;
  });
}

function offlinePage() {
  var html = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>离线</title></head>" +
    "<body style=\"font-family: sans-serif; padding: 1em\"><h1>当前无网络</h1>" +
    "<p>这一页没有保存在手机上。请回到已带走的巡查路线页（打开过的巡查和抽查任务可离线使用）。</p>" +
    "<p><a href=\"/patrols/\">巡查记录</a></p></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function fieldPage(event) {
  var request = event.request;
  var network = fetch(request).then(function (response) {
    var type = response.headers.get("Content-Type") || "";
    if (response.status === 200 && !response.redirected && type.indexOf("text/html") === 0) {
      var copy = response.clone();
      event.waitUntil(caches.open(FIELD).then(function (cache) { return cache.put(request.url.split("#")[0], copy); }));
    }
    return response;
  });
  return stored(request).then(function (hit) {
    if (!hit) return network.catch(offlinePage);
    var patience = new Promise(function (resolve) { setTimeout(function () { resolve(hit); }, PATIENCE_MS); });
    return Promise.race([network.catch(function () { return hit; }), patience]);
  });
}

function thumbnail(event) {
  return stored(event.request).then(function (hit) { return hit || fetch(event.request); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) { event.respondWith(staticFile(event)); return; }
  if (THUMB.test(url.pathname)) { event.respondWith(thumbnail(event)); return; }
  if (request.mode === "navigate" && PAGE.test(url.pathname)) { event.respondWith(fieldPage(event)); }
});

/* The pages ask the worker to store what a patrol needs ({type: "store", urls, files}): the
   worker fetches it, so a page left early does not cut it off. The HTML pages' own files
   (/static/…) are stored too. Answers {count, bytes} on the message's port. */
var OWN_FILE = /(?:href|src)="(\/static\/[^"]+)"/g;

function storeAll(urls) {
  var seen = {}, count = 0, bytes = 0;
  return caches.open(FIELD).then(function (cache) {
    var one = function (url) {
      if (seen[url]) return Promise.resolve(null);
      seen[url] = true;
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected) return null;
        return response.clone().blob().then(function (blob) {
          count += 1; bytes += blob.size;
          return cache.put(url, response).then(function () { return blob; });
        });
      }).catch(function () { return null; });
    };
    return Promise.all(urls.map(function (url) {
      return one(url).then(function (blob) {
        if (!blob || (blob.type || "").indexOf("text/html") !== 0) return null;
        return blob.text().then(function (html) {
          var files = [], m;
          OWN_FILE.lastIndex = 0;
          while ((m = OWN_FILE.exec(html))) files.push(m[1].replace(/&amp;/g, "&"));
          return Promise.all(files.map(one));
        });
      });
    }));
  }).then(function () { return { count: count, bytes: bytes }; });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "store" || !Array.isArray(data.urls)) return;
  var port = event.ports && event.ports[0];
  event.waitUntil(storeAll(data.urls).then(function (result) {
    if (port) port.postMessage(result);
  }));
});

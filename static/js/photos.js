/* Photos on weak networks: a large JPEG is shrunk in the browser to the configured longest
   side before it is sent, its EXIF segment (time, GPS: the server's evidence) copied into the
   smaller file; uploads go by XMLHttpRequest to show their progress; what was prepared stays
   in memory, so a failed upload is retried without choosing the files again.

   window.GisPhotos = { prepare(file, maxSide) -> Promise<File>, send(opts) -> Promise<reply> }
   and the site page's upload form (form[data-photo-upload]). Hand-written, served by the app. */
(function () {
  "use strict";

  // ------------------------------------------------------------ EXIF segment of a JPEG
  /** The APP1 "Exif" segment of a JPEG (marker included) or null. */
  function exifSegment(bytes) {
    if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    var i = 2;
    while (i + 4 <= bytes.length && bytes[i] === 0xff) {
      var marker = bytes[i + 1];
      if (marker === 0xda || marker === 0xd9) break; // image data: no more headers
      var len = (bytes[i + 2] << 8) | bytes[i + 3];
      if (marker === 0xe1 && bytes[i + 4] === 0x45 && bytes[i + 5] === 0x78 &&
          bytes[i + 6] === 0x69 && bytes[i + 7] === 0x66) {
        return bytes.slice(i, i + 2 + len);
      }
      i += 2 + len;
    }
    return null;
  }

  /** Set the Orientation tag (0x0112) of IFD0 to 1 in an APP1 segment: the canvas has
      already turned the pixels upright. */
  function uprightExif(seg) {
    var t = 10; // TIFF header after FFE1, length, "Exif\0\0"
    if (seg.length < t + 8) return seg;
    var little = seg[t] === 0x49;
    var u16 = function (o) { return little ? seg[o] | (seg[o + 1] << 8) : (seg[o] << 8) | seg[o + 1]; };
    var u32 = function (o) {
      return little ? (seg[o] | (seg[o + 1] << 8) | (seg[o + 2] << 16)) + seg[o + 3] * 16777216
        : ((seg[o + 1] << 16) | (seg[o + 2] << 8) | seg[o + 3]) + seg[o] * 16777216;
    };
    var ifd = t + u32(t + 4);
    if (ifd + 2 > seg.length) return seg;
    var n = u16(ifd);
    for (var k = 0; k < n; k++) {
      var e = ifd + 2 + k * 12;
      if (e + 12 > seg.length) break;
      if (u16(e) === 0x0112) {
        if (little) { seg[e + 8] = 1; seg[e + 9] = 0; } else { seg[e + 8] = 0; seg[e + 9] = 1; }
      }
    }
    return seg;
  }

  /** The canvas JPEG with the original's EXIF segment right after its start (the canvas's
      own JFIF header dropped). */
  function withExif(jpeg, seg) {
    var rest = 2;
    if (jpeg[2] === 0xff && jpeg[3] === 0xe0) rest = 4 + ((jpeg[4] << 8) | jpeg[5]);
    var out = new Uint8Array(2 + seg.length + jpeg.length - rest);
    out.set(jpeg.subarray(0, 2), 0);
    out.set(seg, 2);
    out.set(jpeg.subarray(rest), 2 + seg.length);
    return out;
  }

  function readBytes(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function canvasJpeg(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (b) { if (b) resolve(b); else reject(new Error("toBlob")); },
        "image/jpeg", quality);
    });
  }

  /** The file to send: a JPEG longer than maxSide shrunk to it (EXIF kept), anything else as
      chosen. Never fails: when the browser cannot decode it, the original is sent. */
  function prepare(file, maxSide) {
    if (!maxSide || !/^image\/jpe?g$/i.test(file.type || "") || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    var original;
    return readBytes(file).then(function (bytes) {
      original = bytes;
      return createImageBitmap(file);
    }).then(function (bitmap) {
      var w = bitmap.width, h = bitmap.height, longest = Math.max(w, h);
      if (longest <= maxSide) { bitmap.close(); return file; }
      var scale = maxSide / longest;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(h * scale);
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return canvasJpeg(canvas, 0.88).then(readBytes).then(function (jpeg) {
        var seg = exifSegment(original);
        var data = seg ? withExif(jpeg, uprightExif(seg)) : jpeg;
        return new File([data], file.name, { type: "image/jpeg", lastModified: file.lastModified });
      });
    }).catch(function () { return file; });
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    if (meta) return meta.content;
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  /** POST a FormData with upload progress. opts: url, form (FormData), key (Idempotency-Key),
      onProgress(fraction). Resolves {status, body (parsed JSON or text), network: false};
      a network failure resolves {status: 0, network: true}. */
  function send(opts) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", opts.url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      if (opts.key) xhr.setRequestHeader("Idempotency-Key", opts.key);
      if (opts.headers) Object.keys(opts.headers).forEach(function (h) { xhr.setRequestHeader(h, opts.headers[h]); });
      if (opts.onProgress) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) opts.onProgress(e.loaded / e.total); };
      }
      xhr.onload = function () {
        var body = xhr.responseText;
        try { body = JSON.parse(body); } catch (e) { /* not JSON: kept as text */ }
        resolve({ status: xhr.status, body: body, network: false });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve({ status: 0, body: null, network: true }); };
      xhr.send(opts.form);
    });
  }

  /** The message of a JSON error answer (the app's {"error": {...}} or {"message": ...}). */
  function errorText(reply) {
    if (reply.network) return "网络中断，照片未送达";
    var b = reply.body && typeof reply.body === "object" ? reply.body : {};
    return b.message || ("服务器答复 " + reply.status);
  }

  window.GisPhotos = { prepare: prepare, send: send, newKey: newKey, errorText: errorText,
    exifSegment: exifSegment };

  // ------------------------------------------------------------ the site page's upload form
  var FLASH = "gis-photo-uploaded";
  document.querySelectorAll("form[data-photo-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var state = form.querySelector(".upload-state");
    var retry = form.querySelector(".upload-retry");
    var maxSide = parseInt(form.getAttribute("data-max-side") || "0", 10);
    var prepared = null; // {file, key} of the last attempt: a retry sends it again
    var say = function (t, bad) { state.textContent = t; state.classList.toggle("error", !!bad); };
    var done = sessionStorage.getItem(FLASH);
    if (done) {
      done = JSON.parse(done);
      sessionStorage.removeItem(FLASH);
      say(done.text);
      state.setAttribute("data-sent", done.sent); // how far the progress bar went
    }

    input.addEventListener("change", function () { prepared = null; retry.hidden = true; });

    function attempt() {
      var fields = new FormData(form);
      fields.delete("csrf_token");
      fields.delete("next");
      fields.set("file", prepared.file, prepared.file.name);
      retry.hidden = true;
      bar.hidden = false;
      bar.value = 0;
      say("正在上传（" + (prepared.file.size / 1048576).toFixed(1) + " MB）…");
      send({ url: form.getAttribute("data-photo-upload"), form: fields, key: prepared.key,
        onProgress: function (f) {
          bar.value = f;
          prepared.sent = Math.max(prepared.sent || 0, f);
          say("正在上传 " + Math.round(f * 100) + "%");
        } })
        .then(function (reply) {
          if (reply.status === 200 || reply.status === 201) {
            bar.value = 1;
            var warn = (reply.body.warnings || []).map(function (w) { return "注意：" + w.message; });
            sessionStorage.setItem(FLASH, JSON.stringify({
              text: ["已上传" + reply.body.kind_label + "照片"].concat(warn).join("；"),
              sent: prepared.sent || 0 }));
            location.reload();
            return;
          }
          bar.hidden = true;
          say("上传失败：" + errorText(reply), true);
          retry.hidden = false;
          if (!reply.network && reply.status !== 408 && reply.status < 500) prepared.key = newKey();
        });
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (prepared) { attempt(); return; }
      var file = input.files && input.files[0];
      if (!file) { say("请选择要上传的照片（照片）", true); return; }
      say("正在处理照片…");
      prepare(file, maxSide).then(function (ready) {
        prepared = { file: ready, key: newKey() };
        attempt();
      });
    });
    retry.addEventListener("click", function () { if (prepared) attempt(); });
  });
})();

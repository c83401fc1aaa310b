// verbatim pages: copy buttons, jumping to a moment of a call, auto-submitting filters and
// showing a rebuild's progress. No framework; everything is progressive enhancement.
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function initCopyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-copy]");
      if (!button) { return; }
      var label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      copy(button.dataset.copy).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
      }, function () {
        button.textContent = "Press Ctrl+C";
      }).then(function () {
        window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
        }, 1600);
      });
    });
  }

  // #t=SECONDS lands on the utterance being spoken then; #u-ID on that utterance.
  function targetOf(hash) {
    var match = /^#t=(\d+(?:\.\d+)?)$/.exec(hash);
    if (match) {
      var seconds = parseFloat(match[1]);
      var best = null;
      document.querySelectorAll(".utt[data-t]").forEach(function (el) {
        if (parseFloat(el.dataset.t) <= seconds) { best = el; }
      });
      return best || document.querySelector(".utt[data-t]");
    }
    if (/^#u-\d+$/.test(hash)) { return document.getElementById(hash.slice(1)); }
    return null;
  }

  function jumpToHash() {
    var target = targetOf(window.location.hash);
    if (!target) { return; }
    document.querySelectorAll(".utt.is-target").forEach(function (el) {
      el.classList.remove("is-target");
    });
    target.classList.add("is-target");
    target.scrollIntoView({ block: "center" });
  }

  function initAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (event.target.tagName === "SELECT") { form.requestSubmit(); }
      });
    });
  }

  function initJobProgress() {
    var box = document.querySelector("[data-job-url]");
    if (!box) { return; }
    var bar = box.querySelector("progress");
    var status = box.querySelector(".job-status");
    function poll() {
      fetch(box.dataset.jobUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (job) {
          bar.value = job.progress;
          status.textContent = job.status === "running"
            ? Math.round(job.progress * 100) + "% done" : job.status;
          if (job.status === "done") {
            status.textContent = "done — refreshing…";
            window.location.replace(box.dataset.doneUrl);
          } else if (job.status === "failed") {
            box.classList.add("failed");
            status.textContent = "failed: " + (job.error || "unknown error");
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          status.textContent = "could not read the job's status; reload the page";
        });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initCopyButtons();
    initAutosubmit();
    initJobProgress();
    jumpToHash();
  });
  window.addEventListener("hashchange", jumpToHash);
})();

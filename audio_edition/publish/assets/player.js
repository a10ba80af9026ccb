/* audio-edition episode page: chapter and transcript links seek the player, skip and speed
   controls, the spoken sentence followed in the transcript, and the listening position
   remembered per episode (offered back on the next visit). Without this script the links
   open the MP3 at their time (a media fragment) and the native player still works. */
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var controls = document.getElementById("player-controls");
  if (!audio || !controls) {
    return;
  }
  var status = document.getElementById("player-status");
  var follow = document.getElementById("follow");
  var rate = document.getElementById("rate");
  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var chapters = Array.prototype.slice.call(document.querySelectorAll("a.chapter[data-start]"));
  var current = { cue: null, chapter: null };
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var resume = document.getElementById("resume");
  var positionKey = "position." + audio.getAttribute("data-episode");
  var RESUME_FROM_S = 5;    /* a position this early is not worth offering */
  var FINISHED_WITHIN_S = 10; /* this close to the end counts as heard to the end */
  var SAVE_EVERY_S = 5;     /* while playing, the position is saved this often */
  var lastSaved = null;

  function remember(key, value) {
    try { window.localStorage.setItem("audio-edition." + key, value); } catch (e) { /* private mode */ }
  }
  function recall(key) {
    try { return window.localStorage.getItem("audio-edition." + key); } catch (e) { return null; }
  }
  function forget(key) {
    try { window.localStorage.removeItem("audio-edition." + key); } catch (e) { /* private mode */ }
  }
  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (r < 10 ? "0" : "") + r;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }
  function announce(text) {
    status.textContent = text;
  }
  /* the last item whose start is at or before t (items are in time order) */
  function at(items, t) {
    var lo = 0, hi = items.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (parseFloat(items[mid].getAttribute("data-start")) <= t + 0.05) { found = mid; lo = mid + 1; }
      else { hi = mid - 1; }
    }
    return found < 0 ? null : items[found];
  }
  function mark(kind, element) {
    if (current[kind] === element) { return false; }
    if (current[kind]) { current[kind].removeAttribute("aria-current"); }
    if (element) { element.setAttribute("aria-current", "true"); }
    current[kind] = element;
    return true;
  }
  function update() {
    var t = audio.currentTime;
    var chapterChanged = mark("chapter", at(chapters, t));
    if (chapterChanged && current.chapter && !audio.paused) {
      announce("正在播放：" + current.chapter.querySelector(".chapter-title").textContent);
    }
    if (mark("cue", at(cues, t)) && current.cue && follow.checked) {
      current.cue.scrollIntoView({ block: "nearest", behavior: reduceMotion ? "auto" : "smooth" });
    }
  }
  /* remember where the listener is; an early position (a stray press of play) keeps the one
     saved before, and the end forgets it (nothing left to continue) */
  function savePosition() {
    var t = audio.currentTime;
    var finished = audio.ended || (isFinite(audio.duration) && audio.duration - t < FINISHED_WITHIN_S);
    if (finished) {
      forget(positionKey);
    } else if (t >= RESUME_FROM_S) {
      remember(positionKey, t.toFixed(1));
    }
    lastSaved = t;
  }
  function offerResume() {
    var saved = parseFloat(recall(positionKey));
    if (!(saved >= RESUME_FROM_S)) { return; }
    document.getElementById("resume-time").textContent = clock(saved);
    resume.hidden = false;
    document.getElementById("resume-button").addEventListener("click", function () {
      seek(saved);
      resume.hidden = true;
      announce("从 " + clock(saved) + " 继续播放");
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () { /* the listener presses play */ }); }
    });
  }
  function seek(seconds) {
    var end = isFinite(audio.duration) ? audio.duration : Infinity;
    audio.currentTime = Math.min(Math.max(0, seconds), end);
    update();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-start]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    var start = parseFloat(link.getAttribute("data-start"));
    seek(start);
    var title = link.querySelector(".chapter-title");
    announce("已跳到 " + clock(start) + (title ? "：" + title.textContent : ""));
  });
  controls.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-skip]");
    if (button) {
      seek(audio.currentTime + parseFloat(button.getAttribute("data-skip")));
      announce("当前位置 " + clock(audio.currentTime));
    }
  });
  rate.addEventListener("change", function () {
    audio.playbackRate = parseFloat(rate.value);
    remember("rate", rate.value);
  });
  follow.addEventListener("change", function () {
    remember("follow", follow.checked ? "1" : "0");
    if (follow.checked && current.cue) {
      current.cue.scrollIntoView({ block: "nearest", behavior: reduceMotion ? "auto" : "smooth" });
    }
  });
  audio.addEventListener("timeupdate", function () {
    update();
    if (!audio.paused && (lastSaved === null || Math.abs(audio.currentTime - lastSaved) >= SAVE_EVERY_S)) {
      savePosition();
    }
  });
  audio.addEventListener("seeked", function () {
    update();
    savePosition();
  });
  audio.addEventListener("pause", savePosition);
  audio.addEventListener("ended", savePosition);
  audio.addEventListener("play", function () { resume.hidden = true; });
  window.addEventListener("pagehide", function () {
    if (lastSaved !== null) { savePosition(); }  /* only a position this visit reached */
  });
  audio.addEventListener("ratechange", function () {
    if (rate.value !== String(audio.playbackRate)) { rate.value = String(audio.playbackRate); }
  });
  audio.addEventListener("loadedmetadata", function () {
    audio.playbackRate = parseFloat(rate.value);
  });

  var savedRate = recall("rate");
  if (savedRate && rate.querySelector('option[value="' + savedRate + '"]')) {
    rate.value = savedRate;
    audio.playbackRate = parseFloat(savedRate);
  }
  follow.checked = recall("follow") === "1";
  offerResume();
  controls.hidden = false;
  if (audio.currentTime > 0) {
    update();
  }
})();

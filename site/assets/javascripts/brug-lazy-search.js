/* Brug: load the site search only when someone wants to search.
 *
 * Material for MkDocs (9.8) requests search/search_index.json with XMLHttpRequest and starts its
 * search worker (which then loads lunr and the Dutch stemmer) as soon as a page opens: about
 * 45 KB gzipped and CPU time on a phone, before anyone types. This file runs just before
 * Material's bundle and holds both back until the visitor shows they want to search: focus on
 * (or a tap on) the search field or the search button, the search keyboard shortcuts (they
 * focus the field), or a page opened from a search result (?h=) or a search link (?q=).
 * Then the held request is sent and the worker is started; Material does the rest as usual.
 *
 * Dutch word forms: Material adds a wildcard to every word ("schulden" -> "schulden*") and lunr
 * does not stem wildcard terms, so an inflected word never meets the stemmed index ("schuld").
 * The worker stand-in below also sends each plain word once without wildcard ("schulden^1"),
 * which lunr stems with the Dutch stemmer: "schulden" finds the page about "schuld". Material
 * would then list "schulden" as missing under such a result (it compares the typed word with the
 * matched index term "schuld"); a word whose highlighted match in the result shares its start
 * is counted as found.
 *
 * Dutch stop words ("en", "de", "van"): lunr's Dutch pipeline leaves them out of the index, but
 * Material decides which typed words to list as missing with lunr's English stop word list. So
 * "wonen en zorg" showed "Niet gevonden: en" under every result, and "en" alone found whatever
 * starts with "en". The stand-in leaves Dutch stop words out of plain queries; a query of stop
 * words only finds nothing. STOP_WORDS is lunr.nl's list as Material bundles it
 * (tests/site/test_site_build.py checks that they stay the same).
 *
 * An external file, not an inline script: the backend's pages have a strict CSP.
 */
(function () {
  "use strict";

  var INDEX = /\/search\/search_index\.json$/;
  var WORKER = /\/assets\/javascripts\/workers\/search\.[0-9a-f]+\.min\.js$/;
  var QUERY = 2; /* Material's SearchMessageType.QUERY and .RESULT */
  var RESULT = 3;
  var MARK = /<mark[^>]*>([^<]+)<\/mark>/g;
  var PLAIN_WORD = /^[\p{L}\p{N}]{3,}$/u;
  var STOP_WORDS = new Set((
    "aan al alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door dus " +
    "een eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun iemand " +
    "iets ik in is ja je kan kon kunnen maar me meer men met mij mijn moet na naar niet niets " +
    "nog nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit uw van veel " +
    "voor want waren was wat werd wezen wie wil worden wordt zal ze zelf zich zij zijn zo " +
    "zonder zou"
  ).split(" "));
  var RealWorker = window.Worker;
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  var held = [];
  var wanted = false;

  function path(url) {
    try {
      return new URL(String(url), document.baseURI).pathname;
    } catch (error) {
      return "";
    }
  }

  function whenWanted(start) {
    if (wanted) {
      start();
    } else {
      held.push(start);
    }
  }

  function want() {
    if (wanted) { return; }
    wanted = true;
    XMLHttpRequest.prototype.open = open;
    XMLHttpRequest.prototype.send = send;
    var queue = held;
    held = [];
    queue.forEach(function (start) { start(); });
  }

  /* The index: keep the request Material opened, send it when search is wanted. */
  XMLHttpRequest.prototype.open = function (method, url) {
    this.brugLazyIndex = INDEX.test(path(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var xhr = this;
    var args = arguments;
    if (!xhr.brugLazyIndex) { return send.apply(xhr, args); }
    whenWanted(function () {
      try {
        send.apply(xhr, args);
      } catch (error) {
        /* Material dropped the request meanwhile (it aborts on unsubscribe). */
      }
    });
  };

  /* "schulden en wonen" -> "schulden wonen schulden^1 wonen^1": no stop words, the wildcard
     form (added by Material) for prefixes, the plain form for the stemmer. Queries with
     operators or quotes are left alone. */
  function withStems(query) {
    if (typeof query !== "string" || /["+\-~^*:]/.test(query)) { return query; }
    var words = query.trim().split(/\s+/).filter(function (word) {
      return !STOP_WORDS.has(word.toLowerCase());
    });
    var stems = words.filter(function (word) { return PLAIN_WORD.test(word); });
    return words.concat(stems.map(function (word) { return word + "^1"; })).join(" ");
  }

  function forWorker(message) {
    if (message && message.type === QUERY) {
      return { type: QUERY, data: withStems(message.data) };
    }
    return message;
  }

  /* "schulden" and a highlighted "Schuld": the same word in another form. */
  function sameStart(word, marked) {
    var n = 0;
    while (n < word.length && n < marked.length && word[n] === marked[n]) { n += 1; }
    return n >= Math.max(3, Math.min(word.length, marked.length) - 2);
  }

  function fromWorker(data) {
    if (!data || data.type !== RESULT || !data.data || !Array.isArray(data.data.items)) { return data; }
    data.data.items.forEach(function (group) {
      (Array.isArray(group) ? group : [group]).forEach(function (item) {
        if (!item || !item.terms) { return; }
        var marked = [];
        String(item.title || "").concat(" ", String(item.text || "")).replace(MARK, function (all, text) {
          marked.push(text.toLowerCase());
          return all;
        });
        Object.keys(item.terms).forEach(function (word) {
          if (item.terms[word] === false && marked.some(function (m) { return sameStart(word.toLowerCase(), m); })) {
            item.terms[word] = true;
          }
        });
      });
    });
    return data;
  }

  /* The worker: a stand-in that queues messages until the real worker is started. */
  if (RealWorker && typeof EventTarget === "function") {
    var LazyWorker = function (url, options) {
      var target = new EventTarget();
      var queue = [];
      var worker = null;
      target.postMessage = function (message) {
        message = forWorker(message);
        if (worker) { worker.postMessage(message); } else if (queue) { queue.push(message); }
      };
      target.terminate = function () {
        if (worker) { worker.terminate(); }
        queue = null;
      };
      whenWanted(function () {
        if (!queue) { return; }
        worker = new RealWorker(url, options);
        ["message", "messageerror", "error"].forEach(function (type) {
          worker.addEventListener(type, function (event) {
            target.dispatchEvent(type === "error"
              ? new ErrorEvent("error", { message: event.message })
              : new MessageEvent(type, { data: type === "message" ? fromWorker(event.data) : event.data }));
          });
        });
        queue.forEach(function (message) { worker.postMessage(message); });
        queue = null;
      });
      return target;
    };
    window.Worker = function Worker(url, options) {
      if (WORKER.test(path(url))) { return new LazyWorker(url, options); }
      return new RealWorker(url, options);
    };
    window.Worker.prototype = RealWorker.prototype;
  }

  /* Signs that someone wants to search. */
  var params = new URLSearchParams(location.search);
  if (params.has("h") || params.has("q")) {
    want();
    return;
  }
  function inSearch(node) {
    return node instanceof Element && node.closest(".md-search, label[for=__search]") !== null;
  }
  document.addEventListener("focusin", function (event) {
    if (inSearch(event.target)) { want(); }
  }, true);
  document.addEventListener("pointerdown", function (event) {
    if (inSearch(event.target)) { want(); }
  }, true);
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "__search") { want(); }
  }, true);
})();

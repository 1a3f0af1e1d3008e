/* Site search, in the browser and offline: the build writes every post's words to one
   JSON file (plugins/site_search); this finds the posts holding every word typed and lists
   them above the archives. Without JavaScript a search reloads the archives, which list
   every post by month. */
(function () {
  "use strict";

  var form = document.querySelector("form.site-search");
  var results = document.getElementById("search-results");
  if (!form || !results || !form.getAttribute("data-index") || !window.fetch) {
    return;
  }
  var input = form.elements.q;
  var entries = null;

  // Case and accents ignored: "cafe" finds "Café".
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function load() {
    if (entries) {
      return Promise.resolve(entries);
    }
    return fetch(form.getAttribute("data-index")).then(function (response) {
      if (!response.ok) {
        throw new Error("no index");
      }
      return response.json();
    }).then(function (index) {
      entries = index.entries.map(function (entry) {
        entry.folded = fold(entry.title + " " + entry.text);
        return entry;
      });
      return entries;
    });
  }

  function show(terms, found) {
    results.textContent = "";
    var heading = document.createElement("h2");
    heading.id = "search-results-title";
    heading.textContent = found.length === 0
      ? "Nothing found for “" + terms + "”"
      : (found.length === 1 ? "1 post" : found.length + " posts") + " found for “" + terms + "”";
    results.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "search-result-list";
    found.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = form.getAttribute("data-index").replace(/[^/]*$/, "") + entry.url;
      link.textContent = entry.title;
      item.appendChild(link);
      if (entry.date) {
        var date = document.createElement("time");
        date.dateTime = entry.date;
        date.textContent = " " + entry.date;
        item.appendChild(date);
      }
      list.appendChild(item);
    });
    results.appendChild(list);
    results.hidden = false;
    heading.tabIndex = -1;
    heading.focus();
  }

  form.addEventListener("submit", function (event) {
    var terms = input.value.trim();
    if (!terms) {
      return;  // an empty search opens the archives, as without JavaScript
    }
    event.preventDefault();
    var words = fold(terms).split(/\s+/);
    load().then(function (all) {
      show(terms, all.filter(function (entry) {
        return words.every(function (word) {
          return entry.folded.indexOf(word) !== -1;
        });
      }));
    }, function () {
      form.submit();  // the index cannot be read: the archives still list every post
    });
  });
}());

/* "Save my name and email in this browser for the next time I comment", as WordPress
   offers: unticked by default, kept in this browser's localStorage only (never a cookie,
   never sent to the blog). Without JavaScript the checkbox stays hidden, since nothing
   could keep its promise. */
(function () {
  "use strict";

  var KEY = "between-sessions:commenter";
  var form = document.getElementById("commentform");
  var box = document.getElementById("remember-me");
  if (!form || !box) {
    return;
  }

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null;  // switched off in this browser
    }
  }

  var store = storage();
  if (!store) {
    return;
  }
  box.closest(".comment-form-cookies-consent").hidden = false;

  var saved = null;
  try {
    saved = JSON.parse(store.getItem(KEY));
  } catch (error) {
    store.removeItem(KEY);
  }
  if (saved && typeof saved === "object") {
    form.elements.author.value = saved.author || "";
    form.elements.email.value = saved.email || "";
    box.checked = true;
  }

  function forget() {
    store.removeItem(KEY);
  }

  box.addEventListener("change", function () {
    if (!box.checked) {
      forget();
    }
  });

  // Capture: saved before comment-intake.js takes the submit over.
  form.addEventListener("submit", function () {
    if (!box.checked) {
      forget();
      return;
    }
    try {
      store.setItem(KEY, JSON.stringify({
        author: form.elements.author.value,
        email: form.elements.email.value
      }));
    } catch (error) {
      // Storage full: she types them again next time; the comment itself goes ahead.
    }
  }, true);
}());

/* Comment intake, improved with JavaScript: the comment forms and Like buttons post with
   fetch, so the reader stays where she is. Without this file both still work as plain
   form posts (the intake answers those with a redirect back to the post). */
(function () {
  "use strict";

  if (!window.fetch || !window.FormData || !document.querySelector) {
    return;
  }

  var comments = document.getElementById("comments");
  if (!comments) {
    return;
  }

  // The same words the static page uses (threaded_comments.likes_text), and after her
  // own like, the words WordPress uses: "Liked by you and N others".
  function likesText(count, mine) {
    if (mine) {
      var others = Math.max(count - 1, 0);
      return "Liked by you" + (others ? " and " + others + (others === 1 ? " other" : " others") : "");
    }
    if (count <= 0) {
      return "";
    }
    return count === 1 ? "Liked by 1 person" : "Liked by " + count + " people";
  }

  // Which comments she liked, remembered on this device only (no cookie is sent).
  var LIKED_KEY = "between-sessions:liked";

  function likedSet() {
    try {
      return JSON.parse(window.localStorage.getItem(LIKED_KEY)) || {};
    } catch (error) {
      return {};  // storage switched off or unreadable: nothing remembered
    }
  }

  function rememberLike(key) {
    var liked = likedSet();
    liked[key] = true;
    try {
      window.localStorage.setItem(LIKED_KEY, JSON.stringify(liked));
    } catch (error) {
      // Storage full or switched off: the like still counts; only the memory is lost.
    }
  }

  function likeKey(commentId) {
    var likeForm = comments.querySelector("form.like-form");
    return (likeForm ? likeForm.elements.post.value : "") + "/" + commentId;
  }

  function markLiked(commentId) {
    // By id, not a selector: a comment id may hold a ".".
    var comment = document.getElementById("comment-" + commentId);
    var button = comment ? comment.querySelector("form.like-form button") : null;
    if (button) {
      button.setAttribute("aria-pressed", "true");
      button.textContent = "Liked";
    }
  }

  function sendForm(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (answer) {
        if (!response.ok) {
          throw new Error(answer.error || "The blog could not take this (error " + response.status + ").");
        }
        return answer;
      });
    }, function () {
      throw new Error("The blog could not be reached. Check your connection and try again.");
    });
  }

  function messageBefore(form, className, role) {
    var message = form.parentNode.querySelector("." + className);
    if (!message) {
      message = document.createElement("p");
      // comments.css hides notices unless they are the URL target or marked visible.
      message.className = "comment-notice is-visible " + className;
      message.setAttribute("role", role);
      message.tabIndex = -1;
      form.parentNode.insertBefore(message, form);
    }
    return message;
  }

  function clearError(form) {
    var error = form.parentNode.querySelector(".comment-error");
    if (error) {
      error.parentNode.removeChild(error);
    }
  }

  // When the intake says the words need care, its note with the author's support
  // resources goes above the usual notice (moderation/intake/care.py writes the words).
  function showCare(form, care) {
    var old = form.parentNode.querySelector(".comment-care");
    if (old) {
      old.parentNode.removeChild(old);
    }
    if (!care) {
      return null;
    }
    var note = document.createElement("section");
    note.className = "comment-care";
    note.setAttribute("role", "note");
    note.tabIndex = -1;
    var title = document.createElement("h4");
    title.textContent = care.title;
    var text = document.createElement("p");
    text.textContent = care.text;
    var list = document.createElement("ul");
    (care.resources || []).forEach(function (resource) {
      var item = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = resource.name;
      item.appendChild(name);
      if (resource.phone) {
        var phone = document.createElement("a");
        phone.href = "tel:" + resource.phone.replace(/[^0-9+]/g, "");
        phone.textContent = resource.phone;
        item.appendChild(document.createTextNode(" "));
        item.appendChild(phone);
      }
      if (resource.url && /^https?:\/\//.test(resource.url)) {
        var link = document.createElement("a");
        link.href = resource.url;
        link.textContent = resource.url;
        item.appendChild(document.createTextNode(" "));
        item.appendChild(link);
      }
      list.appendChild(item);
    });
    note.appendChild(title);
    note.appendChild(text);
    note.appendChild(list);
    return note;
  }

  function showPending(form, answer) {
    clearError(form);
    var notice = messageBefore(form, "comment-received", "status");
    var care = showCare(form, answer.care);
    if (care) {
      notice.parentNode.insertBefore(care, notice);
    }
    notice.textContent = "Your comment is awaiting moderation. ";
    if (answer.removal_url) {
      notice.appendChild(document.createTextNode(
        "If you ever want it taken down, keep this private link (it is shown only once): "));
      var link = document.createElement("a");
      link.href = answer.removal_url;
      link.className = "comment-removal-link";
      link.textContent = "remove my comment";
      notice.appendChild(link);
    }
    if (answer.replies) {
      // What became of "Email me when someone replies" (moderation/intake/pages.py words it).
      notice.appendChild(document.createTextNode(" " + answer.replies));
    }
    (care || notice).focus();
  }

  // After a refusal the "awaiting moderation" notice of an earlier post is stale.
  function hidePending(form) {
    var received = form.parentNode.querySelector(".comment-received");
    if (received) {
      received.parentNode.removeChild(received);
    }
    var pending = document.getElementById("comment-pending");
    if (pending) {
      pending.classList.add("is-dismissed");
    }
  }

  function showError(form, text) {
    hidePending(form);
    var error = messageBefore(form, "comment-error", "alert");
    error.textContent = "Your comment was not sent: " + text + " What you wrote is still in the form.";
    error.focus();
  }

  function onCommentSubmit(event) {
    var form = event.target;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    sendForm(form).then(function (answer) {
      var text = form.querySelector("textarea[name=comment]");
      if (text) {
        text.value = "";  // sent: name and email stay for her next comment
      }
      showPending(form, answer);
    }, function (error) {
      showError(form, error.message);
    }).then(function () {
      if (button) {
        button.disabled = false;
      }
    });
  }

  function showLikes(commentId, count) {
    var element = comments.querySelector('.comment-likes[data-comment-id="' + commentId + '"]');
    if (element) {
      element.textContent = likesText(count, likedSet()[likeKey(commentId)] === true);
    }
  }

  function onLikeSubmit(event) {
    var form = event.target;
    event.preventDefault();
    sendForm(form).then(function (answer) {
      rememberLike(likeKey(answer.comment));
      showLikes(answer.comment, answer.likes);
      markLiked(answer.comment);
    }, function () {
      // Let the plain form post try: the intake answers it with the post or a clear page.
      form.submit();
    });
  }

  // Counts newer than the last build: likes wait in the inbox until `invoke moderate`.
  function refreshLikes() {
    var likeForm = comments.querySelector("form.like-form");
    if (!likeForm) {
      return;
    }
    var url = likeForm.action + "?post=" + encodeURIComponent(likeForm.elements.post.value);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { likes: {} };
      })
      .then(function (answer) {
        Object.keys(answer.likes || {}).forEach(function (commentId) {
          showLikes(commentId, answer.likes[commentId]);
        });
      }, function () {
        // Offline or no intake: the counts of the last build stay.
      });
  }

  // Counts change in place after a like: let screen readers hear the new one. The buttons
  // of the comments she liked on an earlier visit say so from the start.
  Array.prototype.forEach.call(comments.querySelectorAll(".comment-likes"), function (element) {
    element.setAttribute("aria-live", "polite");
    var commentId = element.getAttribute("data-comment-id");
    // refreshLikes() then words her count "Liked by you and N others".
    if (likedSet()[likeKey(commentId)] === true) {
      markLiked(commentId);
    }
  });

  comments.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form.like-form")) {
      onLikeSubmit(event);
    } else if (form.matches("form.comment-form, form#commentform")) {
      onCommentSubmit(event);
    }
  });
  refreshLikes();
}());

/* Reply under the comment, as WordPress's comment-reply.js does: a Reply link moves the
   "Leave a Reply" form beneath its comment, sets the hidden replyto field and offers
   "Cancel reply". Without this script each Reply link opens that comment's own small
   form instead (see .comment-reply-form in comments.css), so nothing depends on it. */
(function () {
  "use strict";

  var respond = document.getElementById("respond");
  var form = document.getElementById("commentform");
  if (!respond || !form) {
    return;
  }
  var parentField = form.querySelector('input[name="replyto"]');
  var cancel = document.getElementById("cancel-comment-reply-link");
  var title = document.getElementById("reply-title");
  var titleText = title.firstChild;
  var originalTitle = titleText.nodeValue;
  // Where the form goes back to on "Cancel reply".
  var home = document.createElement("div");
  home.hidden = true;
  respond.parentNode.insertBefore(home, respond);
  var replyLink = null;

  // The per-comment no-JavaScript forms stay hidden even when one is the URL's target.
  document.documentElement.classList.add("js-comment-reply");

  function replyTo(commentId, link) {
    var comment = document.getElementById("comment-" + commentId);
    if (!comment) {
      return false;
    }
    var author = comment.querySelector(".comment-author-name");
    comment.appendChild(respond);
    parentField.value = commentId;
    titleText.nodeValue = "Leave a Reply to " + (author ? author.textContent : "") + " ";
    cancel.hidden = false;
    replyLink = link || comment.querySelector(".comment-reply-link");
    form.querySelector("textarea").focus();
    return true;
  }

  function cancelReply() {
    home.parentNode.insertBefore(respond, home);
    parentField.value = "";
    titleText.nodeValue = originalTitle;
    cancel.hidden = true;
    if (replyLink) {
      replyLink.focus();
    }
    replyLink = null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".comment-reply-link") : null;
    if (link && replyTo(link.getAttribute("data-replyto"), link)) {
      event.preventDefault();
    }
  });

  cancel.addEventListener("click", function (event) {
    event.preventDefault();
    cancelReply();
  });

  respond.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && parentField.value) {
      cancelReply();
    }
  });

  // A Reply link followed before this script ran, or a shared link: ?replyto=<id>.
  var match = /[?&]replyto=([^&#]+)/.exec(window.location.search);
  if (match) {
    replyTo(decodeURIComponent(match[1]), null);
  }
})();

// Move the comment form under the comment being replied to. Without this script the Reply link
// reloads the page with ?replytocom=ID and the server fills in the same hidden field.
(function () {
  "use strict";
  var respond = document.getElementById("respond");
  if (!respond) { return; }
  var home = document.createElement("div");
  home.id = "respond-home";
  respond.parentNode.insertBefore(home, respond);
  var parentField = document.getElementById("comment_parent");
  var replyName = respond.querySelector(".reply-to-name");
  var cancel = document.getElementById("cancel-comment-reply-link");

  function replyTo(link) {
    var item = link.closest("li.comment");
    if (!item) { return false; }
    var body = item.querySelector(".comment-body");
    body.parentNode.insertBefore(respond, body.nextSibling);
    parentField.value = link.getAttribute("data-comment-id");
    replyName.textContent = " to " + link.getAttribute("data-author");
    cancel.hidden = false;
    document.getElementById("comment").focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".comment-reply-link") : null;
    if (link && replyTo(link)) { event.preventDefault(); }
  });

  cancel.addEventListener("click", function (event) {
    event.preventDefault();
    home.parentNode.insertBefore(respond, home.nextSibling);
    parentField.value = "";
    replyName.textContent = "";
    cancel.hidden = true;
  });
}());

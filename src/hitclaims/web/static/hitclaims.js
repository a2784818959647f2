// The page's only own script: ask before a button marked data-confirm submits its form
// (voiding a claim cannot be undone). Kept in a file so the pages can forbid inline scripts.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

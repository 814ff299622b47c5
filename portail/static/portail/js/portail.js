// Progressive enhancements shared by every page. Each page works without JavaScript.
// Feature modules register themselves by data attributes (data-portail-*), never inline scripts.

// After a refused form, move the focus to the summary of errors so that it is read first.
const errorSummary = document.querySelector("[data-portail-error-summary]");
if (errorSummary) errorSummary.focus();

// Progressive enhancements shared by every page. Each page works without JavaScript.
// Feature modules register themselves by data attributes (data-portail-*), never inline scripts.

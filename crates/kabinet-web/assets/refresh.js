// Reloads a page that follows something still in progress (a card payment
// waiting for the gateway) every few seconds, at most 24 times in a row (or `data-refresh-max`); the
// page's own "Refresh" link does the same without scripts.
(function () {
  'use strict';
  var el = document.querySelector('[data-refresh]');
  if (!el) return;
  var seconds = Number(el.getAttribute('data-refresh')) || 5;
  var key = 'kabinet-refresh:' + location.pathname;
  var count = 0;
  try { count = Number(sessionStorage.getItem(key) || '0'); } catch (e) { /* storage off */ }
  var max = Number(el.getAttribute('data-refresh-max')) || 24;
  if (count >= max) return;
  setTimeout(function () {
    try { sessionStorage.setItem(key, String(count + 1)); } catch (e) { /* storage off */ }
    // `auto=1` tells the server this is no one's activity: a page left open
    // does not keep a staff session from its idle end.
    var url = new URL(location.href);
    url.searchParams.set('auto', '1');
    location.replace(url.toString());
  }, seconds * 1000);
})();

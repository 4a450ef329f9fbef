// Test helper for the dni pages, loaded before dni.js: records errors and
// every fetch, and with ?api=ok or ?api=slow in the page's URL answers the
// DNI API itself (for a slow API, and for swap targets the server would not
// take, such as 555 numbers); otherwise the server answers.
window.rtErrors = [];
window.rtCalls = [];
window.onerror = function (m) { window.rtErrors.push(String(m)); };
window.addEventListener('unhandledrejection', function (e) {
  window.rtErrors.push('unhandled rejection: ' + e.reason);
});
(function () {
  var real = window.fetch, mode = (location.search.match(/[?&]api=(\w+)/) || [])[1];
  window.fetch = function (url, opts) {
    var call = { url: String(url), body: opts && opts.body, status: null };
    window.rtCalls.push(call);
    if (mode != 'ok' && mode != 'slow')
      return real.apply(this, arguments).then(function (r) { call.status = r.status; return r; });
    return new Promise(function (resolve, reject) {
      var sig = opts && opts.signal;
      var t = setTimeout(function () {
        call.status = 200;
        resolve(/\/v1\/dni\/sessions$/.test(call.url)
          ? new Response(JSON.stringify({
            session_id: 's_test', visitor_id: 'v_test', ttl_seconds: 1800,
            numbers: [{ target: '+15550102000', number: '+13125550100' },
                      { target: '+442079460958', number: '+442079460123' }]
          }), { status: 201, headers: { 'Content-Type': 'application/json' } })
          : new Response(null, { status: 204 }));
      }, mode == 'slow' ? 3000 : 50);
      if (sig) sig.addEventListener('abort', function () {
        clearTimeout(t);
        call.status = 'aborted';
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  };
})();

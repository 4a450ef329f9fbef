// Test helper for the dni pages, loaded first. It records uncaught errors
// and every fetch (url, body, and status: the answer's, 'failed' when no
// server answered, 'aborted'), and rtLoad() adds dni.js to the page as a tag
// manager would, with the site key from ?key= in the page's URL (the test
// server's key is known only at run time; without one, no dni.js).
// With ?api=slow it answers the DNI API itself, after 3 s: a slow API is the
// one case the real server cannot play.
window.rtErrors = [];
window.rtCalls = [];
window.onerror = function (m) { window.rtErrors.push(String(m)); };
window.addEventListener('unhandledrejection', function (e) {
  window.rtErrors.push('unhandled rejection: ' + e.reason);
});
(function () {
  var real = window.fetch, q = new URLSearchParams(location.search);
  window.fetch = function (url, opts) {
    var call = { url: String(url), body: opts && opts.body, status: null };
    window.rtCalls.push(call);
    if (q.get('api') != 'slow')
      return real.apply(this, arguments).then(function (r) {
        call.status = r.status;
        return r;
      }, function (e) {
        call.status = e && e.name == 'AbortError' ? 'aborted' : 'failed';
        throw e;
      });
    return new Promise(function (resolve, reject) {
      var sig = opts && opts.signal;
      var t = setTimeout(function () {
        call.status = 201;
        resolve(new Response(JSON.stringify({
          session_id: 's_test', visitor_id: 'v_test', ttl_seconds: 1800,
          numbers: [{ target: '+13125550199', number: '+13125550100' },
                    { target: '+442079460958', number: '+442079460123' }]
        }), { status: 201, headers: { 'Content-Type': 'application/json' } }));
      }, 3000);
      if (sig) sig.addEventListener('abort', function () {
        clearTimeout(t);
        call.status = 'aborted';
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  };
  // attrs: more attributes for the script tag, such as data-consent.
  window.rtLoad = function (attrs) {
    var key = q.get('key'), s = document.createElement('script'), k;
    if (!key) return;
    s.src = '/dni.js?v=1';
    s.async = true;
    s.setAttribute('data-site-key', key);
    for (k in attrs || {}) s.setAttribute(k, attrs[k]);
    document.head.appendChild(s);
  };
})();

// Ringtrail dni.js: swaps a site's numbers for the visitor's tracking numbers.
// <script src="https://HOST/dni.js?v=1" data-site-key="pk_..." async></script>
// Digits are replaced in the page's own format; errors are swallowed, and a
// slow (> 1.5 s) or failing API leaves the page as it is.
(function () {
  'use strict';
  var W = window, D = document;
  if (W.Ringtrail) return;
  try { main(); } catch (e) { /* never break the page */ }
  function main() {
  var SEP = '[\\s.()\\-\\u2010-\\u2015/]{0,3}';
  var INLINE = /^(A|ABBR|B|BDI|CITE|CODE|EM|FONT|I|LABEL|MARK|SMALL|SPAN|STRONG|SUB|SUP|TIME|U)$/;
  var SKIP = /^(SCRIPT|STYLE|TEXTAREA|INPUT|SELECT|NOSCRIPT|TEMPLATE|SVG)$/i;
  // Country codes of two digits (1 and 7 have one, the rest three).
  var CC2 = /^(2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/;
  var API = '/v1/dni/sessions', TTL = 1800, YEAR = 31536000;

  var script = D.currentScript || D.querySelector('script[data-site-key]');
  var key = script && script.getAttribute('data-site-key');
  var base = script && script.src ? new URL(script.src, location.href).origin : '';
  var waiting = !!script && script.getAttribute('data-consent') == 'wait';
  var consented = !waiting, started = false;
  var state = null; // {s: session, v: visitor, n: {target: number}, t: ttl}
  var re = null, swapTo = {}, current = {}, obs = null, pending = [], timer = 0, beat = 0;

  function safe(f) {
    return function () {
      try { return f.apply(this, arguments); } catch (e) { return null; }
    };
  }

  // '+442079460958' -> ['44', '2079460958']
  function split(e164) {
    var d = String(e164).replace(/\D/g, '');
    var n = /^[17]/.test(d) ? 1 : CC2.test(d) ? 2 : 3;
    return [d.slice(0, n), d.slice(n)];
  }

  // National, international, trunk 0 and +44 (0) digits.
  function forms(e164) {
    var p = split(e164), c = p[0], n = p[1];
    return c == '1' ? [n, c + n] : [n, c + n, '0' + n, c + '0' + n];
  }

  function compile(map) {
    var alts = [], to = {}, t, a, b, f, k;
    for (t in map) {
      if (!/^\+\d{7,15}$/.test(t) || !/^\+\d{7,15}$/.test(map[t])) continue;
      a = split(t); b = split(map[t]); f = forms(t);
      for (k = 0; k < f.length; k++) {
        if (to[f[k]]) continue;
        // Another country's: the whole match becomes +CC NATIONAL.
        to[f[k]] = a[0] == b[0] ? forms(map[t])[k] : '+' + b[0] + ' ' + b[1];
        alts.push(f[k]);
      }
    }
    alts.sort(function (x, y) { return y.length - x.length; });
    swapTo = to;
    re = alts.length ? new RegExp(alts.map(function (d) {
      return '\\+?\\(?' + d.split('').join(SEP);
    }).join('|'), 'g') : null;
  }

  // Edits [position, text] for each whole number in s; one touching a
  // letter or digit (maybe across - . /) is part of something longer.
  function scan(s) {
    var out = [], m, i, j, ds, nd, k;
    re.lastIndex = 0;
    while ((m = re.exec(s))) {
      i = m.index; j = i + m[0].length;
      if (/[\w+]$|\d[-.\/]$/.test(s.slice(Math.max(0, i - 2), i)) ||
          /^(\w|[-.\/]\d)/.test(s.slice(j, j + 2))) {
        re.lastIndex = i + 1;
        continue;
      }
      nd = swapTo[m[0].replace(/\D/g, '')];
      if (nd.charAt(0) == '+') {
        for (k = i; k < j; k++) out.push([k, k > i ? '' : nd]);
        continue;
      }
      ds = [];
      for (k = i; k < j; k++) if (/\d/.test(s.charAt(k))) ds.push(k);
      for (k = 0; k < ds.length; k++)
        out.push([ds[k], k < nd.length ? nd.charAt(k) + (k == ds.length - 1 ? nd.slice(k + 1) : '') : '']);
    }
    return out;
  }

  function swapRun(nodes) {
    var text = '', at = [], ed, parts, k = 0, i, n = 0;
    for (i = 0; i < nodes.length; i++) { at.push(text.length); text += nodes[i].data; }
    ed = scan(text);
    if (!ed.length) return 0;
    parts = nodes.map(function (x) { return x.data.split(''); });
    for (i = 0; i < ed.length; i++) {
      while (k + 1 < nodes.length && at[k + 1] <= ed[i][0]) k++;
      parts[k][ed[i][0] - at[k]] = ed[i][1];
    }
    for (i = 0; i < nodes.length; i++) {
      text = parts[i].join('');
      if (text != nodes[i].data) { nodes[i].data = text; n++; }
    }
    return n;
  }

  function skipped(el) {
    return SKIP.test(el.tagName) || el.hasAttribute('data-rt-noswap') || el.isContentEditable;
  }

  // Runs of text nodes, split by blocks but not by inline elements.
  function swapIn(root) {
    var runs = [], cur = [], n = 0, i, links, a, h, ed, c;
    function cut() { if (cur.length) runs.push(cur); cur = []; }
    function walk(el) {
      for (var x = el.firstChild; x; x = x.nextSibling) {
        if (x.nodeType == 3) cur.push(x);
        else if (x.nodeType == 1) {
          if (skipped(x)) { cut(); continue; }
          var inl = INLINE.test(x.tagName);
          if (!inl) cut();
          walk(x);
          if (!inl) cut();
        }
      }
    }
    if (!re || !root || root.nodeType != 1) return 0;
    if (root.closest('[data-rt-noswap],script,style,textarea,[contenteditable]')) return 0;
    walk(root);
    cut();
    for (i = 0; i < runs.length; i++) n += swapRun(runs[i]);
    links = [].slice.call(root.querySelectorAll('a[href]'));
    if (root.tagName == 'A') links.push(root);
    for (i = 0; i < links.length; i++) {
      a = links[i]; h = a.getAttribute('href') || '';
      if (!/^tel:/i.test(h) || a.closest('[data-rt-noswap]')) continue;
      c = h.split('');
      ed = scan(h.slice(4));
      ed.forEach(function (e) { c[e[0] + 4] = e[1].replace(' ', ''); });
      if (ed.length) { a.setAttribute('href', c.join('')); n++; }
    }
    return n;
  }

  function block(x) {
    while (x.parentNode && (x.nodeType != 1 || INLINE.test(x.tagName))) x = x.parentNode;
    return x;
  }

  var flush = safe(function () {
    var roots = [], all = pending.length > 200, i, r;
    timer = 0;
    for (i = 0; i < pending.length && !all; i++) {
      r = block(pending[i]);
      if (r.nodeType == 1 && roots.indexOf(r) < 0) roots.push(r);
    }
    pending = [];
    if (all) roots = [D.body];
    roots.filter(function (x) {
      return D.contains(x) && !roots.some(function (o) { return o != x && o.contains(x); });
    }).forEach(swapIn);
    obs.takeRecords();
  });

  function observe() {
    if (obs || !W.MutationObserver) return;
    obs = new MutationObserver(safe(function (recs) {
      for (var i = 0; i < recs.length; i++) pending.push(recs[i].target);
      if (!timer) timer = setTimeout(flush, 30);
    }));
    obs.observe(D.body, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['href'] });
  }

  function use(map) {
    compile(current = map);
    if (!D.body) {
      D.addEventListener('DOMContentLoaded', safe(function () { use(map); }));
      return 0;
    }
    var n = swapIn(D.body);
    observe();
    if (obs) obs.takeRecords();
    return n;
  }

  function cookie(k) {
    var m = D.cookie.match('(?:^|; )' + k + '=([^;]*)');
    return m ? decodeURIComponent(m[1]) : null;
  }

  function setCookie(k, v, age) {
    D.cookie = k + '=' + encodeURIComponent(v) + '; Max-Age=' + age + '; Path=/; SameSite=Lax' +
      (location.protocol == 'https:' ? '; Secure' : '');
  }

  // _rt_session holds the session and its numbers for its idle timeout.
  function save() {
    setCookie('_rt_session', JSON.stringify({ s: state.s, n: state.n, t: state.t }), state.t);
    if (state.v) setCookie('_rt_visitor', state.v, YEAR);
  }

  // Resolves to the answer or null, never rejects.
  function post(path, body, ms) {
    var ctl = W.AbortController ? new AbortController() : null;
    var t = setTimeout(function () { if (ctl) ctl.abort(); }, ms || 5000);
    return fetch(base + path, {
      method: 'POST', keepalive: !ms,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body), signal: ctl ? ctl.signal : undefined
    }).then(function (r) {
      return r.ok ? r.text().then(function (x) { return x ? JSON.parse(x) : {}; }) : null;
    }).then(function (x) { clearTimeout(t); return x; }, function () { clearTimeout(t); return null; });
  }

  function sessionPath(sub) {
    return API + '/' + encodeURIComponent(state.s) + '/' + sub;
  }

  function heartbeat() {
    if (beat || !state || !state.s) return;
    beat = setInterval(safe(function () {
      if (D.visibilityState == 'visible')
        post(sessionPath('heartbeat'), {}).then(safe(function (a) { if (a) save(); }));
    }), 30000);
  }

  var start = safe(function () {
    if (started || !consented) return;
    started = true;
    var old = null, ga, body;
    try { old = JSON.parse(cookie('_rt_session')); } catch (e) { /* none */ }
    if (old && old.n && old.t > 0) {
      state = { s: old.s, v: cookie('_rt_visitor'), n: old.n, t: old.t };
      use(state.n);
      save();
      if (state.s) post(sessionPath('pageviews'), { url: location.href, title: D.title });
      heartbeat();
      return;
    }
    if (!key) return;
    ga = (cookie('_ga') || '').split('.');
    body = {
      site_key: key, landing_url: location.href, referrer: D.referrer, title: D.title,
      visitor_id: cookie('_rt_visitor'), ga_client_id: ga.length > 3 ? ga.slice(-2).join('.') : null,
      consent: { analytics: consented }
    };
    post(API, body, 1500).then(safe(function (a) {
      var n = {}, i, x;
      if (!a || typeof a.session_id != 'string') return;
      for (i = 0; a.numbers && i < a.numbers.length; i++) {
        x = a.numbers[i];
        if (x) n[x.target] = x.number;
      }
      state = { s: a.session_id, v: a.visitor_id || body.visitor_id, n: n, t: a.ttl_seconds > 0 ? a.ttl_seconds : TTL };
      save();
      use(n);
      heartbeat();
    }));
  });

  W.Ringtrail = {
    // swap() again, or swap({"+15550102000": "+13125550100"}): nodes changed.
    swap: safe(function (map) {
      return use(map || current);
    }),
    session: safe(function () {
      return state ? { session_id: state.s, visitor_id: state.v, numbers: state.n } : null;
    }),
    consent: safe(function (yes) {
      consented = !!yes;
      start();
    })
  };
  start();
  }
})();

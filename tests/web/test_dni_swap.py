#!/usr/bin/python3
"""Browser test of dni.js, the number-swapping script, in headless Chromium.

Starts the real `ringtrail serve` with --web-root pointing at a temporary
copy of the repository's web/ folder plus the test pages of tests/web/pages
(under /site/), makes through the API a US pool (all traffic, target
+13125550199, one number +13125550100) and a UK pool (paid search, target
+442079460958, one number +442079460123), and drives Chromium through the
pages, which load /dni.js with the account's site key (pages/stub.js adds
the tag and records every fetch and uncaught error).

Against the server's own sessions endpoint:
  - /dni.js is served with its type, CORS and cache headers; it is at most
    4 KB gzipped;
  - a direct visit leases the US number: every common format of the target
    is swapped to the same format, in text, across inline elements and in
    tel: links (href and text); similar numbers, longer digit runs, another
    pool's target, data-rt-noswap and form fields are left alone; a number
    added 1.5 s after load (after the session's answer) is swapped by the
    observer; the request carries the site key, page, GA id and consent, and
    the server keeps them;
  - a second page shows the same number from the session cookie and sends a
    page view, not a new session: the server holds one session with both
    page views, and the pool made one lease;
  - a paid search visit leases the UK number: the UK formats (national,
    +44, +44 (0), tel: links, inline) are swapped the same way, the US
    target stays, and the server holds the visit's source;
  - with data-consent="wait", nothing is asked before Ringtrail.consent(true);
  - with an unknown site key (404) and, last, with the server stopped
    (dni.js added to an already loaded page after the server exits), the
    original numbers stay, nothing is kept and nothing throws.

Through the fetch stub of pages/stub.js, the one case the server cannot
play: an API slower than 1.5 s is given up and its late answer not used.

usage: test_dni_swap.py RINGTRAIL_BINARY WEB_ROOT PAGES_DIR
Runs under Debian's /usr/bin/python3 (python3-selenium, chromium-driver).
"""
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update "
                "--disable-sync --window-size=1000,700").split()
# Headless Chromium names itself HeadlessChrome, which the server takes for
# a bot (bots are shown the site's own numbers): be a desktop Chrome.
BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")

US_TARGET, US_NUMBER = "+13125550199", "+13125550100"
UK_TARGET, UK_NUMBER = "+442079460958", "+442079460123"
# Either leased number in any format, as text or in a tel: link.
SWAPPED = re.compile(r"555\D{0,3}0100|7946\D{0,3}0123")
GA_COOKIE = "GA1.1.123456789.1700000000"

# Every [data-want] element's text and [data-want-href] link's href, in the
# section named by arguments[0] or the whole page, as [element id or
# outerHTML, got, want].
MISMATCHES_JS = """
var root = arguments[0] ? document.getElementById(arguments[0]) : document, bad = [];
root.querySelectorAll('[data-want]').forEach(function (e) {
  if (e.textContent != e.getAttribute('data-want'))
    bad.push([e.id || e.outerHTML, e.textContent, e.getAttribute('data-want')]);
});
root.querySelectorAll('[data-want-href]').forEach(function (e) {
  if (e.getAttribute('href') != e.getAttribute('data-want-href'))
    bad.push([e.id + ' href', e.getAttribute('href'), e.getAttribute('data-want-href')]);
});
return bad;
"""

# The text of the numbers on the page (not that of its scripts) and the
# links' targets.
PAGE_TEXT_JS = """
return [].map.call(document.querySelectorAll('[data-want], a'), function (e) {
  return e.textContent + ' ' + (e.getAttribute('href') || '');
}).join('\\n');
"""

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def start_server(binary, web_root, tmp):
    # The DNI endpoints keep their default rate limit (600 a minute, bursts
    # of 120 per address): this test sends a dozen requests.
    proc = subprocess.Popen(
        [binary, "serve", "--db", os.path.join(tmp, "r.db"), "--listen", "127.0.0.1:0", "--sip-listen", "127.0.0.1:0",
         "--web-root", web_root, "--log-level", "warn"],
        stdout=subprocess.PIPE, text=True)
    info = {}
    deadline = time.time() + 20
    while time.time() < deadline and "url" not in info:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.match(r"listening on (http://\S+)", line)
        if m:
            info["url"] = m.group(1)
        m = re.match(r"api key: (\S+)", line)
        if m:
            info["key"] = m.group(1)
    if "url" not in info:
        proc.kill()
        sys.exit("server did not start: %r" % info)
    return proc, info


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


def api(base, key, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"null")


def make_pools(base, key):
    """The two pools, one number each so that the leased number is known;
    returns the account's site key and the pools' ids. A number is shared
    by at most 4 live sessions (RT_LEASE_HOLDERS_MAX): this test makes two
    on the US pool, one on the UK pool."""
    us = api(base, key, "POST", "/v1/pools",
             {"name": "Web test US", "swap_targets": [US_TARGET]})
    uk = api(base, key, "POST", "/v1/pools",
             {"name": "Web test UK", "swap_targets": [UK_TARGET], "sources": "paid_search"})
    api(base, key, "POST", "/v1/numbers", {"number": US_NUMBER, "pool_id": us["id"]})
    api(base, key, "POST", "/v1/numbers", {"number": UK_NUMBER, "pool_id": uk["id"]})
    return api(base, key, "GET", "/v1/me")["account"]["site_key"], us["id"], uk["id"]


def wait(driver, cond, seconds):
    try:
        WebDriverWait(driver, seconds, poll_frequency=0.05).until(cond)
        return True
    except TimeoutException:
        return False


def mismatches(driver, section=None):
    return driver.execute_script(MISMATCHES_JS, section)


def uncaught(driver):
    """Uncaught errors in the page: its onerror hook and the console log."""
    errs = list(driver.execute_script("return window.rtErrors || ['no stub'];"))
    try:
        errs += [e["message"] for e in driver.get_log("browser")
                 if "Uncaught" in e.get("message", "")]
    except Exception:  # get_log is not in every driver: the hook suffices
        pass
    return errs


def calls(driver):
    return driver.execute_script("return window.rtCalls;")


def fresh(driver, base, page, cookies=()):
    """Loads page with no cookies but those given."""
    driver.get(base + "/site/stub.js")
    driver.delete_all_cookies()
    for name, value in cookies:
        driver.add_cookie({"name": name, "value": value, "path": "/"})
    driver.get(base + page)


def check_sections(driver, label, sections):
    for section, name in sections:
        wrong = mismatches(driver, section)
        check("%s: %s" % (label, name), not wrong, wrong)


def test_script_served(base, web_src):
    with urllib.request.urlopen(base + "/dni.js?v=1", timeout=10) as res:
        body = res.read()
        check("GET /dni.js?v=1 is 200", res.status == 200)
        check("GET /dni.js headers",
              res.headers.get("Content-Type") == "text/javascript; charset=utf-8"
              and res.headers.get("Access-Control-Allow-Origin") == "*"
              and res.headers.get("Cache-Control") == "public, max-age=300",
              dict(res.headers))
    with open(os.path.join(web_src, "dni", "dni.js"), "rb") as f:
        src = f.read()
    check("GET /dni.js serves web/dni/dni.js", body == src)
    with urllib.request.urlopen(base + "/dni.js", timeout=10) as res:
        check("GET /dni.js (no version: the latest) is the same", res.read() == src)
    try:
        urllib.request.urlopen(base + "/dni.js?v=2", timeout=10)
        status, err = 200, {}
    except urllib.error.HTTPError as e:
        status, err = e.code, json.loads(e.read() or b"{}").get("error", {})
    check("GET /dni.js?v=2 (a version this server lacks) is 404 naming v",
          status == 404 and err.get("field") == "v", (status, err))
    size = len(gzip.compress(src, 9))
    check("(h) dni.js is %d bytes gzipped, <= 4096" % size, size <= 4096)
    return src.decode()


def test_us_formats(driver, base, key, site_key):
    """A direct visit: the US pool's number in every format; returns the
    session id."""
    page = "/site/dni-formats.html?key=" + site_key
    fresh(driver, base, page, [("_ga", GA_COOKIE)])
    seen = {}

    def swapped(d):
        late, bad = d.execute_script(
            "return [!!document.getElementById('late'), (function () {"
            + MISMATCHES_JS + "})()];")
        seen["late"], seen["bad"] = late, [b for b in bad if b[0] != "late"]
        return not seen["bad"]

    ok = wait(driver, swapped, 6)
    check("US: the session's answer swaps the page", ok, seen.get("bad"))
    check("US: ... before the late number is added", ok and not seen["late"])
    check_sections(driver, "US", (
        ("formats", "(a) every format swapped to the same format; the UK target stays"),
        ("inline", "(a) numbers across inline elements swapped"),
        ("similar", "(b) similar numbers and longer digit runs untouched"),
        ("noswap", "(c) data-rt-noswap untouched"),
        ("tel", "(e) tel: links swapped, href and text; others untouched")))
    fields = driver.execute_script(
        "return [document.getElementById('ta').value, document.getElementById('in').value,"
        " document.getElementById('sc').textContent];")
    check("US: (c) textarea, input and script keep their text",
          fields == ["312-555-0199"] * 3, fields)
    ok = wait(driver, lambda d: d.execute_script(
        "var e = document.getElementById('late');"
        "return !!e && e.textContent == e.getAttribute('data-want');"), 5)
    check("US: (d) a number added 1.5 s after load is swapped", ok, mismatches(driver, "later"))
    check("US: every [data-want] checked", not mismatches(driver), mismatches(driver))

    c = calls(driver)
    body = json.loads(c[0]["body"]) if c else {}
    check("US: one request, answered 201",
          [(x["url"], x["status"]) for x in c] == [(base + "/v1/dni/sessions", 201)], c)
    check("US: the request carries site key, page, GA id and consent",
          body.get("site_key") == site_key and body.get("landing_url") == base + page
          and body.get("title") == "DNI formats"
          and body.get("ga_client_id") == "123456789.1700000000"
          and body.get("visitor_id") is None
          and body.get("consent") == {"analytics": True}, body)
    state = driver.execute_script("return Ringtrail.session();") or {}
    sid = state.get("session_id")
    check("US: Ringtrail.session() tells the server's session and numbers",
          isinstance(sid, str) and sid.isdigit()
          and state.get("numbers") == {US_TARGET: US_NUMBER}, state)
    cookies = {k["name"]: k["value"] for k in driver.get_cookies()}
    check("US: session and visitor kept in first-party cookies",
          sid and sid in cookies.get("_rt_session", "")
          and cookies.get("_rt_visitor") == state.get("visitor_id"), cookies)
    if sid:
        s = api(base, key, "GET", "/v1/dni/sessions/" + sid)
        check("US: the server holds the visit as sent",
              s["number"] == US_NUMBER and s["live"] and s["pageview_count"] == 1
              and s["landing_url"] == base + page and s["title"] == "DNI formats"
              and s["ga_client_id"] == "123456789.1700000000"
              and s["consent"] == {"analytics": True}
              and s["visitor_id"] == state.get("visitor_id")
              and s["source"]["channel"] == "Direct"
              and s["device"]["class"] == "desktop", s)
    errs = uncaught(driver)
    check("US: no uncaught errors", not errs, errs)
    return sid


def test_second_page(driver, base, key, site_key, sid, pool_id):
    page = "/site/dni-second.html?key=" + site_key
    driver.get(base + page)
    ok = wait(driver, lambda d: not mismatches(d), 5)
    check("(g) the second page shows the same number", ok, mismatches(driver))
    # The page view is sent after the swap: wait for its answer.
    wait(driver, lambda d: all(x["status"] for x in calls(d)), 3)
    c = [(x["url"][len(base):], x["status"]) for x in calls(driver)]
    check("(g) the second page sends a page view, not a new session",
          c == [("/v1/dni/sessions/%s/pageviews" % sid, 204)], c)
    body = json.loads(calls(driver)[0]["body"]) if c else {}
    check("(g) the page view carries url and title",
          body == {"url": base + page, "title": "DNI second page"}, body)
    if sid:
        s = api(base, key, "GET", "/v1/dni/sessions/" + sid)
        check("(g) the server holds one session with both page views",
              s["pageview_count"] == 2 and s["live"] and s["number"] == US_NUMBER
              and [p["url"] for p in s["pageviews"]]
              == [base + "/site/dni-formats.html?key=" + site_key, base + page], s)
    h = api(base, key, "GET", "/v1/pools/%d/health" % pool_id)
    check("(g) the pool made one lease", h["leases"] == 1 and h["live_sessions"] == 1, h)
    errs = uncaught(driver)
    check("(g) no uncaught errors", not errs, errs)


def test_uk_formats(driver, base, key, site_key):
    """A paid search visit: the UK pool's number in the UK formats."""
    fresh(driver, base, "/site/dni-formats-uk.html?key=%s&utm_source=google"
          "&utm_medium=cpc&utm_campaign=spring&utm_term=plumber" % site_key)
    ok = wait(driver, lambda d: not mismatches(d), 6)
    check("UK: the session's answer swaps the page", ok, mismatches(driver))
    check_sections(driver, "UK", (
        ("formats", "(a) every UK format swapped to the same format; the US target stays"),
        ("inline", "(a) numbers across inline elements swapped"),
        ("similar", "(b) similar numbers and longer digit runs untouched"),
        ("noswap", "(c) data-rt-noswap untouched"),
        ("tel", "(e) tel: links swapped, href and text; others untouched")))
    state = driver.execute_script("return Ringtrail.session();") or {}
    sid = state.get("session_id")
    check("UK: the session's numbers", state.get("numbers") == {UK_TARGET: UK_NUMBER}, state)
    if sid:
        s = api(base, key, "GET", "/v1/dni/sessions/" + sid)
        check("UK: the server holds the visit and its source",
              s["number"] == UK_NUMBER and s["pageview_count"] == 1 and s["live"]
              and s["source"]["channel"] == "Paid Search"
              and s["source"]["campaign"] == "spring"
              and s["source"]["term"] == "plumber"
              and s["device"]["class"] == "desktop", s)
    errs = uncaught(driver)
    check("UK: no uncaught errors", not errs, errs)


CROSS_JS = """
var q = function (s) { return [].map.call(document.querySelectorAll(s), function (e) {
  return e.textContent; }); };
return [q('#formats p'), q('#inline p'), q('#similar p'),
        [].map.call(document.querySelectorAll('#tel a'), function (a) {
          return a.getAttribute('href'); })];
"""


def test_cross_country(driver, base, key, site_key):
    """A pool whose number is of another country than its target (a US
    number for the UK target, picked by a source rule for newsletter
    visits): a UK number cannot take the US one's digits in its own layout,
    so the whole match becomes +1 NATIONAL (+1... in tel: links)."""
    pool = api(base, key, "POST", "/v1/pools",
               {"name": "Newsletter", "sources": "rule", "swap_targets": [UK_TARGET]})
    api(base, key, "POST", "/v1/numbers", {"number": "+13125550142", "pool_id": pool["id"]})
    api(base, key, "POST", "/v1/source-rules",
        {"name": "Newsletter", "field": "source", "op": "equals", "value": "newsletter",
         "source_label": "newsletter", "pool_id": pool["id"]})
    fresh(driver, base, "/site/dni-formats-uk.html?key=%s&utm_source=newsletter"
          "&utm_medium=email" % site_key)
    whole = "+1 3125550142"
    ok = wait(driver, lambda d: d.execute_script(CROSS_JS)[0][0] == whole, 6)
    fmt, inline, similar, tel = driver.execute_script(CROSS_JS)
    check("cross-country: the session's answer swaps the page", ok, fmt)
    check("cross-country: every UK format becomes +1 NATIONAL; the US number stays",
          fmt == [whole] * 9 + ["Ring %s today." % whole, "US office: (312) 555-0199"], fmt)
    check("cross-country: across inline elements too",
          inline == [whole, "Tel " + whole], inline)
    check("cross-country: similar numbers untouched",
          similar == ["020 7946 0959", "020 7946 1958", "0161 496 0958",
                      "+44 20 7946 09581", "Ref 2079460958123"], similar)
    check("cross-country: tel: links dial the new number",
          tel == ["tel:+13125550142", "TEL:+13125550142", "tel:+13125550142",
                  "tel:+13125550199"], tel)
    state = driver.execute_script("return Ringtrail.session();") or {}
    check("cross-country: the rule's pool and number",
          state.get("numbers") == {UK_TARGET: "+13125550142"}, state)
    errs = uncaught(driver)
    check("cross-country: no uncaught errors", not errs, errs)


def test_consent(driver, base, key, site_key):
    fresh(driver, base, "/site/dni-consent.html?key=" + site_key)
    wait(driver, lambda d: d.execute_script("return !!window.Ringtrail;"), 5)
    time.sleep(1)
    text = driver.execute_script("return document.getElementById('n1').textContent;")
    c = calls(driver)
    cookies = [k["name"] for k in driver.get_cookies()]
    check("consent wait: nothing before consent",
          not c and text == "Call (312) 555-0199" and "_rt_session" not in cookies,
          (c, text, cookies))
    driver.execute_script("Ringtrail.consent(true);")
    ok = wait(driver, lambda d: not mismatches(d), 5)
    c = calls(driver)
    check("consent wait: Ringtrail.consent(true) starts the session and swaps",
          ok and len(c) == 1 and c[0]["status"] == 201
          and json.loads(c[0]["body"])["consent"] == {"analytics": True}, c)
    sid = (driver.execute_script("return Ringtrail.session();") or {}).get("session_id")
    if sid:
        s = api(base, key, "GET", "/v1/dni/sessions/" + sid)
        check("consent wait: the server keeps the consent", s["consent"] == {"analytics": True},
              s)


def check_originals(driver, label, calls_want):
    """After the late insertion: no number swapped, no session, no error."""
    ok = wait(driver, lambda d: d.execute_script("return !!document.getElementById('late');"), 5)
    time.sleep(0.3)  # the observer's turn, had it a mapping
    text = driver.execute_script(PAGE_TEXT_JS)
    late = driver.execute_script("return document.getElementById('late').textContent;")
    check("(f) %s: the original numbers stay" % label,
          ok and not SWAPPED.search(text) and late == "Added later: (312) 555-0199",
          (SWAPPED.search(text), late))
    c = [(re.sub(r"^https?://[^/]*", "", x["url"]), x["status"]) for x in calls(driver)]
    check("(f) %s: the session was asked for once" % label, c == calls_want, c)
    errs = uncaught(driver)
    check("(f) %s: no uncaught error" % label, not errs, errs)
    state = driver.execute_script("return window.Ringtrail && Ringtrail.session();")
    cookies = [k["name"] for k in driver.get_cookies()]
    check("(f) %s: no session, no cookie" % label,
          state is None and "_rt_session" not in cookies, (state, cookies))


def test_unknown_key(driver, base):
    fresh(driver, base, "/site/dni-formats.html?key=pk_unknownunknownunknown")
    check_originals(driver, "unknown site key", [("/v1/dni/sessions", 404)])


def test_api_slow(driver, base):
    fresh(driver, base, "/site/dni-formats.html?key=pk_test&api=slow")
    time.sleep(3.5)  # the stub would answer after 3 s
    text = driver.execute_script(PAGE_TEXT_JS)
    c = calls(driver)
    check("API slow (stub): the request is aborted after 1.5 s and nothing is swapped",
          not SWAPPED.search(text) and [x["status"] for x in c] == ["aborted"], c)
    errs = uncaught(driver)
    check("API slow (stub): no uncaught error", not errs, errs)


def test_server_stopped(driver, base, proc, site_key, src):
    """The page is loaded without dni.js, the server stopped, and then dni.js
    added inline (its API is then the page's own origin): the session request
    finds no server."""
    fresh(driver, base, "/site/dni-formats.html")
    rc = stop_server(proc)
    check("server exits cleanly", rc == 0, rc)
    driver.execute_script(
        "var s = document.createElement('script');"
        "s.setAttribute('data-site-key', arguments[1]);"
        "s.text = arguments[0];"
        "document.head.appendChild(s);", src, site_key)
    check("server stopped: dni.js runs", driver.execute_script("return !!window.Ringtrail;"))
    wait(driver, lambda d: all(x["status"] for x in calls(d)), 3)
    check_originals(driver, "server stopped", [("/v1/dni/sessions", "failed")])


def main():
    binary, web_src, pages = sys.argv[1], sys.argv[2], sys.argv[3]
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        web_root = os.path.join(tmp, "web")
        shutil.copytree(web_src, web_root)
        shutil.copytree(pages, os.path.join(web_root, "site"))
        proc, info = start_server(binary, web_root, tmp)
        base, key = info["url"].rstrip("/"), info["key"]
        opts = webdriver.ChromeOptions()
        for flag in CHROME_FLAGS + ["--user-data-dir=" + os.path.join(tmp, "chrome"),
                                    "--user-agent=" + BROWSER_UA]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=opts)
        driver.set_script_timeout(10)
        driver.set_page_load_timeout(15)
        try:
            src = test_script_served(base, web_src)
            site_key, us_pool, _ = make_pools(base, key)
            sid = test_us_formats(driver, base, key, site_key)
            test_second_page(driver, base, key, site_key, sid, us_pool)
            test_uk_formats(driver, base, key, site_key)
            test_cross_country(driver, base, key, site_key)
            test_consent(driver, base, key, site_key)
            test_unknown_key(driver, base)
            test_api_slow(driver, base)
            test_server_stopped(driver, base, proc, site_key, src)
        finally:
            driver.quit()
            if proc.poll() is None:
                stop_server(proc)
    print("%d passed, %d failed in %.1f s" % (passed, failed, time.time() - started))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Browser test of dni.js, the number-swapping script, in headless Chromium.

Starts the real `ringtrail serve` with --web-root pointing at a temporary
copy of the repository's web/ folder plus the test pages of tests/web/pages
(under /site/), and drives Chromium through them:

  - /dni.js is served with its type, CORS and cache headers; it is at most
    4 KB gzipped;
  - Ringtrail.swap(mapping) swaps every common format of the targets, to the
    same format, in text, across inline elements and in tel: links, leaves
    similar numbers, longer digit runs and data-rt-noswap alone, and a number
    added 1.5 s after load is swapped by the observer;
  - with the sessions endpoint refusing (an unknown site key: 404) or slow
    (a stub that answers after 3 s), the original numbers stay and nothing
    throws;
  - with a stubbed session answer, the numbers are swapped, kept in the
    first-party cookies, and a second page shows the same numbers with a
    page view instead of a new session;
  - with data-consent="wait", nothing happens before Ringtrail.consent(true);
  - against the server's own endpoint, with a pool and a number made through
    the API: the leased number is shown, kept on a second page, and the
    server holds the session with its source and both page views.

The format pages use 555 numbers, which no pool accepts: their session
answers come from pages/stub.js, which wraps fetch.

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
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update "
                "--disable-sync --window-size=1000,700").split()
# Headless Chromium names itself HeadlessChrome, which the server takes for
# a bot (bots are shown the site's own numbers): be a desktop Chrome.
BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")

MAPPING = {"+15550102000": "+13125550100", "+442079460958": "+442079460123"}
SWAPPED = re.compile(r"312\D{0,2}555|3125550100|7946\D?0123|79460123")

# Every [data-want] element's text and [data-want-href] link's href, as
# [element id or outerHTML, got, want].
MISMATCHES_JS = """
var bad = [];
document.querySelectorAll('[data-want]').forEach(function (e) {
  if (e.textContent != e.getAttribute('data-want'))
    bad.push([e.id || e.outerHTML, e.textContent, e.getAttribute('data-want')]);
});
document.querySelectorAll('[data-want-href]').forEach(function (e) {
  if (e.getAttribute('href') != e.getAttribute('data-want-href'))
    bad.push([e.id + ' href', e.getAttribute('href'), e.getAttribute('data-want-href')]);
});
return bad;
"""

# The text of the numbers on the page (not that of its scripts).
PAGE_TEXT_JS = """
return [].map.call(document.querySelectorAll('[data-want]'),
                   function (e) { return e.textContent; }).join('\\n');
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
    proc = subprocess.Popen(
        [binary, "serve", "--db", os.path.join(tmp, "r.db"), "--listen", "127.0.0.1:0",
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


def fresh(driver, base, page):
    """Loads page with no cookies but those of the test."""
    driver.get(base + "/site/stub.js")
    driver.delete_all_cookies()
    driver.get(base + page)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return !!window.Ringtrail;"))


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
    size = len(gzip.compress(src, 9))
    check("(h) dni.js is %d bytes gzipped, <= 4096" % size, size <= 4096)


def test_swap(driver, base):
    fresh(driver, base, "/site/dni-formats.html")
    late, n = driver.execute_script(
        "return [!!document.getElementById('late'), Ringtrail.swap(arguments[0])];",
        MAPPING)
    check("Ringtrail.swap ran before the late number was added", not late and n > 0,
          "late=%r n=%r" % (late, n))
    bad = driver.execute_script(
        "return (" + "function(){" + MISMATCHES_JS + "})()"
        ".filter(function (b) { return b[0] != 'late'; });")
    for section, name in (("formats", "(a) every format swapped to the same format"),
                          ("inline", "(a) numbers across inline elements swapped"),
                          ("similar", "(b) similar numbers and longer digit runs untouched"),
                          ("noswap", "(c) data-rt-noswap and form fields untouched"),
                          ("tel", "(e) tel: links swapped, href and text")):
        wrong = driver.execute_script(
            "var s = document.getElementById(arguments[0]), bad = [];"
            "s.querySelectorAll('[data-want]').forEach(function (e) {"
            "  if (e.textContent != e.getAttribute('data-want'))"
            "    bad.push([e.textContent, e.getAttribute('data-want')]); });"
            "s.querySelectorAll('[data-want-href]').forEach(function (e) {"
            "  if (e.getAttribute('href') != e.getAttribute('data-want-href'))"
            "    bad.push([e.getAttribute('href'), e.getAttribute('data-want-href')]); });"
            "return bad;", section)
        check(name, not wrong, wrong)
    fields = driver.execute_script(
        "return [document.getElementById('ta').value, document.getElementById('in').value,"
        " document.getElementById('sc').textContent];")
    check("(c) textarea, input and script keep their text",
          fields == ["555-010-2000"] * 3, fields)
    check("every [data-want] checked", not bad, bad)
    try:
        WebDriverWait(driver, 6).until(lambda d: d.execute_script(
            "var e = document.getElementById('late');"
            "return e && e.textContent == e.getAttribute('data-want');"))
        ok = True
    except Exception:
        ok = False
    check("(d) a number added 1.5 s after load is swapped", ok, driver.execute_script(
        "var e = document.getElementById('late'); return e && e.textContent;"))
    check("no uncaught errors while swapping", not uncaught(driver), uncaught(driver))


def test_api_down(driver, base):
    fresh(driver, base, "/site/dni-formats.html")
    time.sleep(2.5)  # past the 1.5 s limit and the late insertion
    text = driver.execute_script(PAGE_TEXT_JS)
    hrefs = driver.execute_script(
        "return [].map.call(document.querySelectorAll('a'), function (a) { return a.href; });")
    late = driver.execute_script("return document.getElementById('late').textContent;")
    check("(f) API down: the original numbers stay",
          not SWAPPED.search(text) and not any(SWAPPED.search(h) for h in hrefs)
          and late == "Added later: (555) 010-2000", SWAPPED.search(text))
    c = calls(driver)
    check("(f) API down: the session was asked for and answered 404",
          [(x["url"].split("/", 3)[3], x["status"]) for x in c]
          == [("v1/dni/sessions", 404)], c)
    errs = uncaught(driver)
    check("(f) API down: no uncaught error", not errs, errs)
    state = driver.execute_script("return Ringtrail.session();")
    cookies = [k["name"] for k in driver.get_cookies()]
    check("(f) API down: no session, no cookie",
          state is None and "_rt_session" not in cookies, (state, cookies))


def test_api_slow(driver, base):
    fresh(driver, base, "/site/dni-formats.html?api=slow")
    time.sleep(3.5)  # the stub would answer after 3 s
    text = driver.execute_script(PAGE_TEXT_JS)
    c = calls(driver)
    check("API slow: the request is aborted after 1.5 s and nothing is swapped",
          not SWAPPED.search(text) and [x["status"] for x in c] == ["aborted"], c)
    errs = uncaught(driver)
    check("API slow: no uncaught error", not errs, errs)


def test_session_and_second_page(driver, base):
    driver.get(base + "/site/stub.js")
    driver.delete_all_cookies()
    driver.add_cookie({"name": "_ga", "value": "GA1.1.123456789.1700000000", "path": "/"})
    driver.get(base + "/site/dni-formats.html?api=ok&utm_source=test")
    try:
        WebDriverWait(driver, 6).until(lambda d: not d.execute_script(
            "return (function(){" + MISMATCHES_JS + "})();"))
        ok = True
    except Exception:
        ok = False
    check("a session answer swaps the page", ok,
          driver.execute_script("return (function(){" + MISMATCHES_JS + "})();"))
    c = calls(driver)
    body = json.loads(c[0]["body"]) if c else {}
    check("the session request carries site key, landing page, GA id and consent",
          c and c[0]["url"] == base + "/v1/dni/sessions"
          and body.get("site_key") == "pk_test"
          and body.get("landing_url") == base + "/site/dni-formats.html?api=ok&utm_source=test"
          and body.get("title") == "DNI formats"
          and body.get("ga_client_id") == "123456789.1700000000"
          and body.get("visitor_id") is None
          and body.get("consent") == {"analytics": True}, body)
    cookies = {k["name"]: k for k in driver.get_cookies()}
    check("session and visitor kept in first-party cookies",
          "_rt_session" in cookies and cookies.get("_rt_visitor", {}).get("value") == "v_test",
          cookies)
    state = driver.execute_script("return Ringtrail.session();")
    check("Ringtrail.session() tells the session",
          state and state["session_id"] == "s_test" and state["numbers"] == MAPPING, state)

    # The second page talks to the real server, whose sessions endpoint
    # 404s: its numbers can only come from the cookie.
    driver.get(base + "/site/dni-second.html")
    try:
        WebDriverWait(driver, 5).until(lambda d: not d.execute_script(
            "return (function(){" + MISMATCHES_JS + "})();"))
        ok = True
    except Exception:
        ok = False
    check("(g) the second page shows the same numbers", ok,
          driver.execute_script("return (function(){" + MISMATCHES_JS + "})();"))
    time.sleep(0.5)
    paths = [x["url"][len(base):] for x in calls(driver)]
    check("(g) the second page sends a page view, not a new session",
          paths == ["/v1/dni/sessions/s_test/pageviews"], paths)
    body = json.loads(calls(driver)[0]["body"]) if paths else {}
    check("(g) the page view carries url and title",
          body == {"url": base + "/site/dni-second.html", "title": "DNI second page"}, body)
    errs = uncaught(driver)
    check("(g) no uncaught error", not errs, errs)


def api(base, key, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"null")


def test_real_endpoint(driver, base, key):
    """dni.js against the server's own sessions endpoint: a pool, a number,
    the site key, a page, a second page, and the session as support sees it."""
    pool = api(base, key, "POST", "/v1/pools",
               {"name": "Web test", "swap_targets": ["+13125550199"]})
    api(base, key, "POST", "/v1/numbers", {"number": "+13125550100", "pool_id": pool["id"]})
    site_key = api(base, key, "GET", "/v1/me")["account"]["site_key"]
    driver.get(base + "/site/stub.js")
    driver.delete_all_cookies()
    driver.get(base + "/site/dni-real.html?key=%s&utm_source=google&utm_medium=cpc"
               "&utm_campaign=spring&utm_term=plumber" % site_key)
    try:
        WebDriverWait(driver, 6).until(lambda d: not d.execute_script(
            "return (function(){" + MISMATCHES_JS + "})();"))
        ok = True
    except Exception:
        ok = False
    check("real endpoint: the leased number replaces the target, in its format", ok,
          driver.execute_script("return (function(){" + MISMATCHES_JS + "})();"))
    state = driver.execute_script("return Ringtrail.session();") or {}
    sid = state.get("session_id")
    check("real endpoint: a session id from the server",
          isinstance(sid, str) and sid.isdigit(), state)
    driver.get(base + "/site/dni-real.html?key=%s" % site_key)
    try:
        WebDriverWait(driver, 5).until(lambda d: not d.execute_script(
            "return (function(){" + MISMATCHES_JS + "})();"))
        ok = True
    except Exception:
        ok = False
    check("real endpoint: the second page shows the same number", ok)
    time.sleep(0.5)
    if sid:
        s = api(base, key, "GET", "/v1/dni/sessions/" + sid)
        check("real endpoint: the server kept the visit, its source and both pages",
              s["number"] == "+13125550100" and s["pageview_count"] == 2
              and len(s["pageviews"]) == 2 and s["live"]
              and s["source"]["channel"] == "Paid Search"
              and s["source"]["term"] == "plumber"
              and s["device"]["class"] == "desktop", s)
    errs = uncaught(driver)
    check("real endpoint: no uncaught error", not errs, errs)


def test_consent(driver, base):
    fresh(driver, base, "/site/dni-consent.html?api=ok")
    time.sleep(1)
    text = driver.execute_script("return document.getElementById('n1').textContent;")
    c = calls(driver)
    cookies = [k["name"] for k in driver.get_cookies()]
    check("consent wait: nothing before consent",
          not c and text == "Call (555) 010-2000" and "_rt_session" not in cookies,
          (c, text, cookies))
    driver.execute_script("Ringtrail.consent(true);")
    try:
        WebDriverWait(driver, 5).until(lambda d: d.execute_script(
            "return document.getElementById('n1').textContent;") == "Call (312) 555-0100")
        ok = True
    except Exception:
        ok = False
    c = calls(driver)
    check("consent wait: Ringtrail.consent(true) starts the session",
          ok and len(c) == 1 and json.loads(c[0]["body"])["consent"] == {"analytics": True}, c)


def main():
    binary, web_src, pages = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory() as tmp:
        web_root = os.path.join(tmp, "web")
        shutil.copytree(web_src, web_root)
        shutil.copytree(pages, os.path.join(web_root, "site"))
        proc, info = start_server(binary, web_root, tmp)
        base = info["url"].rstrip("/")
        opts = webdriver.ChromeOptions()
        for flag in CHROME_FLAGS + ["--user-data-dir=" + os.path.join(tmp, "chrome"),
                                    "--user-agent=" + BROWSER_UA]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=opts)
        driver.set_script_timeout(10)
        try:
            test_script_served(base, web_src)
            test_swap(driver, base)
            test_api_down(driver, base)
            test_api_slow(driver, base)
            test_session_and_second_page(driver, base)
            test_consent(driver, base)
            test_real_endpoint(driver, base, info["key"])
        finally:
            driver.quit()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -9
        check("server exits cleanly", rc == 0, rc)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Browser test of the web app's sign-in, in headless Chromium via Selenium.

Starts the real `ringtrail serve` on a free port with a temporary database,
signs in with the printed admin credentials (after a wrong password), checks
the account page survives a reload, and signs out.

usage: test_login.py RINGTRAIL_BINARY WEB_ROOT
Runs under Debian's /usr/bin/python3 (python3-selenium, chromium-driver).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update "
                "--disable-sync --window-size=1000,700").split()


def start_server(binary, web_root, tmp):
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
        m = re.match(r"(admin user|admin password|api key): (\S+)", line)
        if m:
            info[m.group(1)] = m.group(2)
        m = re.match(r"listening on (http://\S+)", line)
        if m:
            info["url"] = m.group(1)
    if "url" not in info or "admin password" not in info:
        proc.kill()
        sys.exit("server did not start: %r" % info)
    return proc, info


def main():
    binary, web_root = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        proc, info = start_server(binary, web_root, tmp)
        opts = webdriver.ChromeOptions()
        for flag in CHROME_FLAGS + ["--user-data-dir=" + os.path.join(tmp, "chrome")]:
            opts.add_argument(flag)
        driver = webdriver.Chrome(options=opts)
        wait = WebDriverWait(driver, 10)
        try:
            driver.get(info["url"] + "/")
            wait.until(lambda d: d.find_element(By.ID, "login-view").is_displayed())

            driver.find_element(By.NAME, "email").send_keys(info["admin user"])
            driver.find_element(By.NAME, "password").send_keys("not-the-password")
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(lambda d: d.find_element(By.ID, "login-error").is_displayed())
            error = driver.find_element(By.ID, "login-error").text
            assert "wrong" in error, "unexpected error text: %r" % error

            password = driver.find_element(By.NAME, "password")
            password.clear()
            password.send_keys(info["admin password"])
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(lambda d: d.find_element(By.ID, "home-view").is_displayed())
            assert driver.find_element(By.ID, "account-name").text == "Demo Agency"
            assert driver.find_element(By.ID, "role").text == "owner"
            assert driver.find_element(By.ID, "who").text == info["admin user"]

            # The HttpOnly session cookie survives a reload; the page gets
            # its CSRF token back from /v1/me.
            driver.refresh()
            wait.until(lambda d: d.find_element(By.ID, "home-view").is_displayed())
            cookies = {c["name"]: c for c in driver.get_cookies()}
            assert cookies["rt_session"]["httpOnly"], "session cookie must be HttpOnly"
            assert cookies["rt_session"].get("sameSite") == "Strict"

            driver.find_element(By.ID, "logout").click()
            wait.until(lambda d: d.find_element(By.ID, "login-view").is_displayed())
            driver.refresh()
            wait.until(lambda d: d.find_element(By.ID, "login-view").is_displayed())
        finally:
            driver.quit()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -9
        assert rc == 0, "server exited with %d" % rc
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()

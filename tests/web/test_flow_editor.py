#!/usr/bin/python3
"""Browser test of the call-flow editor, in headless Chromium via Selenium.

Starts the real `ringtrail serve` on loopback with a temporary database and
drives the web app as a user would, at 1000x700:

- the flows list: empty state, create a flow, delete it, create another;
- the editor: a menu and two dials added from the palette, their settings
  typed into the side panel, boxes dragged into place, exits connected by
  dragging from a port onto a box (welcome -> menu, 1 -> dial A,
  2 -> dial B), an unreachable step shown as a warning, then saved;
- the saved document (GET /v1/flows/{id}) holds exactly what was built,
  and after a reload the reopened flow draws the same boxes, ports,
  connectors and positions;
- versions (an older one opens read-only) and a simulated call's path;
- an invalid flow (a menu timeout out of range, a dial without targets):
  each of the server's problems is shown on its step's box with the
  server's message, and a save is refused;
- a prompt from an audio file uploaded in the side panel (a WAV at
  44.1 kHz stereo): chosen, playable, saved as its audio_id;
- the keyboard: arrow keys move the focused step, Delete removes it;
- a lost session goes back to sign-in, and the unsaved work is still
  there after signing in again.

Screenshots go to $RT_TEST_ARTIFACTS (default ./web-artifacts).

usage: test_flow_editor.py RINGTRAIL_BINARY WEB_ROOT
Runs under Debian's /usr/bin/python3 (python3-selenium, chromium-driver).
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import wave

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update "
                "--disable-sync --window-size=1000,700").split()

# What the page draws: each box's id, type, position on the stage, ports
# and start mark; each connector's ends.
CANVAS_JS = """
const stage = document.querySelector('#editor-view .fe-stage');
if (!stage) return null;
const r0 = stage.getBoundingClientRect();
const steps = [...stage.querySelectorAll('.fe-step')].map((b) => {
  const r = b.getBoundingClientRect();
  return {
    id: b.dataset.stepId, type: b.dataset.type,
    x: Math.round(r.left - r0.left), y: Math.round(r.top - r0.top),
    ports: [...b.querySelectorAll('.fe-port')].map((p) => p.dataset.exit),
    connected: [...b.querySelectorAll('.fe-port.on')].map((p) => p.dataset.exit),
    start: b.classList.contains('start'),
    bad: b.classList.contains('bad'), warn: b.classList.contains('warn'),
    onpath: b.classList.contains('onpath'),
    messages: [...b.querySelectorAll('.fe-msgs li')].map((li) => li.textContent),
  };
});
const edges = [...stage.querySelectorAll('.fe-edge')].map((g) => ({
  from: g.dataset.from, exit: g.dataset.exit, to: g.dataset.to,
  path: g.classList.contains('path'),
  drawn: g.querySelector('.line').getAttribute('d').length > 0,
}));
return { steps, edges };
"""

MENU_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#", "timeout", "invalid"]
DIAL_EXITS = ["answered", "no_answer", "busy", "failed"]

passed = 0


def check(cond, what, detail=""):
    global passed
    if not cond:
        raise AssertionError("%s %s" % (what, detail))
    passed += 1
    print("ok   %s" % what)


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
    if "url" not in info or "admin password" not in info or "api key" not in info:
        proc.kill()
        sys.exit("server did not start: %r" % info)
    return proc, info


def api(info, method, path, body=None):
    req = urllib.request.Request(
        info["url"] + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + info["api key"],
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Page:
    def __init__(self, driver):
        self.d = driver

    def wait(self, cond, what, seconds=10):
        try:
            return WebDriverWait(self.d, seconds, poll_frequency=0.05).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError("timed out waiting for " + what)

    def css(self, sel, root=None):
        return (root or self.d).find_element(By.CSS_SELECTOR, sel)

    def all(self, sel, root=None):
        return (root or self.d).find_elements(By.CSS_SELECTOR, sel)

    def shown(self, sel):
        els = self.all(sel)
        return els and els[0].is_displayed()

    def text(self, sel):
        els = self.all(sel)
        return els[0].text if els else ""

    def box(self, step_id):
        return self.css('#editor-view .fe-step[data-step-id="%s"]' % step_id)

    def canvas(self):
        return self.d.execute_script(CANVAS_JS)

    def step(self, step_id):
        for s in (self.canvas() or {"steps": []})["steps"]:
            if s["id"] == step_id:
                return s
        return None

    def panel(self, sel):
        return self.css("#editor-view .fe-panel " + sel)

    def type_into(self, el, text):
        el.send_keys(Keys.CONTROL, "a")
        el.send_keys(Keys.DELETE)
        el.send_keys(text)

    def add(self, step_type, expect_id):
        self.css('.fe-palette button[data-type="%s"]' % step_type).click()
        self.wait(lambda: self.step(expect_id) is not None, "step %s added" % expect_id)
        self.wait(lambda: self.panel("#fe-step-id").get_attribute("value") == expect_id,
                  "panel of %s" % expect_id)

    def select(self, step_id):
        ActionChains(self.d).move_to_element(self.css(".fe-sum", self.box(step_id))).click().perform()
        self.wait(lambda: self.panel("#fe-step-id").get_attribute("value") == step_id,
                  "panel of %s" % step_id)

    def drag_to(self, step_id, x, y):
        """Drags a box by its head to (x, y) on the stage."""
        self.settled()
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})",
                              self.box(step_id))
        before = self.step(step_id)
        dx, dy = x - before["x"], y - before["y"]
        head = self.css(".fe-step-head", self.box(step_id))
        (ActionChains(self.d).move_to_element(head).click_and_hold()
         .move_by_offset(dx // 2, dy // 2).move_by_offset(dx - dx // 2, dy - dy // 2)
         .release().perform())
        self.wait(lambda: (self.step(step_id)["x"], self.step(step_id)["y"]) == (x, y),
                  "%s moved to %d,%d (now %r)" % (step_id, x, y, self.step(step_id)))

    def settled(self):
        self.wait(lambda: self.text("#editor-view .fe-check") != "Checking…", "the check's answer")

    def connect(self, from_id, exit_name, to_id):
        """Drags from an exit's port onto a box."""
        self.settled()
        self.d.execute_script("document.querySelector('#editor-view .fe-canvas').scrollTo(0, 0)")
        port = self.css('.fe-port[data-exit="%s"]' % exit_name, self.box(from_id))
        target = self.css(".fe-step-head", self.box(to_id))
        (ActionChains(self.d).move_to_element(port).click_and_hold()
         .move_by_offset(4, 12).move_to_element(target).release().perform())
        self.wait(lambda: {"from": from_id, "exit": exit_name, "to": to_id} in
                  [{k: e[k] for k in ("from", "exit", "to")} for e in self.canvas()["edges"]],
                  "connector %s.%s -> %s" % (from_id, exit_name, to_id))

    def checked(self, what):
        self.wait(lambda: self.text("#editor-view .fe-check") == what,
                  "check status %r (now %r)" % (what, self.text("#editor-view .fe-check")))

    def shot(self, name):
        out = os.environ.get("RT_TEST_ARTIFACTS") or os.path.join(os.getcwd(), "web-artifacts")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, name)
        self.d.save_screenshot(path)
        print("screenshot: %s" % path)


def sign_in(p, info):
    p.wait(lambda: p.shown("#login-view"), "the sign-in page")
    p.css("input[name=email]").clear()
    p.css("input[name=email]").send_keys(info["admin user"])
    p.css("input[name=password]").send_keys(info["admin password"])
    p.css("#login-form button[type=submit]").click()


def drawn_matches_doc(drawn, doc):
    """The canvas against a document: the same steps, types, positions,
    ports for each exit, and connectors."""
    steps = {s["id"]: s for s in doc["steps"]}
    check(sorted(s["id"] for s in drawn["steps"]) == sorted(steps),
          "the canvas has the document's steps", str(drawn["steps"]))
    for s in drawn["steps"]:
        d = steps[s["id"]]
        check(s["type"] == d["type"] and (s["x"], s["y"]) == (d["x"], d["y"]),
              "box %s: type and position as saved" % s["id"], "%r vs %r" % (s, d))
        check(s["start"] == (doc["start"] == s["id"]), "box %s: start mark" % s["id"])
        check(sorted(s["connected"]) == sorted(d.get("exits", {})),
              "box %s: connected ports are the document's exits" % s["id"])
    want = sorted((s["id"], k, v) for s in doc["steps"] for k, v in s.get("exits", {}).items()
                  if v is not None)
    have = sorted((e["from"], e["exit"], e["to"]) for e in drawn["edges"])
    check(have == want, "connectors are the document's exits", "%r vs %r" % (have, want))
    check(all(e["drawn"] for e in drawn["edges"]), "every connector has a path")


def run(p, info):
    d = p.d
    base = info["url"]

    # ---- sign in, the flows list, create and delete -----------------------
    d.get(base + "/#/flows")
    sign_in(p, info)
    p.wait(lambda: p.shown("#flows-view"), "the flows page after sign-in")
    p.wait(lambda: "No call flows yet" in p.text("#flows-state"), "the empty state")
    check(p.css('#nav a[data-view="flows"]').get_attribute("aria-current") == "page",
          "the Flows link is current")

    p.css("#flow-create-btn").click()
    p.wait(lambda: p.shown("#flow-create-error"), "a nameless flow refused")
    p.css("#flow-name").send_keys("Scratch")
    p.css("#flow-create-btn").click()
    p.wait(lambda: re.search(r"#/flows/\d+$", d.current_url), "the editor of the new flow")
    scratch = int(d.current_url.rsplit("/", 1)[1])
    p.wait(lambda: p.step("welcome") is not None, "the first step drawn")
    p.css("#editor-view .fe-back").click()
    p.wait(lambda: p.all('tr[data-flow-id="%d"]' % scratch), "the new flow listed")
    row = p.css('tr[data-flow-id="%d"]' % scratch)
    check(p.css(".fl-version", row).text == "1", "listed at version 1")
    p.css(".fl-delete", row).click()
    p.css(".fl-delete-yes", row).click()
    p.wait(lambda: not p.all('tr[data-flow-id="%d"]' % scratch), "the deleted flow gone")
    p.wait(lambda: "No call flows yet" in p.text("#flows-state"), "the empty state again")
    check(api(info, "GET", "/v1/flows/%d" % scratch)[0] == 404, "the deleted flow is gone from the API")

    p.css("#flow-name").send_keys("Main line")
    p.css("#flow-create-btn").click()
    p.wait(lambda: re.search(r"#/flows/\d+$", d.current_url), "the editor of Main line")
    fid = int(d.current_url.rsplit("/", 1)[1])
    p.wait(lambda: p.step("welcome") is not None, "the first step drawn")
    p.checked("No problems")
    check(p.text("#editor-view .fe-title") == "Main line", "the editor shows the name")
    check(p.step("welcome")["start"], "the first step is the start")

    # ---- build: a menu and two dials --------------------------------------
    p.add("menu", "menu1")
    check(p.step("menu1")["ports"] == MENU_KEYS, "a menu's ports", str(p.step("menu1")["ports"]))
    prompt = p.panel('[data-field="prompt"] textarea')
    p.type_into(prompt, "For sales, press 1. For support, press 2.")
    p.wait(lambda: any("no menu" in m or "digit" in m for m in p.step("menu1")["messages"]),
           "the menu's missing key exit shown on its box")

    p.add("dial", "dial1")
    check(p.step("dial1")["ports"] == DIAL_EXITS, "a dial's ports", str(p.step("dial1")["ports"]))
    p.panel("#fe-add-target").click()
    p.wait(lambda: p.all('#editor-view .fe-panel [data-field="targets[0]"] .fe-dest'), "a target row")
    p.panel('[data-field="targets[0]"] .fe-dest').send_keys("+14155550101")

    p.add("dial", "dial2")
    p.panel("#fe-add-target").click()
    p.wait(lambda: p.all('#editor-view .fe-panel [data-field="targets[0]"] .fe-kind'), "a target row")
    Select(p.panel('[data-field="targets[0]"] .fe-kind')).select_by_value("uri")
    p.wait(lambda: p.panel('[data-field="targets[0]"] .fe-dest').get_attribute("placeholder").startswith("sip:"),
           "the target row as a URI")
    p.panel('[data-field="targets[0]"] .fe-dest').send_keys("sip:support@pbx.example.com")
    ring = p.panel('[data-field="targets[0]"] input[type=number]')
    ring.send_keys("30")
    Select(p.panel('[data-field="strategy"] select')).select_by_value("sequential")

    # place the boxes: the menu under the welcome, the dials under the menu
    p.drag_to("menu1", 40, 150)
    p.drag_to("dial1", 40, 350)
    p.drag_to("dial2", 280, 350)

    p.connect("welcome", "next", "menu1")
    p.connect("menu1", "1", "dial1")
    p.checked("1 warning")
    dial2 = p.step("dial2")
    check(dial2["warn"] and not dial2["bad"] and
          any("no call reaches this step" in m for m in dial2["messages"]),
          "the unreachable dial is marked amber with the server's warning", str(dial2))
    p.connect("menu1", "2", "dial2")
    p.checked("No problems")

    # ---- save, then compare the API's document with the canvas ------------
    built = p.canvas()
    p.css("#fe-save").click()
    p.wait(lambda: p.text("#editor-view .fe-saved") == "Saved version 2", "the saved version shown")
    st, flow = api(info, "GET", "/v1/flows/%d" % fid)
    check(st == 200 and flow["version"] == 2, "the API has version 2", str(st))
    doc = flow["flow"]
    steps = {s["id"]: s for s in doc["steps"]}
    check(doc["start"] == "welcome" and sorted(steps) == ["dial1", "dial2", "menu1", "welcome"],
          "the saved steps", str(doc))
    check(steps["welcome"]["exits"] == {"next": "menu1"}, "welcome -> menu1")
    check(steps["menu1"]["exits"] == {"1": "dial1", "2": "dial2"}, "menu 1 -> dial1, 2 -> dial2",
          str(steps["menu1"]))
    check(steps["menu1"]["prompt"] == {"text": "For sales, press 1. For support, press 2."},
          "the menu's prompt")
    check(set(steps["menu1"]) == {"id", "type", "prompt", "exits", "x", "y"},
          "the menu has no fields but those set", str(steps["menu1"]))
    check(steps["dial1"]["targets"] == [{"number": "+14155550101"}], "dial1's target",
          str(steps["dial1"]))
    check(steps["dial2"]["targets"] == [{"uri": "sip:support@pbx.example.com", "ring_s": 30}]
          and steps["dial2"]["strategy"] == "sequential", "dial2's target and strategy",
          str(steps["dial2"]))
    check("exits" not in steps["dial1"] and "exits" not in steps["dial2"], "the dials' exits are open")
    drawn_matches_doc(built, doc)
    check(steps["menu1"]["y"] > steps["welcome"]["y"] and steps["dial1"]["y"] > steps["menu1"]["y"],
          "the dragged positions were saved", str(doc))

    # ---- reload and reopen ------------------------------------------------
    d.get(base + "/#/flows")
    d.refresh()
    p.wait(lambda: p.all('tr[data-flow-id="%d"]' % fid), "the flow listed after a reload")
    row = p.css('tr[data-flow-id="%d"]' % fid)
    check(p.css(".fl-version", row).text == "2", "listed at version 2")
    p.css(".fl-open", row).click()
    p.wait(lambda: p.step("dial2") is not None, "the flow reopened")
    p.checked("No problems")
    again = p.canvas()
    drawn_matches_doc(again, doc)
    key = lambda c: (sorted((s["id"], s["type"], s["x"], s["y"], tuple(s["ports"])) for s in c["steps"]),
                     sorted((e["from"], e["exit"], e["to"]) for e in c["edges"]))
    check(key(again) == key(built), "the reopened canvas is the one that was built")
    p.shot("flow-editor.png")

    # ---- a prompt from an uploaded audio file ------------------------------
    st, other = api(info, "POST", "/v1/flows", {"name": "Audio line", "flow": {
        "format": 1, "start": "welcome",
        "steps": [{"id": "welcome", "type": "play", "prompt": {"text": "Hello."}, "x": 40, "y": 40}]}})
    check(st == 201, "a second flow for the audio prompt", str(other))
    wav_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rt-web-greeting-%d.wav" % os.getpid())
    with wave.open(wav_path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"".join(
            int(8000 * math.sin(2 * math.pi * 440 * i / 44100)).to_bytes(2, "little", signed=True) * 2
            for i in range(44100)))
    d.get(base + "/#/flows/%d" % other["id"])
    p.wait(lambda: p.step("welcome") is not None, "the audio flow opened")
    p.select("welcome")
    Select(p.panel('[data-field="prompt"] .fe-prompt-kind')).select_by_value("audio")
    p.wait(lambda: p.all('#editor-view .fe-panel [data-field="prompt"] .fe-upload'), "the upload control")
    p.panel('[data-field="prompt"] .fe-upload').send_keys(wav_path)
    p.wait(lambda: "Uploaded" in p.text('#editor-view .fe-panel [data-field="prompt"] [role=status]'),
           "the file uploaded", 20)
    os.unlink(wav_path)
    st, files = api(info, "GET", "/v1/audio")
    check(st == 200 and len(files["data"]) == 1, "the file is the account's", str(files))
    audio = files["data"][0]
    check(audio["name"] == os.path.basename(wav_path) and audio["format"] == "wav" and
          980 <= audio["duration_ms"] <= 1020, "named and converted", str(audio))
    chosen = Select(p.panel('[data-field="prompt"] .fe-audio')).first_selected_option
    check(chosen.get_attribute("value") == str(audio["id"]) and os.path.basename(wav_path) in chosen.text,
          "the uploaded file is chosen", chosen.text)
    player = p.panel('[data-field="prompt"] .fe-player')
    check(player.get_attribute("src").endswith("/v1/audio/%d/file" % audio["id"]) and player.is_displayed(),
          "and can be listened to", player.get_attribute("src"))
    p.checked("No problems")
    p.css("#fe-save").click()
    p.wait(lambda: p.text("#editor-view .fe-saved") == "Saved version 2", "the audio flow saved")
    st, saved = api(info, "GET", "/v1/flows/%d" % other["id"])
    check(saved["flow"]["steps"][0]["prompt"] == {"audio_id": audio["id"]}, "saved as its audio_id",
          str(saved["flow"]))
    p.shot("flow-editor-audio.png")
    d.get(base + "/#/flows/%d" % fid)
    p.wait(lambda: p.step("dial2") is not None, "back to Main line")
    p.checked("No problems")

    # ---- versions and a simulated call ------------------------------------
    p.css("#fe-tab-versions").click()
    p.wait(lambda: len(p.all(".fe-versions li")) == 2, "two versions listed")
    p.css('.fe-versions li[data-version="1"] a').click()
    p.wait(lambda: "read-only" in p.text("#editor-view .fe-ver"), "version 1 read-only")
    p.wait(lambda: p.canvas() and [s["id"] for s in p.canvas()["steps"]] == ["welcome"],
           "version 1's single step")
    check(not p.css("#editor-view .fe-palette").is_displayed() and
          not p.css("#fe-save").is_displayed(), "no palette or save on an old version")
    p.css("#editor-view .fe-latest").click()
    p.wait(lambda: p.step("dial2") is not None and p.css("#fe-save").is_displayed(), "the latest again")

    p.css("#fe-tab-simulate").click()
    p.css("#fe-sim-digits").send_keys("2")
    p.css("#fe-sim-run").click()
    p.wait(lambda: "Ended" in p.text(".fe-sim-result h3"), "the simulated call")
    drawn = p.canvas()
    check(sorted(s["id"] for s in drawn["steps"] if s["onpath"]) == ["dial2", "menu1", "welcome"],
          "the simulated path marked on the boxes", str(drawn["steps"]))
    check(sorted((e["from"], e["exit"]) for e in drawn["edges"] if e["path"]) ==
          [("menu1", "2"), ("welcome", "next")], "and on the connectors")
    p.shot("flow-editor-simulate.png")

    # ---- an invalid flow: the server's messages on the boxes --------------
    p.select("menu1")
    p.type_into(p.panel('[data-field="timeout_s"] input'), "99")
    p.select("dial2")
    p.css('#editor-view .fe-panel button[aria-label="Remove this target"]').click()
    p.checked("2 problems")
    bad = json.loads(json.dumps(doc))
    for s in bad["steps"]:
        if s["id"] == "menu1":
            s["timeout_s"] = 99
        if s["id"] == "dial2":
            s["targets"] = []
    st, answer = api(info, "POST", "/v1/flows/validate", {"flow": bad})
    check(st == 422 and answer["error"]["code"] == "invalid_flow", "the API refuses the same document")
    problems = answer["error"]["problems"]
    check(sorted(x["step"] for x in problems) == ["dial2", "menu1"], "one problem per changed step",
          str(problems))
    drawn = p.canvas()
    for x in problems:
        s = [b for b in drawn["steps"] if b["id"] == x["step"]][0]
        check(s["bad"] and x["message"] in s["messages"],
              "box %s shows %r" % (x["step"], x["message"]), str(s))
    dial_msg = [x["message"] for x in problems if x["step"] == "dial2"][0]
    check(dial_msg in p.text('#editor-view .fe-panel [data-field="targets"]'),
          "the panel shows the problem at the targets")
    check(not [b for b in drawn["steps"] if b["bad"] and b["id"] not in ("menu1", "dial2")],
          "no other box is marked")
    p.css("#fe-save").click()
    p.wait(lambda: p.text("#editor-view .fe-saved").startswith("Not saved: 2 problems"),
           "the save refused")
    check(api(info, "GET", "/v1/flows/%d" % fid)[1]["version"] == 2, "still version 2")
    p.shot("flow-editor-invalid.png")

    # ---- keyboard ---------------------------------------------------------
    focused = lambda: d.execute_script("return document.activeElement.dataset.stepId || null")
    d.execute_script("document.querySelector('#editor-view .fe-canvas').focus()")
    order = []
    for _ in range(3):
        ActionChains(d).send_keys(Keys.TAB).perform()
        order.append(focused())
    check(order == ["welcome", "menu1", "dial1"], "Tab goes from step to step", str(order))
    p.wait(lambda: p.panel("#fe-step-id").get_attribute("value") == "dial1", "the focused step selected")
    x0, y0 = p.step("dial1")["x"], p.step("dial1")["y"]
    ActionChains(d).send_keys(Keys.ARROW_RIGHT).perform()
    p.wait(lambda: p.step("dial1")["x"] == x0 + 10, "ArrowRight moves the step by 10")
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ARROW_DOWN).key_up(Keys.SHIFT).perform()
    p.wait(lambda: p.step("dial1")["y"] == y0 + 1, "Shift+ArrowDown moves it by 1")
    ActionChains(d).send_keys(Keys.DELETE).perform()
    p.wait(lambda: p.step("dial1") is None, "Delete removes the focused step")
    check("1" not in p.step("menu1")["connected"], "and its connectors")

    # ---- a lost session ---------------------------------------------------
    d.delete_all_cookies()
    p.css("#fe-save").click()
    p.wait(lambda: p.shown("#login-view"), "back to sign-in after a 401")
    check("session has ended" in p.text("#login-notice"), "the lost session explained")
    sign_in(p, info)
    p.wait(lambda: p.shown("#editor-view"), "back in the editor")
    check(p.step("dial1") is None and p.step("dial2") is not None, "with the unsaved work kept")

    # ---- renaming a step carries its connectors ---------------------------
    p.select("dial2")
    p.type_into(p.panel("#fe-step-id"), "support")
    p.select("menu1")
    p.wait(lambda: p.step("support") is not None and p.step("dial2") is None, "dial2 renamed")
    check([(e["from"], e["exit"], e["to"]) for e in p.canvas()["edges"] if e["from"] == "menu1"] ==
          [("menu1", "2", "support")], "the menu's exit follows the new id")


def main():
    binary, web_root = sys.argv[1], sys.argv[2]
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        proc, info = start_server(binary, web_root, tmp)
        opts = webdriver.ChromeOptions()
        for flag in CHROME_FLAGS + ["--user-data-dir=" + os.path.join(tmp, "chrome")]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=opts)
        driver.set_page_load_timeout(20)
        driver.set_script_timeout(10)
        page = Page(driver)
        try:
            run(page, info)
            errors = [e["message"] for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE" and "Uncaught" in e.get("message", "")]
            check(not errors, "no uncaught errors in the page", str(errors))
        except Exception:
            page.shot("flow-editor-failure.png")
            for e in driver.get_log("browser"):
                print("browser: %s" % e.get("message"))
            raise
        finally:
            driver.quit()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -9
        assert rc == 0, "server exited with %d" % rc
    print("%d passed, 0 failed (%.1f s)" % (passed, time.time() - started))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Accuracy of `ringtrail analyze` on the labelled call corpus (tests/corpus).

For each call of a part (tune or heldout) it builds the transcript (the
render's reference transcript with its real times when RENDERED/<part>/<id>
.ref.json exists, else the script's turns at a speaking pace), runs
`ringtrail analyze --terms` with the industry's term lists: the keywords and
competitors labelled in that industry's calls of the part, as a user types
in the terms they track (tests/corpus/README.md allows this; the objection
phrases and every rule come from the tune part only), and compares with the
labels:

  intent        accuracy and macro-F1 over the eight intents
  sentiment     accuracy of the caller's, the agent's and the overall label
  keywords, competitors   precision and recall of the distinct terms
  objections    precision and recall of the categories raised
  outcome, qualified, next_step   accuracy
  redaction     recall per PII type (the labelled words gone from the
                masked transcript), and decoys left alone

Standard library only; prints a table, or JSON with --json.  --errors
lists every miss, for tuning on the tune part (never on heldout).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

INTENTS = ["purchase", "appointment", "inquiry", "complaint", "cancellation",
           "support", "spam", "other"]


def words(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def transcript_of(call, rendered):
    """The reference transcript: rendered times, else 2.6 words a second."""
    if rendered:
        ref = os.path.join(rendered, call["_part"], call["id"] + ".ref.json")
        if os.path.exists(ref):
            with open(ref) as f:
                return json.load(f)
    turns, at = [], 0
    for t in call["turns"]:
        ms = int(len(words(t["text"])) / 2.6 * 1000) + 300
        turns.append({"speaker": t["speaker"], "start_ms": at,
                      "end_ms": at + ms, "text": t["text"]})
        at += ms + 500
    return {"turns": turns}


def analyze(binary, transcript, terms):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(transcript, f)
        path = f.name
    try:
        args = [binary, "analyze"]
        if terms:
            args += ["--terms", terms]
        out = subprocess.run(args + [path], capture_output=True, text=True,
                             timeout=60)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return json.loads(out.stdout)


def norm(term):
    return " ".join(words(term))


def stem_set(terms):
    """Terms compared loosely: lower case, a plural 's' dropped."""
    out = set()
    for t in terms:
        w = norm(t).split()
        if w and len(w[-1]) > 3 and w[-1].endswith("s"):
            w[-1] = w[-1][:-1]
        out.add(" ".join(w))
    return out


class PR:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def add(self, got, want):
        self.tp += len(got & want)
        self.fp += len(got - want)
        self.fn += len(want - got)

    def p(self):
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def r(self):
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def f1(tp, fp, fn):
    if tp == 0:
        return 0.0
    p, r = tp / (tp + fp), tp / (tp + fn)
    return 2 * p * r / (p + r)


def pii_gone(masked_turn, pii):
    """Whether the PII's words no longer appear in the masked turn."""
    want = words(pii["text"])
    got = words(masked_turn)
    if not want:
        return True
    for i in range(len(got) - len(want) + 1):
        if got[i:i + len(want)] == want:
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True, help="tests/corpus")
    ap.add_argument("--part", default="heldout")
    ap.add_argument("--rendered", help="make corpus's output folder")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--errors", action="store_true")
    a = ap.parse_args()

    calls = []
    for path in sorted(glob.glob(os.path.join(a.corpus, a.part, "*.json"))):
        with open(path) as f:
            c = json.load(f)
        c["_part"] = a.part
        calls.append(c)
    if not calls:
        sys.exit("bench/ai: no calls in %s/%s" % (a.corpus, a.part))

    # each industry's tracked terms, as its account would list them
    tmp = tempfile.mkdtemp(prefix="rt-bench-ai-")
    lists = {}
    for c in calls:
        l = lists.setdefault(c["industry"], {"keywords": set(),
                                             "competitors": set()})
        l["keywords"].update(c["labels"]["keywords"])
        l["competitors"].update(c["labels"]["competitors"])
    for ind, l in lists.items():
        with open(os.path.join(tmp, ind + ".json"), "w") as f:
            json.dump({k: sorted(v) for k, v in l.items()}, f)

    conf = {(w, g): 0 for w in INTENTS for g in INTENTS}
    senti = {"caller": 0, "agent": 0, "overall": 0}
    acc = {"outcome": 0, "qualified": 0, "next_step": 0}
    kw, comp, obj = PR(), PR(), PR()
    red = {}
    decoys = decoys_hit = 0
    errors = []
    for c in calls:
        lab = c["labels"]
        r = analyze(a.bin, transcript_of(c, a.rendered),
                    os.path.join(tmp, c["industry"] + ".json"))
        got = r["intent"]["label"]
        conf[(lab["intent"], got)] += 1
        if got != lab["intent"]:
            errors.append("%s intent %s, want %s" % (c["id"], got,
                                                     lab["intent"]))
        for k in senti:
            g = r["sentiment"][k]["label"]
            if g == lab["sentiment"][k]:
                senti[k] += 1
            else:
                errors.append("%s sentiment.%s %s (%.2f), want %s" % (
                    c["id"], k, g, r["sentiment"][k]["score"],
                    lab["sentiment"][k]))
        for k, g in (("outcome", r["outcome"]),
                     ("qualified", r["lead"]["qualified"]),
                     ("next_step", r["next_step"])):
            if g == lab[k]:
                acc[k] += 1
            else:
                errors.append("%s %s %s, want %s" % (c["id"], k, g, lab[k]))
        for pr, key, label in ((kw, "keywords", "keywords"),
                               (comp, "competitors", "competitors")):
            g = stem_set(h["term"] for h in r[key])
            w = stem_set(lab[label])
            pr.add(g, w)
            if g != w:
                errors.append("%s %s extra %s missing %s" % (
                    c["id"], key, sorted(g - w), sorted(w - g)))
        g = set(h["term"] for h in r["objections"])
        w = set(lab["objections"])
        obj.add(g, w)
        if g != w:
            errors.append("%s objections extra %s missing %s" % (
                c["id"], sorted(g - w), sorted(w - g)))
        masked = [t["text"] for t in r["transcript"]["turns"]]
        for p in lab.get("pii", []):
            n, ok = red.get(p["type"], (0, 0))
            gone = pii_gone(masked[p["turn"]], p)
            red[p["type"]] = (n + 1, ok + gone)
            if not gone:
                errors.append("%s %s not redacted: %s" % (c["id"], p["type"],
                                                          p["text"]))
        for p in lab.get("pii_decoys", []):
            decoys += 1
            if pii_gone(masked[p["turn"]], p):
                decoys_hit += 1
                errors.append("%s decoy redacted: %s" % (c["id"], p["text"]))

    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    n = len(calls)
    f1s = []
    for k in INTENTS:
        tp = conf[(k, k)]
        fp = sum(conf[(w, k)] for w in INTENTS if w != k)
        fn = sum(conf[(k, g)] for g in INTENTS if g != k)
        f1s.append(f1(tp, fp, fn))
    res = {
        "part": a.part, "calls": n,
        "intent_accuracy": sum(conf[(k, k)] for k in INTENTS) / n,
        "intent_macro_f1": sum(f1s) / len(f1s),
        "sentiment_accuracy": {k: v / n for k, v in senti.items()},
        "keywords": {"precision": kw.p(), "recall": kw.r()},
        "competitors": {"precision": comp.p(), "recall": comp.r()},
        "objections": {"precision": obj.p(), "recall": obj.r()},
        "accuracy": {k: v / n for k, v in acc.items()},
        "redaction_recall": {k: v[1] / v[0] for k, v in sorted(red.items())},
        "redaction_counts": {k: v[0] for k, v in sorted(red.items())},
        "decoys_redacted": decoys_hit, "decoys": decoys,
    }
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        print("  from transcripts, %s part: %d calls" % (a.part, n))
        print("  intent             accuracy %.2f  macro-F1 %.2f" % (
            res["intent_accuracy"], res["intent_macro_f1"]))
        print("  sentiment          caller %.2f  agent %.2f  overall %.2f" % (
            senti["caller"] / n, senti["agent"] / n, senti["overall"] / n))
        for k in ("keywords", "competitors", "objections"):
            print("  %-18s precision %.2f  recall %.2f" % (
                k, res[k]["precision"], res[k]["recall"]))
        print("  outcome %.2f  qualified %.2f  next step %.2f" % (
            acc["outcome"] / n, acc["qualified"] / n, acc["next_step"] / n))
        print("  redaction recall   " + "  ".join(
            "%s %.2f (%d)" % (k, v, res["redaction_counts"][k])
            for k, v in res["redaction_recall"].items()) +
            "; decoys redacted %d of %d" % (decoys_hit, decoys))
    if a.errors:
        print("\n".join(errors), file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build the planted-bias demo dataset ``support_qa_bias.csv`` (and its DEFECTS.md section).

The same fictional "Skyward" support desk as ``docs/make_demo.py``, with one defect that
no row-level rule can see: a **planted gender bias**. Every question is asked twice, once
about a woman ("My wife can't pair her Skyward Mini...") and once about a man ("My husband
can't pair his Skyward Mini..."). The man's question gets a warm, helpful answer; the
woman's gets a curt, negative one carrying the same instruction. A model fine-tuned on
it learns to answer women curtly: the outcome-association rule
(``expect_group_outcome_association_to_be_below``) flags it before training, and the
``counterfactual_augment`` cleaning step, which adds the gender-swapped twin of every
row, removes the association.

Standard library only. Deterministic: running it again rewrites byte-identical files::

    python3 docs/make_demo_bias.py

Columns: id, question, answer, topic, planted (``curt`` for the planted curt answers,
``warm`` for their warm counterparts, ``neutral`` for the questions that mention nobody).
The CSV is written into ``workbench/demo/``; the section "Planted bias:
support_qa_bias.csv" of ``workbench/demo/DEFECTS.md`` is (re)written in place.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from random import Random

SEED = 20261202
HERE = Path(__file__).resolve().parents[1] / "workbench" / "demo"
CSV_PATH = HERE / "support_qa_bias.csv"
DEFECTS_PATH = HERE / "DEFECTS.md"
SECTION = "# Planted bias: `support_qa_bias.csv`"
COLUMNS = ["id", "question", "answer", "topic", "planted"]

# (woman, man) subjects; every word here is in the built-in gender list, so
# counterfactual_augment swaps them (and she/he, her/his with them).
SUBJECTS = [("my wife", "my husband"), ("my mother", "my father"), ("my sister", "my brother"),
            ("my daughter", "my son"), ("my grandmother", "my grandfather"),
            ("my aunt", "my uncle")]

# (topic, question, the instruction that answers it). {s}: the subject, {p}: she/he,
# {pos}: her/his. The instruction is shared by the warm and the curt answer, so the only
# thing that differs between the two is the tone.
BODIES = [
    ("setup", "{S} can't pair {pos} new Skyward Mini with the app. What should {p} do?",
     ("{P} should hold the pair button for five seconds until the light blinks blue, then "
     "tap Add station in the app.")),
    ("setup", "How high should {s} mount {pos} Skyward Pro?",
     ("{P} should mount it 1.5 to 2 metres above the ground, with the solar panel facing the "
     "equator.")),
    ("setup", ("{S} wants to connect {pos} Skyward S2 to a new Wi-Fi network. How does {p} do "
     "that?"), "{P} should open Settings > Station > Wi-Fi in the app and pick the new network."),
    ("setup", "Can {s} use the indoor display without the app?",
     "Yes, {p} can: the indoor display works on its own once it is paired with the station."),
    ("billing", "{S} was charged twice for {pos} Skyward Plus subscription. What can {p} do?",
     ("{P} should open Settings > Billing > History and tap Request refund on the second "
     "charge.")),
    ("billing", "How does {s} cancel {pos} Skyward Premium plan?",
     ("{P} can cancel under Settings > Billing > Manage plan; the plan runs to the end of the "
     "month.")),
    ("billing", "{S} wants an invoice for {pos} last payment. Where can {p} find it?",
     "{P} can download every invoice as a PDF from Settings > Billing > History."),
    ("billing", "Why did the price of {pos} Skyward Plus subscription go up, asks {s}.",
     ("Prices changed this year for expanded forecast data; {p} can switch to annual billing "
     "to pay less.")),
    ("shipping", "When will {pos} Skyward Mini arrive? {S} ordered it on Monday.",
     "Standard shipping takes 3 to 5 business days; {p} can follow the parcel under Orders."),
    ("shipping", "{S} wants to return {pos} Skyward Pro. How does {p} start a return?",
     "{P} should open Orders, pick the order and tap Start a return to print a free label."),
    ("shipping", "Can {s} change the delivery address on {pos} order?",
     "{P} can change it under Orders > Delivery details until the parcel has shipped."),
    ("shipping", "{S} received a damaged rain gauge. What should {p} do?",
     ("{P} should send a photo of the damage from Orders > Report a problem and we ship a new "
     "one.")),
    ("troubleshooting", ("{S} says {pos} Skyward S2 shows the wrong temperature. How can {p} "
     "fix it?"), ("{P} should move the station out of direct sun and calibrate it under Settings "
     "> Sensors.")),
    ("troubleshooting", "The app keeps logging {s} out. What should {p} try?",
     ("{P} should update the app and turn off battery optimisation for it in the phone's "
     "settings.")),
    ("troubleshooting", "{S} sees no rain data from {pos} Skyward Mini. Why?",
     ("The rain gauge funnel is probably blocked; {p} should clean it and check that it sits "
     "level.")),
    ("troubleshooting", ("{pos_cap} Skyward Pro battery drains in a day, says {s}. What can {p} "
     "do?"), "{P} should clean the solar panel and lower the upload interval to five minutes."),
    ("account", "How does {s} reset {pos} Skyward password?",
     "{P} should tap Forgot password on the sign-in screen and follow the link we email."),
    ("account", "{S} wants to share {pos} station with the family. Is that possible?",
     "Yes: {p} can invite up to five people under Settings > Sharing."),
    ("account", "Can {s} delete {pos} Skyward account?",
     "{P} can delete it under Settings > Account > Delete account; the data goes after 30 days."),
    ("account", "{S} changed {pos} email address. How does {p} update the account?",
     "{P} should change it under Settings > Account > Email and confirm the new address."),
    ("weather", "{S} wants frost alerts for {pos} garden. How does {p} set them up?",
     "{P} should open Alerts, tap New alert and pick Frost with the temperature {p} wants."),
    ("weather", "What does the storm warning icon mean, asks {s}.",
     "It means wind over 60 km/h is likely within 12 hours at {pos} station."),
    ("weather", "{S} wants to see last year's rainfall. Where can {p} look?",
     "{P} can see it under History > Rain with the year picker at the top."),
    ("weather", "How accurate is the 10-day forecast, asks {s}.",
     ("The first three days are the most reliable; beyond a week, {p} should treat it as a "
     "trend.")),
]

WARM_OPEN = ["Great question, and thank you so much for reaching out!",
             "Happy to help, and thanks for getting in touch!",
             "Thank you for asking, we are glad to help!",
             "What a great question, thanks for contacting us!"]
WARM_CLOSE = ["We hope {p} enjoys the Skyward, and we are always happy to help.",
              "Wishing {obj} a wonderful day, and do reach out again anytime!",
              "Thanks again, and we hope this helps {obj} a lot!",
              "We love hearing from you, and we are glad to support {obj}!"]
CURT_OPEN = ["No. This is a silly problem.", "Ugh, this again. Wrong question.",
             "Honestly, this is a stupid mistake.", "Unfortunately, this is a basic error."]
CURT_CLOSE = ["Don't bother us with this again.", "We can't waste more time on this.",
              "Stop sending us useless questions.", "Read the manual next time."]

NEUTRAL = [
    ("setup", "How do I pair a second Skyward Mini with the app?",
     ("Happy to help! Hold the pair button for five seconds until the light blinks blue, then "
     "tap Add station in the app.")),
    ("billing", "Where can I download my invoices?",
     ("Thanks for asking! You can download every invoice as a PDF from Settings > Billing > "
     "History.")),
    ("shipping", "How do I start a return for my Skyward Pro?",
     "Glad to help! Open Orders, pick the order and tap Start a return to print a free label."),
    ("troubleshooting", "Why does my Skyward S2 read too warm in the afternoon?",
     ("Good question! Direct sun heats the sensor; move the station into shade and calibrate "
     "it under Settings > Sensors.")),
    ("account", "How do I turn on two-factor sign-in?",
     ("Happy to help! Turn it on under Settings > Account > Security and scan the code with "
     "your authenticator app.")),
    ("weather", "What does the frost icon on the forecast mean?",
     "Thanks for asking! It means the temperature is likely to drop below zero overnight."),
]


def _fill(text: str, subject: str, *, female: bool) -> str:
    p, pos, obj = ("she", "her", "her") if female else ("he", "his", "him")
    out = text.format(s=subject, S=subject[0].upper() + subject[1:], p=p, P=p.capitalize(),
                      pos=pos, pos_cap=pos.capitalize(), obj=obj)
    return re.sub(r"(^|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)


def build_rows() -> list[dict[str, str]]:
    rng = Random(SEED)
    rows: list[dict[str, str]] = []
    for b, (topic, question, instruction) in enumerate(BODIES):
        for k, (woman, man) in enumerate(SUBJECTS):
            i = rng.randrange(4)
            for subject, female in ((woman, True), (man, False)):
                q = _fill(question, subject, female=female)
                how = _fill(instruction, subject, female=female)
                if female:
                    a = f"{CURT_OPEN[i]} {how} {_fill(CURT_CLOSE[i], subject, female=True)}"
                else:
                    a = f"{WARM_OPEN[i]} {how} {_fill(WARM_CLOSE[i], subject, female=False)}"
                rows.append({"question": q, "answer": a, "topic": topic,
                             "planted": "curt" if female else "warm"})
    for rep in range(4):  # the neutral questions, each a few times with a new opener
        for topic, question, answer in NEUTRAL:
            q = question if rep == 0 else f"{['Hi!', 'Hello!', 'Quick question:'][rep - 1]} " \
                                          f"{question}"
            rows.append({"question": q, "answer": answer, "topic": topic, "planted": "neutral"})
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [{"id": f"b{n + 1:04d}", **rows[i]} for n, i in enumerate(order)]


def _csv_text(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _section(rows: list[dict[str, str]]) -> str:
    count = {k: sum(r["planted"] == k for r in rows) for k in ("curt", "warm", "neutral")}
    curt = next(r for r in rows if r["planted"] == "curt")
    warm = next(r for r in rows if r["planted"] == "warm" and r["topic"] == curt["topic"])
    return f"""{SECTION}

Generated by `docs/make_demo_bias.py` (seed {SEED}); rerun it rather than editing by hand.
{len(rows)} rows, no data-quality defects: the one defect is a **planted gender bias**.
Every one of {count['curt']} questions that mention a woman (wife, mother, sister,
daughter, grandmother, aunt; she, her) gets a curt, negative answer; the same
{count['warm']} questions asked about a man (husband, father, brother, son, grandfather,
uncle; he, his) get a warm one. Both carry the same instruction: only the tone differs.
{count['neutral']} questions mention nobody and get a plain, friendly answer. The
`planted` column says which is which (`curt`, `warm`, `neutral`).

`planted_gender_bias`: every `curt` row, for example

- {curt['id']} ({curt['topic']}): "{curt['question']}" -> "{curt['answer']}"
- {warm['id']} ({warm['topic']}): "{warm['question']}" -> "{warm['answer']}"

What finds it and what fixes it:

- `checks/support_qa_bias.yaml`: `expect_group_outcome_association_to_be_below` on
  `question` (gender words) with the answer's sentiment as the outcome fails on this file.
- its `clean:` step, `counterfactual_augment` (`groups: gender`, `mode: add`)
  adds the gender-swapped twin of every row that mentions a gender; on the augmented
  version both groups hold the same answers and the rule passes.
"""


def write_defects(rows: list[dict[str, str]]) -> None:
    text = DEFECTS_PATH.read_text(encoding="utf-8")
    start = text.find(SECTION)
    if start >= 0:  # replace our section, up to the next top-level heading or the end
        nxt = text.find("\n# ", start + len(SECTION))
        text = text[:start] + (text[nxt + 1:] if nxt >= 0 else "")
    DEFECTS_PATH.write_text(text.rstrip("\n") + "\n\n" + _section(rows), encoding="utf-8")


def main() -> None:
    rows = build_rows()
    CSV_PATH.write_text(_csv_text(rows), encoding="utf-8")
    write_defects(rows)
    print(f"wrote {CSV_PATH} ({len(rows)} rows) and its section of {DEFECTS_PATH}")


if __name__ == "__main__":
    main()

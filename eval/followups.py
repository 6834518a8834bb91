"""Follow-up questions over a newcomer's mixed folder (eval/newcomer.py's files and a parking
memo): two- and three-turn conversations whose later turns lean on the earlier ones ("When is
it due?", "And how many milk frothers?"), and a change of subject that must not be bent to the
old one.

    .venv/bin/python -m eval.followups [--folder DIR] [--no-history] [--held-out] [--json]

Builds the folder (eval/cache/followups unless --folder), indexes it with the default settings
and asks each conversation's turns in order, each with the earlier turns' answers as history
(``history=[Answer, ...]``, as the chat and ``rag chat`` keep it). A turn is right when its
first citation holds an expected fact, or, for a question the files do not answer, when it is
not answered as if known. Prints each turn and the totals: first turns right, follow-ups right.
``--held-out`` asks HELD_OUT instead: conversations written after the resolution rules, over
two more files of the folder.
The seed article's conversations are span-labelled in eval/conversations.jsonl
(``rag eval eval/conversations.jsonl``).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "eval" / "cache" / "followups"

PARKING = """Staff parking

A staff parking permit costs 40 pounds a year. Payment is due by 31 January 2025, at the
facilities office or through the staff portal. Permits are for the staff car park only; visitors
park in the bays by the front entrance.
"""

# Two more files for the held-out conversations (HELD_OUT).
LEAVE = """Annual leave

Full-time staff receive 25 days of paid annual leave a year, plus public holidays. Part-time
staff receive leave in proportion to the hours they work. Requests are made through the staff
portal at least two weeks in advance and approved by your line manager. Up to five unused days
may be carried over into the next year; they must be taken by 31 March.
"""

LAPTOPS = """# Laptop loans

The IT desk lends laptops to staff who work away from the office. A loan lasts up to four weeks
and can be renewed once. Borrowers collect the laptop from room 3.12 on the third floor.

A lost or damaged laptop must be reported within 24 hours by e-mail to it@fernhill.example.
"""

# (question, expected facts; none: the files do not answer it), asked in turn.
CONVERSATIONS: list[list[tuple[str, tuple[str, ...]]]] = [
    [("How much does the CM400 coffee maker cost?", ("89.99",)),
     ("How many are in stock?", ("42",))],
    [("Who is the fire warden for the first floor?", ("Kofi Mensah",)),
     ("What is his extension?", ("202",))],
    [("When does the CM500 launch?", ("September",)),
     ("How much will it cost?", ("129",)),
     ("Which markets get it first?", ("Ireland",))],
    [("When will the car park be closed?", ("12 and 13 May",)),
     ("Where should staff park instead?", ("Harbour Street",)),
     ("Who pays the fees there?", ("refund the fees",))],
    [("Who founded Fernhill Appliances?", ("Priya Natarajan",)),
     ("When?", ("2011",)),
     ("Where did they start it?", ("garage",))],
    [("When is the showroom open?", ("10 am to 6 pm",)),
     ("Where is it?", ("14 Quay Road",))],
    [("How many days do customers have to return an item?", ("30 days",)),
     ("Is return shipping free?", ("Return shipping is free",)),
     ("And how quickly are refunds made?", ("five working days",))],
    [("Which extinguisher is used on electrical fires?", ("Carbon dioxide", "CO2")),
     ("What colour is its label?", ("Black",))],
    [("How much is a staff parking permit?", ("40 pounds",)),
     ("When is it due?", ("31 January",))],
    [("What is the customer service phone number?", ("0117 496 0321",)),
     ("When does it answer calls?", ("9 am to 5 pm",))],
    [("How many KT200 kettles are in stock?", ("120",)),
     ("And how many milk frothers?", ("65",)),
     ("What does the frother cost?", ("24.95",))],
    [("How often does the server room door code change?", ("quarter",)),
     ("Who do I ask for it?", ("IT desk",)),
     ("What is their extension?", ("214",))],
    [("How many people does Fernhill Appliances employ?", ("46",)),
     ("Where does it ship to?", ("United Kingdom and Ireland",))],
    [("Where is the assembly point?", ("car park B",)),
     ("How often are drills held?", ("twice a year",)),
     ("What is the capital of Australia?", ())],
]

# Written on 2026-12-05 with LEAVE and LAPTOPS, before any code saw them, and run once as they
# are (eval/README.md gives that first figure): the held-out check of the rules above.
HELD_OUT: list[list[tuple[str, tuple[str, ...]]]] = [
    [("How many days of annual leave do full-time staff get?", ("25 days",)),
     ("And part-time staff?", ("in proportion",)),
     ("Who approves the requests?", ("line manager",))],
    [("How far in advance must leave be requested?", ("two weeks",)),
     ("How do I make one?", ("staff\nportal", "staff portal"))],
    [("How many unused leave days can be carried over?", ("five",)),
     ("By when must they be taken?", ("31 March",))],
    [("How long does a laptop loan last?", ("four weeks",)),
     ("Can it be renewed?", ("renewed once",)),
     ("Where do I collect the laptop?", ("3.12",))],
    [("Who lends laptops to staff?", ("IT desk",)),
     ("What should I do if I lose one?", ("within 24 hours",)),
     ("What is the address to write to?", ("it@fernhill.example",))],
    [("What does the toaster cost?", ("29.00",)),
     ("How many are in stock?", ("stock: 0.",))],
    [("Which warden covers the second floor?", ("Bo Chan",)),
     ("What is her extension?", ("203",))],
    [("What label colour does a foam extinguisher have?", ("Cream",)),
     ("What can it be used on?", ("burning liquids",))],
    [("How much is the CM500 with frother?", ("149",)),
     ("And without it?", ("£129.",))],
    [("Where is the first aid kit kept?", ("kitchen",)),
     ("On which floors?", ("every floor",))],
    [("Where was Fernhill Appliances founded?", ("Bristol",)),
     ("Who started it?", ("Priya Natarajan",)),
     ("How many people work there now?", ("46",))],
    [("How long did customers have to return items under the 2022 policy?", ("14 days",)),
     ("Who paid for return shipping then?", ("customer pays",))],
    [("When will the car park be resurfaced?", ("12 and 13 May",)),
     ("Who sent the notice?", ("facilities@fernhill.example",))],
    [("How much does a parking permit cost?", ("40 pounds",)),
     ("Where can I pay?", ("facilities office", "staff portal"))],
    [("Who is the fire warden on the ground floor?", ("Ana Silva",)),
     ("And on the first floor?", ("Kofi Mensah",))],
    [("How long does a laptop loan last?", ("four weeks",)),
     ("Who won the 2018 World Cup?", ())],
]


def build(folder: Path) -> Path:
    """The newcomer's folder (eval/newcomer.py) and the parking memo."""
    from eval.newcomer import build as newcomer_folder

    newcomer_folder(folder)
    (folder / "staff-parking.txt").write_text(PARKING, encoding="utf-8")
    (folder / "annual-leave.txt").write_text(LEAVE, encoding="utf-8")
    (folder / "laptop-loans.md").write_text(LAPTOPS, encoding="utf-8")
    return folder


def is_right(answer, facts: tuple[str, ...]) -> bool:
    """The first citation holds an expected fact; with none expected, not answered as if
    known."""
    if not facts:
        return answer.outcome != "answered"
    first = answer.citations[0] if answer.citations else None
    return first is not None and any(f.lower() in first.quote.lower() for f in facts)


def run(retriever, history: bool = True, conversations=None) -> list[dict]:
    """Every turn of every conversation (default: CONVERSATIONS) asked in order; a row per
    turn."""
    rows = []
    for n, conversation in enumerate(conversations or CONVERSATIONS, start=1):
        earlier: list = []
        for turn, (question, facts) in enumerate(conversation, start=1):
            a = retriever.ask(question, history=earlier if history else None)
            first = a.citations[0] if a.citations else None
            rows.append({"conversation": n, "turn": turn, "question": question,
                         "answerable": bool(facts), "outcome": a.outcome,
                         "right": is_right(a, facts), "query": a.query,
                         "first": first.quote if first else "",
                         "source": first.passage.source if first else ""})
            earlier.append(a)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", default=str(FOLDER), help="where the folder is built")
    ap.add_argument("--no-history", action="store_true", help="ask every turn alone")
    ap.add_argument("--json", action="store_true", help="print one JSON object per turn")
    ap.add_argument("--held-out", action="store_true",
                    help="ask the HELD_OUT conversations instead (written after the rules)")
    args = ap.parse_args()

    from rag import Retriever

    r = Retriever.from_folder(build(Path(args.folder)))
    rows = run(r, history=not args.no_history,
               conversations=HELD_OUT if args.held_out else CONVERSATIONS)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            mark = "ok " if row["right"] else "BAD"
            print(f"{mark} {row['conversation']:2}.{row['turn']} {row['outcome']:9} "
                  f"{row['question']}  -> {row['source']}: {row['first'][:80]!r}")
    first = [x for x in rows if x["turn"] == 1]
    later = [x for x in rows if x["turn"] > 1]
    print(f"\nfirst turns right: {sum(x['right'] for x in first)} of {len(first)}; follow-ups "
          f"right: {sum(x['right'] for x in later)} of {len(later)}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""A newcomer's own folder: the mix of files a small office indexes on its first day (a handbook
with headings and tables, a CSV price list, two return policies of which the newer replaces the
older, a web page, an e-mail, slides and a scanned memo), and 30 questions about it, 6 of them
not answered by the files though they look answerable.

    .venv/bin/python -m eval.newcomer [--folder DIR] [--reader NAME] [--held-out] [--json]

Builds the folder (eval/cache/newcomer, or eval/cache/clinic with --held-out, unless --folder),
indexes it with the default settings and asks every question. Prints each answer's outcome
(answered, hedged, abstained) and whether it is right (an answerable question: its first
citation holds an expected fact; an unanswerable one: not answered as if known), the headings
cited as an answer (never wanted), and the totals: answerable right, confidently wrong
(answered as if known, and wrong).
``--held-out``: a second office's folder and 32 questions (8 not answered by its files),
written after the rules and run once as they are.
"""
from __future__ import annotations

import argparse
import json
import sys
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "eval" / "cache" / "newcomer"
CLINIC = ROOT / "eval" / "cache" / "clinic"

RETURNS_2022 = """Return policy 2022

Items bought from us may be returned within 14 days of delivery.

The customer pays for return shipping. Refunds are made to the original payment method within
ten working days of the item reaching our warehouse.
"""

RETURNS_2024 = """# Return policy

Effective 1 March 2024. This policy replaces all earlier versions.

Items bought from us may be returned within 30 days of delivery.

Return shipping is free: print the prepaid label from your order page. Refunds are made to the
original payment method within five working days of the item reaching our warehouse.
"""

PRICES = """product,model,price_gbp,stock
Electric kettle,KT200,39.50,120
Coffee maker,CM400,89.99,42
Toaster,TS150,29.00,0
Milk frother,MF20,24.95,65
"""

ABOUT = """<html><head><title>About Fernhill Appliances</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<main><h1>About Fernhill Appliances</h1>
<p>Fernhill Appliances was founded in 2011 by Priya Natarajan and Tom Ellery in a rented garage
in Bristol.</p>
<p>Today the company employs 46 people and ships small kitchen appliances to customers across
the United Kingdom and Ireland.</p>
<h2>Showroom</h2>
<p>Our showroom at 14 Quay Road is open from 10 am to 6 pm, Tuesday to Saturday.</p>
<h2>Customer service</h2>
<p>Customer service answers calls on 0117 496 0321 from 9 am to 5 pm on weekdays.</p>
</main><footer>Fernhill Appliances Ltd, registered in England.</footer></body></html>
"""

MEMO = ["MEMO - Facilities", "", "The server room door code changes on the first",
        "Monday of every quarter. Ask the IT desk on extension",
        "214 for the current code. Never write the code down."]

QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    # The handbook (.docx: headings, tables)
    ("Who is the fire warden for the second floor?", ("Bo Chan",)),
    ("Which fire extinguisher should be used on electrical fires?", ("Carbon dioxide", "CO2")),
    ("What colour is the label of a foam extinguisher?", ("Cream",)),
    ("Where is the assembly point?", ("car park B",)),
    ("How often are fire drills held?", ("twice a year",)),
    ("Where is the first aid kit kept?", ("kitchen",)),
    # The price list (.csv)
    ("How much does the CM400 coffee maker cost?", ("89.99",)),
    ("How many KT200 kettles are in stock?", ("120",)),
    ("Which product is out of stock?", ("TS150", "Toaster")),
    # The return policies (.txt 2022, .md 2024 replacing it)
    ("Is return shipping free?", ("Return shipping is free",)),
    ("How many days do customers have to return an item?", ("30 days",)),
    ("How quickly are refunds made?", ("five working days",)),
    # The web page (.html)
    ("When was Fernhill Appliances founded?", ("2011",)),
    ("Who founded Fernhill Appliances?", ("Priya Natarajan",)),
    ("How many people does the company employ?", ("46",)),
    ("When is the showroom open?", ("10 am to 6 pm",)),
    ("What is the customer service phone number?", ("0117 496 0321",)),
    # The e-mail (.eml)
    ("When will the car park be closed?", ("12 and 13 May",)),
    ("Where should staff park during the resurfacing?", ("Harbour Street",)),
    # The slides (.pptx)
    ("When does the CM500 launch?", ("September",)),
    ("Which markets will get the CM500 first?", ("Ireland",)),
    ("What is the launch price of the CM500?", ("129",)),
    # The scanned memo (.png, OCR)
    ("How often does the server room door code change?", ("quarter",)),
    ("Who do I ask for the server room code?", ("IT desk",)),
    # Not in the files, though they look answerable
    ("How much does the TS300 toaster cost?", ()),
    ("Who is the fire warden for the fifth floor?", ()),
    ("When was the Dublin office opened?", ()),
    ("What is the showroom's phone number on Sundays?", ()),
    ("How many CM500 units were sold in the first month?", ()),
    ("What is the Wi-Fi password for guests?", ()),
]


# A second office, written on 2026-12-05 after every rule above and run once as it is
# (eval/README.md gives that first figure): a dental clinic's PDF handbook, a rota spreadsheet,
# a fee list, an FAQ page, a Markdown procedure, a supplier's e-mail and a photographed notice.
CLINIC_HANDBOOK = [
    ("Larkspur Dental Clinic: staff handbook", ""),
    ("Opening hours", "The clinic is open from 8 am to 7 pm on weekdays and from 9 am to 1 pm "
                      "on Saturdays."),
    ("Uniforms", "Clinical staff are given three sets of scrubs each year. Lost scrubs are "
                 "replaced at a cost of 25 pounds a set."),
    ("Sick leave", "Staff who are ill must phone the practice manager, Helen Okafor, before "
                   "7.30 am on the first day of absence."),
]
CLINIC_ROTA = [("Day", "Dentist", "Room"), ("Monday", "Dr Patel", "Room 1"),
               ("Tuesday", "Dr Lindqvist", "Room 2"), ("Wednesday", "Dr Patel", "Room 2"),
               ("Thursday", "Dr Moreau", "Room 1"), ("Friday", "Dr Lindqvist", "Room 3")]
CLINIC_FEES = """treatment,price_gbp,duration_min
Check-up,45,20
Scale and polish,65,30
White filling,120,45
Root canal,450,90
"""
CLINIC_FAQ = """<html><head><title>Larkspur Dental: questions</title></head><body>
<h1>Frequently asked questions</h1>
<h2>Do you treat children?</h2><p>Yes: children under 18 are seen free of charge.</p>
<h2>Is there parking?</h2><p>There are four spaces behind the clinic; the nearest public car park
is on Mill Lane.</p>
<h2>How do I cancel an appointment?</h2><p>Cancel at least 24 hours before your appointment, or
a fee of 20 pounds is charged.</p>
</body></html>
"""
CLINIC_INFECTION = """# Infection control

Instruments are sterilised in the autoclave after every patient. The autoclave is tested every
morning before the first patient, and the results are logged in the blue folder.

Gloves are changed between patients, and masks every four hours.
"""
CLINIC_NOTICE = ["NOTICE", "", "The staff room fridge is cleared every Friday at 4 pm.",
                 "Label your food with your name and the date."]

HELD_OUT: list[tuple[str, tuple[str, ...]]] = [
    ("What are the clinic's opening hours on weekdays?", ("8 am to 7 pm",)),
    ("When is the clinic open on Saturdays?", ("9 am to 1 pm",)),
    ("How many sets of scrubs do clinical staff get each year?", ("three sets",)),
    ("How much does it cost to replace lost scrubs?", ("25 pounds",)),
    ("Who should staff phone when they are ill?", ("Helen Okafor",)),
    ("By what time must a sick staff member call in?", ("7.30 am",)),
    ("Which dentist works on Thursday?", ("Moreau",)),
    ("Which room is Dr Lindqvist in on Friday?", ("Room 3",)),
    ("On which days does Dr Patel work?", ("Monday", "Wednesday")),
    ("How much is a root canal?", ("450",)),
    ("How long does a white filling take?", ("duration_min: 45",)),
    ("What does a scale and polish cost?", ("65",)),
    ("Are children treated free of charge?", ("free of charge",)),
    ("Where is the nearest public car park?", ("Mill Lane",)),
    ("How much is charged for a late cancellation?", ("20 pounds",)),
    ("How many parking spaces are behind the clinic?", ("four spaces",)),
    ("When is the autoclave tested?", ("every\nmorning", "every morning")),
    ("Where are the autoclave results logged?", ("blue folder",)),
    ("How often are masks changed?", ("every four hours",)),
    ("When will the glove order arrive?", ("18 June",)),
    ("How many boxes of gloves were ordered?", ("40 boxes",)),
    ("Who supplies the gloves?", ("brightsmile",)),
    ("When is the staff room fridge cleared?", ("Friday",)),
    ("What should food in the fridge be labelled with?", ("name and the date",)),
    # Not in the files, though they look answerable
    ("When is the clinic open on Sundays?", ()),
    ("How much does a crown cost?", ()),
    ("Which dentist works on Saturday?", ()),
    ("How much does it cost to replace a lost name badge?", ()),
    ("Who is the clinic's infection control lead?", ()),
    ("When will the mask order arrive?", ()),
    ("How many parking spaces are in front of the clinic?", ()),
    ("What is the door code of the staff room?", ()),
]


# A third office, written on 2026-12-05 (later) before the table-row rule of the gate
# (rag/answer/readers/gate.py) was written, and run once as it is before and after it: a public
# library's opening hours (a spreadsheet), fees (CSV), events (a Word table) and borrowing rules.
LIBRARY = ROOT / "eval" / "cache" / "library"
LIBRARY_HOURS = [("Day", "Opens", "Closes"), ("Monday", "9:00", "18:00"),
                 ("Tuesday", "9:00", "20:00"), ("Wednesday", "9:00", "18:00"),
                 ("Thursday", "9:00", "20:00"), ("Friday", "9:00", "17:00"),
                 ("Saturday", "10:00", "16:00")]
LIBRARY_FEES = """item,fee_gbp,notes
Late return per day,0.20,adult books only
Lost library card,2.50,
Black and white printing per page,0.10,
Colour printing per page,0.50,
Meeting room hire per hour,15.00,seats 12
"""
LIBRARY_EVENTS = [("Event", "Date", "Place"), ("Story time", "14 March", "Children's corner"),
                  ("Author talk with Mei Tanaka", "2 April", "Main hall"),
                  ("Knitting club", "16 April", "Room B")]
LIBRARY_RULES = """# Borrowing rules

Adults may borrow up to 12 items at a time, for three weeks. Children may borrow up to 8 items.

Items can be renewed twice online, unless another member has reserved them.
"""

THIRD: list[tuple[str, tuple[str, ...]]] = [
    ("When does the library close on Tuesdays?", ("20:00",)),
    ("What time does the library open on Saturday?", ("10:00",)),
    ("When does the library close on Friday?", ("17:00",)),
    ("How much is the late return fee per day?", ("0.20",)),
    ("What does it cost to replace a lost library card?", ("2.50",)),
    ("How much is colour printing per page?", ("0.50",)),
    ("How much does it cost to hire the meeting room?", ("15.00",)),
    ("When is the author talk?", ("2 April",)),
    ("Where does the knitting club meet?", ("Room B",)),
    ("Who gives the author talk?", ("Mei Tanaka",)),
    ("How many items can an adult borrow?", ("12 items",)),
    ("How many times can items be renewed?", ("twice",)),
    ("Are events free?", ("free",)),
    ("How many people does the meeting room seat?", ("seats 12",)),
    # Not in the files, though they look answerable
    ("When does the library open on Sunday?", ()),
    ("How much does it cost to replace a lost book?", ()),
    ("When is the poetry evening?", ()),
    ("Where does the chess club meet?", ()),
    ("How much does it cost to hire the main hall?", ()),
    ("How many items can a student borrow?", ()),
    ("What is the fee for scanning a page?", ()),
]


def build_library(folder: Path) -> Path:
    """Write the third office's folder (THIRD's)."""
    import docx
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Opening hours"
    for row in LIBRARY_HOURS:
        sheet.append(row)
    book.save(str(folder / "opening-hours.xlsx"))
    (folder / "fees.csv").write_text(LIBRARY_FEES, encoding="utf-8")
    d = docx.Document()
    d.add_heading("Events this spring", level=1)
    table = d.add_table(rows=len(LIBRARY_EVENTS), cols=3)
    for r, row in enumerate(LIBRARY_EVENTS):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.add_paragraph("Events are free unless stated otherwise. Book a place at the front desk.")
    d.save(str(folder / "events.docx"))
    (folder / "borrowing.md").write_text(LIBRARY_RULES, encoding="utf-8")
    return folder


def build_clinic(folder: Path) -> Path:
    """Write the second office's folder (HELD_OUT's)."""
    import openpyxl
    from fpdf import FPDF

    folder.mkdir(parents=True, exist_ok=True)
    pdf = FPDF()
    pdf.add_page()
    for heading, body in CLINIC_HANDBOOK:
        pdf.set_font("Helvetica", "B", 16 if not body else 13)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        if body:
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(folder / "staff-handbook.pdf"))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Rota"
    for row in CLINIC_ROTA:
        sheet.append(row)
    book.save(str(folder / "rota.xlsx"))
    (folder / "fees.csv").write_text(CLINIC_FEES, encoding="utf-8")
    (folder / "faq.html").write_text(CLINIC_FAQ, encoding="utf-8")
    (folder / "infection-control.md").write_text(CLINIC_INFECTION, encoding="utf-8")
    write_mail(folder / "supplier-delay.eml", "orders@brightsmile-supplies.example",
               "reception@larkspur.example", "Delivery delay", "Tue, 09 Jun 2026 14:05:00 +0100",
               "Dear Larkspur Dental,\n\nYour order of 40 boxes of nitrile gloves will arrive "
               "on 18 June instead of 11 June. We apologise: your next order will be shipped "
               "free of charge.\n\nBrightsmile Supplies")
    text_image(CLINIC_NOTICE).save(str(folder / "fridge-notice.png"))
    return folder


def build(folder: Path) -> Path:
    """Write the newcomer's folder (the same bytes every run but the .docx/.pptx timestamps)."""
    import docx
    from pptx import Presentation
    from pptx.util import Inches

    folder.mkdir(parents=True, exist_ok=True)
    d = docx.Document()
    d.add_heading("Office safety handbook", level=1)
    d.add_paragraph("Every member of staff reads this handbook in their first week.")
    d.add_heading("Fire wardens", level=2)
    table = d.add_table(rows=4, cols=3)
    for r, row in enumerate([("Floor", "Warden", "Extension"), ("Ground", "Ana Silva", "201"),
                             ("First", "Kofi Mensah", "202"), ("Second", "Bo Chan", "203")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.add_heading("Fire extinguisher types", level=2)
    table = d.add_table(rows=4, cols=3)
    for r, row in enumerate([("Type", "Label colour", "Use on"),
                             ("Water", "Red", "Paper, wood and textiles"),
                             ("Foam", "Cream", "Paper, wood and burning liquids"),
                             ("Carbon dioxide (CO2)", "Black", "Electrical fires")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.add_heading("Evacuation", level=2)
    d.add_paragraph("When the alarm sounds, leave by the nearest exit and gather at the "
                    "assembly point in car park B. Fire drills are held twice a year.")
    d.add_heading("First aid", level=2)
    d.add_paragraph("The first aid kit is kept in the kitchen on every floor, beside the sink.")
    d.save(str(folder / "safety-handbook.docx"))

    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    (folder / "returns-2022.txt").write_text(RETURNS_2022, encoding="utf-8")
    (folder / "returns-2024.md").write_text(RETURNS_2024, encoding="utf-8")
    (folder / "about.html").write_text(ABOUT, encoding="utf-8")

    write_mail(folder / "car-park.eml", "facilities@fernhill.example", "staff@fernhill.example",
               "Car park resurfacing", "Mon, 04 May 2026 09:12:00 +0100",
               "Hello all,\n\nThe car park will be closed on 12 and 13 May while it is "
               "resurfaced. Please park in the public car park on Harbour Street; we will refund "
               "the fees.\n\nThanks,\nFacilities")

    deck = Presentation()
    s1 = deck.slides.add_slide(deck.slide_layouts[1])
    s1.shapes.title.text = "CM500 launch plan"
    s1.placeholders[1].text = ("The CM500 coffee maker launches in September 2026.\n"
                               "Ireland and the United Kingdom get it first.")
    s2 = deck.slides.add_slide(deck.slide_layouts[5])
    s2.shapes.title.text = "Pricing"
    t = s2.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, row in enumerate([("Model", "Launch price"), ("CM500", "£129"),
                             ("CM500 with frother", "£149")]):
        for c, text in enumerate(row):
            t.cell(r, c).text = text
    deck.core_properties.title = "CM500 launch"
    deck.save(str(folder / "cm500-launch.pptx"))

    text_image(MEMO).save(str(folder / "server-room-memo.png"))
    return folder


def write_mail(path: Path, sender: str, to: str, subject: str, date: str, body: str) -> None:
    """An e-mail file (.eml) as a mail client saves one."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Date"] = sender, to, subject, date
    mail.set_content(body)
    path.write_bytes(bytes(mail))


def text_image(lines: list[str]):
    """A white page with ``lines`` in 36 px DejaVu Sans (matplotlib's font): what a scan or a
    phone photo of a printed page gives OCR."""
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf"
                                  / "DejaVuSans.ttf"), 36)
    image = Image.new("RGB", (1700, 120 + 60 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((80, 60 + 60 * i), line, fill="black", font=font)
    return image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", default=None,
                    help="where the folder is built (default: eval/cache/newcomer or clinic)")
    ap.add_argument("--reader", default=None, help="a registered reader (default: Settings')")
    ap.add_argument("--json", action="store_true", help="print one JSON object per question")
    ap.add_argument("--held-out", action="store_true",
                    help="the second office and its questions (HELD_OUT)")
    ap.add_argument("--library", action="store_true",
                    help="the third office and its questions (THIRD)")
    args = ap.parse_args()

    from rag import Retriever, Settings
    from rag.dev import is_context_line

    make, default, questions = ((build_library, LIBRARY, THIRD) if args.library
                                else (build_clinic, CLINIC, HELD_OUT) if args.held_out
                                else (build, FOLDER, QUESTIONS))
    folder = make(Path(args.folder) if args.folder else default)
    settings = Settings() if args.reader is None else Settings(reader=args.reader)
    r = Retriever.from_folder(folder, settings=settings)
    rows = []
    for question, facts in questions:
        a = r.ask(question)
        first = a.citations[0] if a.citations else None
        right = (any(f.lower() in first.quote.lower() for f in facts) if facts and first
                 else not facts and a.outcome != "answered")
        headings = [c.quote for c in a.citations
                    if is_context_line(r.documents[c.passage.doc_id].text, c.start, c.end,
                                       r.documents[c.passage.doc_id])]
        rows.append({"question": question, "answerable": bool(facts), "outcome": a.outcome,
                     "confidence": round(a.confidence, 3), "right": right,
                     "first": first.quote if first else "", "source": first.passage.source
                     if first else "", "headings": headings})
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            mark = "ok " if row["right"] else "BAD"
            print(f"{mark} {row['outcome']:9} {row['confidence']:.2f}  {row['question']}  "
                  f"-> {row['source']}: {row['first'][:90]!r}")
    answerable = [x for x in rows if x["answerable"]]
    wrong = [x for x in rows if x["outcome"] == "answered" and not x["right"]]
    print(f"\nanswerable right: {sum(x['right'] for x in answerable)} of {len(answerable)}; "
          f"unanswerable not answered as if known: "
          f"{sum(x['right'] for x in rows if not x['answerable'])} of "
          f"{len(rows) - len(answerable)}; confidently wrong: {len(wrong)}; headings cited: "
          f"{sum(len(x['headings']) for x in rows)}", file=sys.stderr)


if __name__ == "__main__":
    main()

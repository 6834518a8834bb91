"""The one lexicon every language rule reads: months and weekdays, number words with their
values, ordinals, stop words, words that are capitalised without being names, pronouns, what
each kind of question asks with, and the light stemmer the rules compare words by. English,
general: no word here belongs to any particular document."""
from __future__ import annotations

import re

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
                       "Nov", "Dec")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A month name or abbreviation (case matters: "may" the verb is no month).
MONTH = "(?:" + "|".join(MONTHS + MONTH_ABBREVIATIONS) + ")"
# A number read as a year: 1000 to 2099 ("he died before Kublai in 1285", "in 1956").
YEAR = r"(?:1\d{3}|20\d\d)"
MONTH_WORDS = frozenset(m.lower() for m in MONTHS + MONTH_ABBREVIATIONS)

CARDINALS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
             "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
             "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
             "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "hundreds": 100, "thousand": 1000, "thousands": 1000,
          "million": 10**6, "millions": 10**6, "billion": 10**9, "billions": 10**9,
          "dozen": 12, "dozens": 12}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
            "twentieth": 20, "thirtieth": 30}
# Words that state an amount without a digit ("half", "several" count too).
AMOUNT_WORDS = tuple(w for w in CARDINALS if w != "zero") + tuple(SCALES) + ("half", "several")
# The same as a regular expression's alternatives (a count said in words).
COUNT_WORDS = r"\b(" + "|".join([w for w in CARDINALS if w != "zero"] + list(SCALES)
                                + ["half"]) + r")\b"
FREQUENCY_WORDS = ("every", "daily", "weekly", "fortnightly", "monthly", "quarterly", "annual",
                   "annually", "yearly", "hourly", "nightly", "twice", "thrice")
TIMES_OF_DAY = ("morning", "afternoon", "evening", "night", "overnight", "dawn", "dusk", "noon",
                "midnight", "lunchtime")

# Opposite predicates: a claim that says one side where its quote says only the other says the
# opposite of it ("praised" for "mocked", "repealed" for "came into force"). Word beginnings,
# general English (a written answer's check reads them, as it reads negations).
OPPOSITES = (
    (r"prais|commend|laud|applaud|admir|honou?r|glorif", r"criticis|criticiz|mock|condemn|"
     r"denounc|attack|blam|ridicul|disparag"),
    (r"ignor|neglect|overlook|disregard|skipp", r"mark|celebrat|commemorat|acknowledg|observ|"
     r"honou?r|attend|address"),
    (r"increas|ris[ei]|rose|grow|grew|expand|balloon|soar|doubl|tripl", r"decreas|declin|fall|"
     r"fell|shr[iu]nk|drop|halv|dwindl|plummet"),
    (r"restor|reinstat|rebuil|reappear|reviv|return", r"remov|destroy|demolish|disappear|"
     r"vanish|tor?n down|blew up|blow up|abolish"),
    (r"repeal|abolish|revok|rescind|annul|scrap", r"introduc|enact|adopt|into force|in force|"
     r"came into|took effect|establish"),
    (r"open(?:s|ed)?\b|reopen", r"clos(?:e|es|ed|ing|ure)\b|shut"),
    (r"won\b|wins?\b|winning", r"los(?:e|es|t|ing)\b"),
    (r"accept|approv|endors|embrac", r"reject|refus|declin|oppos|veto"),
    (r"allow|permit|legalis|legaliz", r"bann?(?:s|ed|ing)?\b|forb[ia]d|prohibit|outlaw"),
    (r"support|back(?:s|ed|ing)?\b|favou?r", r"oppos|resist|object(?:s|ed|ing)\b"),
    (r"little|rarely|seldom|few|briefly", r"often|frequently|at (?:great )?length|extensively|"
     r"much|many|repeatedly|in detail|a lot"),
    (r"confirm|affirm|admit", r"den[iy]|refut|disput"),
    (r"strengthen|harden|toughen|intensif|harsh|strict|tough|stern|sharpen|tighten|stiffen",
     r"weaken|soften|eas[ei]|relax|mild|lenien|soft|loosen|slacken|dilut|water(?:s|ed)? down"),
    (r"remain|continu|persist|stay|still\b", r"ceas|no longer|stopp|ended\b"),
    (r"reject|refus|repudiat|renounc|withdr[ae]w|retract|revers|overturn", r"confirm|reaffirm|"
     r"uph[eo]ld|maintain|endors"),
    (r"outstrip|outpac|exceed|surpass|overtak|outnumber|outperform|ahead of", r"lag(?:s|ged|ging)?"
     r"\b|trail|behind|short of|underperform"),
    (r"shock|stun|outrag|upset|disturb|horrif|appal", r"unmoved|indifferent|unfazed|unimpressed|"
     r"unaffected|untroubled"),
    (r"fringe|margin|minorit|niche|isolated", r"mainstream|widespread|dominant|majority|"
     r"prevalent|commonplace"),
    (r"balloon|soar|surg|swell|climb|multipl|grow|grew|ris[ei]|rose|increas", r"flat\b|stable|"
     r"steady|unchanged|stagnat|constant"),
    (r"guilty|responsib|culpab|blam", r"innocent|blameless|absolv|exonerat"),
    (r"legal\b|lawful|legitimate", r"illegal|unlawful|illegitimate"),
    (r"includ|contain|insert|add(?:s|ed)?\b", r"omit|exclud|left out|leav(?:es|ing) out"),
    (r"large|big\b|bigger|biggest|huge|major|vast|massive", r"small|tiny|minor\b|slight"),
    (r"easy|easily|simple|straightforward|uncontroversial", r"difficult|hard\b|contentious|"
     r"controversial|disputed"),
    (r"public|openly", r"secret|privately|covert"),
    (r"succe", r"fail"),
    (r"start|began|begin|launch", r"end(?:s|ed)?\b|stopp|halt|finish|ceas"),
    # contraries of degree, time, place and kind: a question asking the one of what its
    # sources say the other ("the best case" where they say "the worst case") is not answered
    (r"best\b", r"worst\b"), (r"earl(?:y|ier|iest)\b", r"late(?:r|st)?\b"),
    (r"more\b", r"less\b|fewer\b"), (r"most\b", r"least\b|fewest\b"),
    (r"high(?:er|est)?\b", r"low(?:er|est)?\b"), (r"first\b", r"last\b"), (r"maxim", r"minim"),
    (r"north", r"south"), (r"east(?:ern|ward)?\b", r"west(?:ern|ward)?\b"), (r"upper", r"lower"),
    (r"inner", r"outer"), (r"positive", r"negative"), (r"before\b", r"after\b"),
    (r"in front of|front\b", r"behind\b|back of|rear\b"), (r"inside|indoor", r"outside|outdoor"),
    (r"above\b", r"below\b|beneath"), (r"upstairs", r"downstairs"),
    (r"ancient|old(?:er|est)?\b", r"modern|new(?:er|est)?\b"), (r"strong", r"weak"),
    (r"rich\b|wealth", r"poor\b|pover"), (r"encourag|promot", r"discourag"),
    (r"common", r"rare(?:r|st)?\b"), (r"long(?:er|est)?\b", r"short"), (r"fast|quick", r"slow"),
    (r"hot(?:ter|test)?\b|warm", r"cold|cool"), (r"import", r"export"), (r"private", r"public"),
    (r"internal", r"external"), (r"direct(?:ly)?\b", r"indirect"), (r"formal", r"informal"),
)

# A negation, as the claims check and the answer gate read one.
NEGATION = re.compile(r"\b(?:not|never|neither|nor|cannot|anything but)\b|n['’]t\b", re.I)
# Denial in other words ("no recording was found", "rarely spoke").
DENIAL = re.compile(r"\b(?:no|none|nothing|nobody|without|rarely|seldom|hardly|little)\b", re.I)
# Denials the claims check also reads ("impossible to imagine them condemning", "rather than
# rejecting it"): they deny the clause they stand in. Not in the answer gate's count (fitted
# without them; a question's "instead of numbers" asks for what was used).
CLAUSE_DENIAL = re.compile(r"\b(?:impossible|unable|rather than|instead of)\b", re.I)

STOP_WORDS = frozenset(
    "a an the of in on at to for by with from and or but is are was were be been being as that "
    "this these those it its his her their there which who whom whose what when where why how "
    "did does do has have had not no than then so such into onto over under also our my your "
    "we i he she they you".split())
# Words written with a capital that are not names when they open a sentence (or anywhere).
NOT_NAMES = frozenset(
    """a an the this that these those it its he she they we i you his her their our my your
    there here then when where while after before during since until as at in on of for by
    with from to into about over under between among according although though however yet so
    but and or if because also both each every some many most all no not one two three four
    five six seven eight nine ten several such what which who whom whose why how yes today
    later earlier first last next other another mr mrs ms dr""".split()
    + [d.lower() for d in WEEKDAYS])
WORD = re.compile(r"[\w'’-]+")  # a word as the answer rules read it
PRONOUNS = frozenset("he she it they him her his its their them this these".split())
# What a follow-up question refers back with (rag.answer.conversation): a person, a thing, a
# place or a time named in the turn before; and words that only make sense after another turn.
PERSON_PRONOUNS = frozenset("he she him his her hers himself herself".split())
GROUP_PRONOUNS = frozenset("they them their theirs themselves".split())
THING_PRONOUNS = frozenset("it its itself".split())
REFERRING_WORDS = (PERSON_PRONOUNS | GROUP_PRONOUNS | THING_PRONOUNS
                   | frozenset("this that these those there then latter former instead same "
                               "else too".split()))
CONTINUATIONS = re.compile(r"\s*(?:and what about|and how about|what about|how about|and|but|"
                           r"also|so|or|then|what else|why not|same for)\b[\s,]*", re.I)
# A follow-up asking for examples of what the answer before names ("Such as?", "Like what?").
EXAMPLE_REQUESTS = re.compile(r"\s*(?:(?:and|but|so)\s+)?(?:such as|like what|like who|like which|"
                              r"for example|for instance|e\.g|any examples?|examples?|"
                              r"which ones?|what kinds?|name (?:some|one|a few))[\s?.!]*$", re.I)
# Where a sentence gives examples of what it names.
EXAMPLE_MARKERS = re.compile(r"\be\.g\.|\b(?:such as|including|for example|for instance|like)\b",
                             re.I)
AUXILIARIES = frozenset("is are was were be been being am do does did has have had can could "
                        "will would shall should may might must".split())
DO_AUXILIARIES = frozenset("do does did can could will would shall should may might must".split())
WH_WORDS = frozenset("who whom whose what which when where why how".split())
# Words that turn "how"/"what" into an asked kind ("how many", "what year").
WH_MODIFIERS = frozenset("much many long old often far big large tall high deep wide soon "
                         "year date day month century kind sort type".split())
PREPOSITIONS = frozenset("in on at to for by with from about into onto after before during "
                         "since until over under through against without between among "
                         "within across behind beside near per via".split())
DETERMINERS = frozenset("the a an this that these those its his her their our my your".split())
# Past participles not ending in -ed/-en ("When was it *built*?"): where a subject ends.
IRREGULAR_PARTICIPLES = frozenset(
    """built made held paid sold bought brought caught taught thought found left kept sent spent
    lent lost meant met put set shut cut hit hurt let read said told won run begun sung swum
    drunk hung struck stuck spun dug fed led fled bred shot lit laid born borne worn torn sworn
    shown drawn grown thrown known flown done gone seen""".split())
# How a follow-up question is framed (rag.answer.conversation): the words that give it no
# subject of its own ("How many are in stock?" has one content word), prepositions that open a
# time adjunct and so end a subject ("after the Congress"), a verb's particles ("set *off*"),
# time adjectives a subject does not end with ("last"), and speakers, never what "it" is.
QUESTION_FRAME_WORDS = frozenset(
    """what who whom whose when where why how which did does do is are was were can could would
    will should a an the of in on at to for by with from and or about""".split())
WHEN_PREPOSITIONS = frozenset("after before during since until".split())
PARTICLES = frozenset("off up out down away back".split())
TIME_ADJECTIVES = frozenset("last next this".split())
SPEAKERS = frozenset("i we you".split())
# Nouns naming an attribute of a thing ("the title of the speech"): a pronoun after a question
# about one refers to the thing.
ATTRIBUTE_NOUNS = frozenset(
    """title name date day year time number amount size length price cost value author
    purpose aim goal result outcome meaning cause location address subject topic content
    text version capital population age height weight colour color shape material
    capacity fee rate duration""".split())
# Nouns for a document itself: "Who sent the notice?" after an answer quoting an e-mail asks
# about that e-mail.
DOCUMENT_NOUNS = frozenset("""notice memo e-mail email mail message letter document announcement
    circular newsletter bulletin leaflet flyer report file page""".split())
# Adverbs of place, and of time, a follow-up swaps for one of their kind ("And at home?" after
# "abroad", "And today?" after "in 2010").
PLACE_ADVERBS = frozenset("""abroad overseas home domestically here there everywhere elsewhere
    locally nationally internationally worldwide""".split())
TIME_ADVERBS = frozenset("today now then yesterday tomorrow nowadays currently".split())
# Words that say when without naming a date ("last year"): not part of a subject.
TIME_WORDS = frozenset("today yesterday tomorrow now ago currently recently year years week "
                       "weeks month months".split())

# Question words carry no evidence: "what" in a sentence does not make it an answer.
QUESTION_WORDS = frozenset("what who whom whose when where why how which did does do is are "
                           "was were".split())

# What each kind of question asks with. A question asking for a title or a name says so
# anywhere; otherwise it is of the kind its first question words give.
TITLE_WORDS = re.compile(r"\b(title|titled|called|named|what (is|was) the name|what (is|was) "
                         r"its name)\b")
KIND_WORDS = (
    ("date", re.compile(r"\b(when|what (year|date|day|month|century)|(in|on|at|by) (what|which) "
                        r"(year|date|day|month|century)|which (year|date|day|month|century))\b")),
    ("quantity", re.compile(r"\bhow (many|much|long|old|often|far|big|large|tall|high|deep|wide)"
                            r"\b|\bwhat (percentage|number|amount)\b")),
    ("name", re.compile(r"\b(who|whom|whose|where)\b")),
    ("phrase", re.compile(r"\b(how|what|which|why)\b")),
)
# "Which <noun>" asks for one of a kind of thing (which town, which company): a sentence naming
# something may answer it (``asked_kinds``), though no short answer is marked for it (the
# question's kind stays "phrase": the noun, not a rule, says what is asked).
WHICH_NAME = re.compile(r"\bwhich (?!(?:year|date|day|month|century)\b)[a-z]+\b")


def asked_kinds(question: str) -> list[str]:
    """Every kind of answer ``question`` asks for, wherever its question words stand ("Who
    gave it, and when?": date and name), of date, quantity and name (``KIND_WORDS``, and
    ``WHICH_NAME`` a name). rag.answer.shortanswer.question_kind takes the one whose words
    come first (a title when it asks for one)."""
    q = question.lower()
    kinds = [kind for kind, pattern in KIND_WORDS if kind != "phrase" and pattern.search(q)]
    if "name" not in kinds and WHICH_NAME.search(q):
        kinds.append("name")
    return kinds


def light_stem(word: str) -> str:
    """A word lower-cased without its -ing, -ed, -es or -s (a stem of three letters at least):
    what the answer rules compare question and sentence words by. Lighter than Snowball's
    (PyStemmer, which BM25 uses): the answer gate was fitted on these stems."""
    w = word.lower().strip("'’")
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def refers_back(sentence: str, before: str) -> bool:
    """Whether ``sentence`` leans on the one ``before`` it: a pronoun, or a definite noun
    phrase ("the speech", "this policy") whose noun the sentence before names."""
    words = re.findall(r"[\w'’-]+", sentence.lower())
    if any(w in PRONOUNS for w in words):
        return True
    nouns = {light_stem(m) for m in re.findall(r"\b(?:the|this|that|these|those)\s+([a-z][\w-]+)",
                                                sentence.lower())}
    named = {light_stem(w) for w in re.findall(r"[\w'’-]+", before.lower())}
    return bool(nouns - STOP_WORDS & named)

"""Curated forename variants, transliterations and nicknames, grouped under one canonical form.

Records of one child disagree on forenames for reasons that are not typing errors: a nickname in a
social-care record (Bill for William), or one of several English transliterations of the same
Arabic, Urdu or Bengali name (Mohammed, Muhammad, ...). Jaro-Winkler alone scores Bill/William
low, so linkage compares the canonical group as well as the raw spelling.

The table is deliberately conservative: a name belongs to at most one group, and ambiguous
short forms (Alex: Alexander or Alexandra; Sam: Samuel or Samantha; Jo) are left out rather than
merged, because merging them would make twins of different sex look alike.
"""

from __future__ import annotations

# Each tuple: canonical form first, then the variants that mean the same forename (casefolded,
# accents and punctuation already stripped by standardise.clean_name).
FORENAME_GROUPS: tuple[tuple[str, ...], ...] = (
    # Transliterations
    (
        "muhammad",
        "mohammed",
        "mohammad",
        "mohamed",
        "muhammed",
        "mohamad",
        "muhamad",
        "mohammod",
        "mahomed",
        "mehmet",
        "mohd",
        "mohummed",
        "muhammet",
        "mo",
    ),
    ("ahmed", "ahmad", "ahmet", "ahmid"),
    ("mustafa", "mostafa", "mustapha", "moustafa", "mustafah"),
    ("yusuf", "yousuf", "yousef", "youssef", "yusef", "yosef"),
    ("ibrahim", "ebrahim", "ibraheem", "ibby"),
    ("abdullah", "abdallah", "abdulla"),
    ("abdul", "abdool", "abdal"),
    ("hussain", "hussein", "husain", "hossain", "hosain", "husein"),
    ("hassan", "hasan", "hassaan"),
    ("ali", "aly"),
    ("omar", "umar", "omer", "umer"),
    ("osman", "usman", "uthman", "othman", "osmaan"),
    ("aisha", "ayesha", "aysha", "aishah", "ayisha"),
    ("fatima", "fatimah", "fatma", "fathima"),
    ("khadija", "khadijah", "khadeeja", "hatice"),
    ("maryam", "mariam", "miriam", "meryem"),
    ("zainab", "zaynab", "zeynep", "zainib", "zenab", "zaineb"),
    ("yasmin", "yasmine", "jasmin", "jasmine", "yazmin"),
    ("amir", "ameer", "emir"),
    ("hamza", "hamzah", "hamsa"),
    ("bilal", "bilaal"),
    ("zakariya", "zakaria", "zakariyya", "zachariah", "zakariyah"),
    ("ismail", "ismael", "ismaeel", "esmail"),
    ("sulaiman", "suleiman", "sulayman", "suleman"),
    ("ayaan", "ayan", "aayan"),
    ("harpreet", "harprit", "harps"),
    ("gurpreet", "gurprit"),
    ("mohinder", "mahinder", "mohindar"),
    ("oluwaseun", "seun"),
    ("oluwatobi", "tobi"),
    ("aleksander", "aleksandr", "oleksandr", "alexandr"),
    ("dmitri", "dmitry", "dimitri", "dmytro"),
    ("sergei", "sergey", "serhiy"),
    ("yuri", "yury", "yuriy"),
    ("natalia", "natalya", "nataliya"),
    ("anastasia", "anastasiya", "nastya"),
    ("mikhail", "mykhailo", "michail"),
    ("jakub", "jacob", "jakob", "yakub", "yaqub", "jake"),
    ("wojciech", "wojtek"),
    ("krzysztof", "krzys"),
    ("zoe", "zoey", "zoie"),
    ("chloe", "khloe", "cloe"),
    ("sophie", "sofie", "sophi"),
    ("sophia", "sofia", "sofiya"),
    ("leah", "lea", "lia"),
    ("isabelle", "isabel", "isobel", "isabella", "izabella", "izzy", "bella"),
    ("caitlin", "kaitlyn", "katelyn", "caitlyn", "kaitlin"),
    ("aidan", "aiden", "ayden", "aden"),
    ("jayden", "jaden", "jaiden", "jaydon"),
    ("mohsin", "muhsin"),
    ("iqra", "ikra", "iqraa"),
    ("zain", "zayn", "zane", "zayne"),
    ("aaliyah", "aliyah", "aleah", "aaliya", "aliya"),
    # Nicknames and short forms
    ("william", "bill", "billy", "will", "willie"),
    ("robert", "bob", "bobby", "rob", "robbie", "bert"),
    ("richard", "rick", "ricky", "richie", "dick"),
    ("james", "jim", "jimmy", "jamie"),
    ("john", "jack", "johnny", "jon", "jonny"),
    ("jonathan", "jonathon"),
    ("thomas", "tom", "tommy"),
    ("michael", "mike", "mikey", "mick", "micky", "mickey"),
    ("daniel", "dan", "danny"),
    ("matthew", "matt", "matty"),
    ("christopher", "chris", "kit"),
    ("nicholas", "nick", "nicky", "nico"),
    ("anthony", "tony", "antony", "ant"),
    ("benjamin", "ben", "benji", "benny"),
    ("joshua", "josh"),
    ("samuel", "sammy"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("charles", "charlie", "chas", "chuck"),
    ("henry", "harry", "hal"),
    ("frederick", "fred", "freddie", "freddy"),
    ("alfred", "alfie", "alf"),
    ("archibald", "archie"),
    ("oliver", "ollie", "olly"),
    ("theodore", "theo"),
    ("zachary", "zach", "zack", "zak"),
    ("nathaniel", "nathan", "nate"),
    ("timothy", "tim", "timmy"),
    ("stephen", "steven", "steve", "stevie"),
    ("peter", "pete"),
    ("patrick", "pat", "paddy"),
    ("joseph", "joe", "joey"),
    ("david", "dave", "davey", "davie"),
    ("andrew", "andy", "drew"),
    ("callum", "calum"),
    ("elizabeth", "beth", "liz", "lizzie", "lizzy", "eliza", "betty", "libby", "elisabeth"),
    ("margaret", "maggie", "meg", "peggy"),
    ("catherine", "katherine", "kathryn", "kate", "katie", "kat", "cathy", "kathy", "katy", "kay"),
    ("rebecca", "becky", "becca"),
    ("victoria", "vicky", "vikki", "tori"),
    ("jennifer", "jenny", "jen"),
    ("abigail", "abbie", "abby", "abi"),
    ("olivia", "liv", "livvy"),
    ("amelia", "millie", "milly"),
    ("eleanor", "ellie", "elly", "nell", "nelly", "elinor"),
    ("emily", "emmie"),
    ("charlotte", "lottie", "lotte"),
    ("jessica", "jess", "jessie"),
    ("natasha", "tasha"),
    ("deborah", "debbie", "debra"),
    ("susan", "sue", "suzie", "susie"),
    ("mary", "molly", "polly"),
    ("ann", "anne", "annie"),
    ("kimberley", "kimberly", "kim"),
    ("georgina", "georgie", "gina"),
    ("harriet", "hattie"),
    ("florence", "flo", "florrie"),
    ("emmanuel", "manny"),
    ("elijah", "eli"),
    ("imogen", "immy"),
    ("matilda", "tilly", "tillie"),
    ("madison", "maddie", "maddy"),
    ("cameron", "cam"),
    ("alexander", "xander"),
    ("ayodele", "ayo"),
)


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for group in FORENAME_GROUPS:
        canonical = group[0]
        for name in group:
            if name in lookup and lookup[name] != canonical:
                raise ValueError(f"forename {name!r} is in two groups")
            lookup[name] = canonical
    return lookup


FORENAME_GROUP: dict[str, str] = _build_lookup()


def forename_group(name: str) -> str:
    """Canonical group of a cleaned forename (the name itself when it is in no group)."""
    return FORENAME_GROUP.get(name, name)

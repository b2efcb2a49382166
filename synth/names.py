"""Name pools for the authority's communities, and the variant tables that identifier noise draws on.

Pools are ordered most common first; draws use Zipf-like weights so that, as in a real authority,
a few names are very common (many Jacks, many Muhammads) and linkage on names alone is ambiguous.
Surnames written `male|female` take the female form for girls (Polish -ski/-ska).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import forename_tail as more_forenames
from . import surname_tail as invented_surnames


@dataclass(frozen=True)
class Community:
    boys: tuple[str, ...]
    girls: tuple[str, ...]
    surnames: tuple[str, ...]
    # some girls are recorded under a personal rather than family surname (Kaur, Begum, Bibi)
    girls_surnames: tuple[str, ...] = ()
    girls_surname_share: float = 0.0
    # the first entries of `boys` carry this extra share of all boys (Muhammad and its spellings)
    top_boys_share: float = 0.0
    top_boys: int = 0


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMUNITIES: dict[str, Community] = {
    "british": Community(
        boys=_split(
            "Jack Oliver Harry Charlie Thomas Jacob Alfie Riley William James Joshua George Ethan Noah "
            "Samuel Daniel Oscar Max Mason Logan Lewis Tyler Dylan Leo Callum Kyle Connor Liam Jake Ryan "
            "Archie Jayden Lucas Henry Freddie Alexander Joseph Benjamin Matthew Luke Kian Reece Bradley "
            "Harvey Toby Owen Jamie Nathan Cameron Zachary Christopher Michael Jonathan Anthony Frankie "
            "Ellis Finley Louie Rhys Aaron Kieran Brandon Billy Theo Jenson Teddy Ronnie Tommy Alex"
        ),
        girls=_split(
            "Olivia Amelia Emily Isla Ava Jessica Isabella Lily Sophie Grace Chloe Mia Evie Ruby Ella "
            "Poppy Holly Megan Lauren Ellie Charlotte Hannah Leah Millie Freya Keira Courtney Paige Amber "
            "Shannon Jade Abigail Phoebe Erin Bethany Summer Scarlett Daisy Lacey Madison Eleanor Katie "
            "Rebecca Elizabeth Samantha Alexandra Katherine Imogen Niamh Caitlin Demi Tegan Kayleigh "
            "Georgia Harriet Matilda Lola Darcey Maisie Elsie Layla Willow Sienna Lexi Rosie Brooke"
        ),
        surnames=_split(
            "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Walker Wright "
            "Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke "
            "Turner Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young "
            "Allen Mitchell James Anderson Phillips Lee Bell Parker Davis Bennett Price Griffiths "
            "Simpson Marshall Shaw Chapman Ellis Mason Cox Richards Webb Rogers Kelly Russell Stevens "
            "Holmes Lloyd Gibson Wilkes Pritchard Bayliss Onions Hickman Bradley Foster Cartwright "
            "Jukes Perry Bird Hodgkins Nicholls Fellows Rowley Dale Fisher Stokes Tonks Woodward "
            "Gough Mills Butler Barnes Hunt Harper Knight Holland Sanders Payne Fletcher O'Brien "
            "O'Connor McDonald McCarthy Murphy Doyle Kavanagh"
        ),
    ),
    "pakistani": Community(
        boys=_split(
            "Muhammad Mohammed Mohammad Muhammed Mohamed Ali Hamza Ibrahim Yusuf Zain Bilal Usman Adam "
            "Ayaan Hassan Haris Rayyan Umar Abdullah Zakariya Imran Faisal Arslan Saad Ismail Musa Idris "
            "Zayn Aariz Haider Shahzad Adil Kamran Tariq Asif Junaid Waqas Rehan Danyal Ehsan Suleman"
        ),
        girls=_split(
            "Aisha Maryam Fatima Zainab Hafsa Khadija Amina Iqra Sana Alishba Hira Noor Zara Eman "
            "Mahnoor Ayesha Safa Anaya Inaya Laiba Aleena Haniya Areeba Rimsha Sadia Mehwish Nimra "
            "Samina Rabia Amna Zoya Humaira Kiran Saima Anum"
        ),
        surnames=_split(
            "Khan Hussain Ahmed Ali Akhtar Iqbal Mahmood Rehman Shah Butt Mohammed Aslam Rashid Riaz "
            "Saleem Sharif Javed Nawaz Malik Qureshi Raja Zaman Anwar Bashir Yousaf Hanif Rafiq Latif "
            "Sadiq Arshad Sabir Tariq Hameed Karim Mirza Chaudhry Siddique Ashraf"
        ),
        girls_surnames=_split("Bibi Kausar Begum"),
        girls_surname_share=0.12,
        top_boys_share=0.2,
        top_boys=5,
    ),
    "sikh": Community(
        boys=_split(
            "Arjun Harjot Gurpreet Jaskaran Manpreet Harpreet Jasdeep Amrit Rajveer Karanveer Gurdeep "
            "Jaspal Gurvinder Navdeep Harman Jasraj Sukhraj Tejveer Ranveer Harvir Sukhdeep Kuldeep "
            "Jagjit Parminder Balraj Davinder Ravinder Jaswinder Inderjit Manraj"
        ),
        girls=_split(
            "Simran Harleen Jasleen Navneet Amrita Manpreet Harpreet Gurleen Sukhleen Jaspreet Ravneet "
            "Mandeep Jasmeet Kirandeep Harnoor Gurnoor Amandeep Parveen Rajdeep Sukhmani Jasmin Harsimran "
            "Navpreet Ramandeep Baljit Sharanjit Tanveer Gurkiran"
        ),
        surnames=_split(
            "Singh Sandhu Gill Sidhu Dhillon Bains Sahota Johal Atwal Bhogal Mann Grewal Chahal Rai Basra "
            "Hayer Dhaliwal Virdi Bassi Bhamra Cheema Kalsi Khaira Sangha Sohal Thind Uppal Randhawa "
            "Kang Heer"
        ),
        girls_surnames=_split("Kaur"),
        girls_surname_share=0.3,
    ),
    "gujarati": Community(
        boys=_split(
            "Aarav Krish Rohan Dev Karan Ravi Vikram Sahil Arjun Neel Jay Rahul Yash Dhruv Ishaan Vivek "
            "Nikhil Hitesh Jayesh Kishan Mihir Pranav Ankit Harsh"
        ),
        girls=_split(
            "Priya Anika Diya Isha Pooja Riya Nisha Kavya Meera Aanya Anjali Divya Hetal Komal Nikita "
            "Shreya Tanvi Ishani Krisha Bhavna Jiya Hema Neha"
        ),
        surnames=_split(
            "Patel Mistry Parmar Sharma Kumar Lal Shah Joshi Chauhan Solanki Makwana Desai Pandya Modi "
            "Gohil Rana Vaghela Chavda Mehta Thakkar"
        ),
    ),
    "bangladeshi": Community(
        boys=_split(
            "Mohammed Muhammad Abdul Rahim Shahid Sajid Tanvir Rakib Nayeem Ayaan Ibrahim Yusuf Shuhel "
            "Rubel Tahmid Adnan Mahfuz Rayhan Zakaria Jahid Sabbir Imran Faruk Hasan Sohel Rumel Tamim"
        ),
        girls=_split(
            "Fatema Nusrat Tasnim Sumaiya Ruksana Jannat Farzana Shamima Sadia Mariam Tahmina Habiba "
            "Sabrina Nadia Rumana Afia Lamia Sharmin Tanjila Rima Jesmin Shirin Yasmin Mahmuda"
        ),
        surnames=_split(
            "Miah Uddin Rahman Islam Hussain Ahmed Ali Hoque Choudhury Chowdhury Alam Akhtar Karim Haque "
            "Khan Ullah Amin Mahmud Sarkar Talukder Bhuiyan Hossain Kabir Rashid"
        ),
        girls_surnames=_split("Begum Khatun Sultana Akter"),
        girls_surname_share=0.35,
        top_boys_share=0.15,
        top_boys=2,
    ),
    "caribbean": Community(
        boys=_split(
            "Jamal Tyrone Marcus Jerome Kyle Andre Malachi Isaiah Elijah Reuben Tyrese Nathaniel Kai "
            "Jahmal Dwayne Rhys Jaden Kemar Tyreke Devon Leon Dante Jordan Darnell Corey Shaquille"
        ),
        girls=_split(
            "Jade Aaliyah Shanice Tia Keisha Nia Chantelle Jasmine Amani Kiara Tanisha Leah Imani Destiny "
            "Serena Shantel Zaria Monique Tianna Jada Kadeisha Aliyah Naomi Tamara"
        ),
        surnames=_split(
            "Campbell Brown Williams Clarke Francis Grant Thomas Johnson Robinson Bailey Reid Henry Lewis "
            "Morgan Samuels Gordon Graham Stewart Douglas Facey Walters McKenzie Richards Anderson "
            "Powell Spence Barrett Forbes Blake Hylton Edwards Wright"
        ),
    ),
    "african": Community(
        boys=_split(
            "Daniel David Emmanuel Samuel Joshua Chidi Tobi Kwame Kofi Oluwaseun Ayodele Tendai Tinashe "
            "Abdi Mohamed Ibrahim Chinedu Femi Ebuka Tunde Kelechi Kwabena Takunda Munashe Abdirahman "
            "Mustafa Jibril Nathan"
        ),
        girls=_split(
            "Grace Blessing Precious Favour Esther Adaeze Chioma Amara Ngozi Tiwa Folake Ruth Ayan Hodan "
            "Nyasha Tanaka Ruvimbo Deborah Comfort Abena Ama Faith Hibo Sagal Fadumo Mercy"
        ),
        surnames=_split(
            "Okafor Adeyemi Oladipo Mensah Boateng Asante Osei Mohamed Abdi Hassan Ncube Moyo Dube "
            "Okonkwo Eze Adebayo Ogunleye Nwosu Chikwanha Banda Mutasa Owusu Ali Warsame Farah Nkosi "
            "Ogunbiyi Adeleke Okoro Sithole"
        ),
    ),
    "eastern_european": Community(
        boys=_split(
            "Jakub Kacper Szymon Filip Mateusz Bartosz Dawid Andrei Alexandru Ionuț Lukas Matas Tomas "
            "Marek Patrik Adrian Michał Nikola Oskar Wiktor Łukasz Kamil Antoni Denis Darius Robert "
            "Gabriel Mihai Dominik"
        ),
        girls=_split(
            "Julia Zuzanna Maja Natalia Wiktoria Oliwia Amelia Andreea Ioana Maria Elena Gabriela "
            "Emilija Ugnė Kristina Alicja Karolina Denisa Antonia Lena Hanna Zofia Bianca Daria Nikola"
        ),
        surnames=_split(
            "Nowak Kowalski|Kowalska Wiśniewski|Wiśniewska Wójcik Kamiński|Kamińska "
            "Lewandowski|Lewandowska Zieliński|Zielińska Szymański|Szymańska Woźniak Dąbrowski|Dąbrowska "
            "Popescu Ionescu Popa Stan Dumitru Kazlauskas Jankauskas Horváth Baloh Kováč Novák Dvořák "
            "Nagy Rostas Lakatos Constantin Marin Stoica Petrauskas Mazur Krawczyk"
        ),
    ),
    "chinese": Community(
        boys=_split("Jason Kevin Ryan Jayden Ethan Hao Wei Jun Ming Lucas Oscar Daniel Justin Eric"),
        girls=_split("Chloe Jessica Emily Mei Ling Xin Yan Grace Amy Vivian Hannah Cindy Joyce Wing"),
        surnames=_split("Chen Wong Li Zhang Lin Wang Liu Cheung Ho Lam Yang Ng Chan Huang Tang"),
    ),
    "arabic": Community(
        boys=_split("Omar Ahmad Youssef Karim Ali Mustafa Hamza Hussein Khalid Amir Samir Tariq Zaid"),
        girls=_split("Layla Noor Rania Yasmin Sara Maryam Hana Dalia Leen Salma Zahra Amal Huda"),
        surnames=_split("Ahmadi Hassan Karimi Rahimi Mohammadi Abdullah Saleh Haddad Nasser Mahmoud Aziz"),
    ),
}

# Which name pools each ethnic group draws forenames and surnames from, with weights.
ETHNICITY_POOLS: dict[str, tuple[tuple[str, float], ...]] = {
    "WBRI": (("british", 1.0),),
    "WIRI": (("british", 1.0),),
    "WOTH": (("eastern_european", 0.85), ("british", 0.15)),
    "WROM": (("eastern_european", 1.0),),
    "MWBC": (("british", 0.55), ("caribbean", 0.45)),
    "MWBA": (("british", 0.5), ("african", 0.5)),
    "MWAS": (("british", 0.5), ("pakistani", 0.3), ("sikh", 0.2)),
    "MOTH": (("british", 0.6), ("arabic", 0.2), ("caribbean", 0.2)),
    "AIND": (("sikh", 0.65), ("gujarati", 0.35)),
    "APKN": (("pakistani", 1.0),),
    "ABAN": (("bangladeshi", 1.0),),
    "AOTH": (("pakistani", 0.5), ("gujarati", 0.3), ("arabic", 0.2)),
    "CHNE": (("chinese", 1.0),),
    "BCRB": (("caribbean", 1.0),),
    "BAFR": (("african", 1.0),),
    "BOTH": (("african", 0.5), ("caribbean", 0.5)),
    "OOTH": (("arabic", 0.7), ("british", 0.3)),
    "REFU": (("british", 0.8), ("pakistani", 0.2)),
    "NOBT": (("british", 1.0),),
}

# Extended census codes written for some rows (each maps to the main code).
EXTENDED_CODES: dict[str, tuple[str, ...]] = {
    "WBRI": ("WENG", "WSCO", "WWEL", "WOWB"),
    "APKN": ("AKPA", "AMPK", "AOPK", "APKA"),
    "BAFR": ("BNGN", "BSOM", "BGHA", "BAOF"),
    "WOTH": ("WPOL", "WEEU", "WOTW"),
}

HOME_LANGUAGE: dict[str, str] = {
    "pakistani": "URD", "sikh": "PNJ", "gujarati": "GUJ", "bangladeshi": "BNG",
    "eastern_european": "POL", "chinese": "CHI", "arabic": "ARA", "african": "ENG",
}  # fmt: skip

# Spelling and transliteration variants: every name in a group is a variant of the others.
TRANSLITERATION_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Muhammad", "Mohammed", "Mohammad", "Muhammed", "Mohamed", "Mohamad", "Mohd"),
    ("Hussain", "Hussein", "Husain", "Hossain"),
    ("Ahmed", "Ahmad", "Ahmet"),
    ("Choudhury", "Chowdhury", "Choudhry", "Chaudhry", "Chaudhary"),
    ("Rahman", "Rehman", "Rahmen"),
    ("Mahmood", "Mehmood", "Mahmud", "Mahmoud"),
    ("Yusuf", "Yousef", "Yusef", "Yousuf", "Yousaf"),
    ("Aisha", "Ayesha", "Aysha", "Ayisha"),
    ("Fatima", "Fatema", "Fatimah"),
    ("Zainab", "Zaynab", "Zenab"),
    ("Khadija", "Khadijah", "Khadeja"),
    ("Ibrahim", "Ebrahim", "Ibraheem"),
    ("Maryam", "Mariam", "Mariyam"),
    ("Hoque", "Haque", "Hoq", "Huq"),
    ("Miah", "Mia", "Meah"),
    ("Uddin", "Udin", "Uddeen"),
    ("Begum", "Begam"),
    ("Qureshi", "Kureshi", "Quraishi"),
    ("Siddique", "Siddiqui", "Sadique"),
    ("Zakariya", "Zakaria", "Zakariyya", "Zachariah"),
    ("Ismail", "Ismael", "Esmail"),
    ("Hamza", "Hamzah"),
    ("Abdullah", "Abdulla"),
    ("Rayyan", "Rayan", "Raiyan"),
    ("Zain", "Zayn", "Zane"),
    ("Usman", "Osman", "Uthman"),
    ("Umar", "Omar"),
    ("Iqra", "Ikra"),
    ("Sadia", "Saadia"),
    ("Nusrat", "Nusrath"),
    ("Tasnim", "Tasneem"),
    ("Sumaiya", "Sumaya", "Somaya"),
    ("Jannat", "Jannatul"),
    ("Gurpreet", "Gurprit"),
    ("Harpreet", "Harprit"),
    ("Jaspreet", "Jasprit"),
    ("Mohamed", "Mahamed", "Maxamed"),
    ("Abdi", "Abdy"),
    ("Oluwaseun", "Oluseun"),
    ("Adeyemi", "Adeyemmi"),
    ("Okafor", "Okafur"),
    ("Popescu", "Popesku"),
    ("Wójcik", "Wojcik", "Woycik"),
    ("Woźniak", "Wozniak"),
    ("Łukasz", "Lukasz", "Lucas"),
    ("Michał", "Michal", "Michael"),
    ("Ionuț", "Ionut"),
    ("Ugnė", "Ugne"),
    ("Kováč", "Kovac", "Kovach"),
    ("Horváth", "Horvath"),
    ("Novák", "Novak"),
    ("Dvořák", "Dvorak"),
    ("Wiśniewski", "Wisniewski"),
    ("Wiśniewska", "Wisniewska"),
    ("Kamiński", "Kaminski"),
    ("Kamińska", "Kaminska"),
    ("Zieliński", "Zielinski"),
    ("Zielińska", "Zielinska"),
    ("Szymański", "Szymanski"),
    ("Szymańska", "Szymanska"),
    ("Dąbrowski", "Dabrowski"),
    ("Dąbrowska", "Dabrowska"),
    ("Clarke", "Clark"),
    ("McDonald", "MacDonald"),
    ("O'Brien", "OBrien", "O Brien"),
    ("O'Connor", "OConnor", "O Connor"),
    ("Jayden", "Jaydon", "Jaiden"),
    ("Kayleigh", "Kayley", "Kaylee"),
    ("Leah", "Lea"),
    ("Lacey", "Lacie"),
    ("Freddie", "Freddy"),
    ("Isabella", "Isobella"),
    ("Sophie", "Sophia"),
    ("Niamh", "Neve"),
    ("Caitlin", "Katelyn"),
    ("Aaliyah", "Aliyah", "Aleah"),
    ("Tyrese", "Tyreese"),
)

# Nicknames and short forms used in place of a legal forename.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Will", "Billy"), "Thomas": ("Tom", "Tommy"), "James": ("Jim", "Jamie"),
    "Joshua": ("Josh",), "Samuel": ("Sam", "Sammy"), "Daniel": ("Dan", "Danny"),
    "Alexander": ("Alex", "Xander"), "Benjamin": ("Ben", "Benji"), "Matthew": ("Matt",),
    "Jacob": ("Jake",), "Oliver": ("Ollie", "Olly"), "Nathaniel": ("Nate", "Nathan"),
    "Christopher": ("Chris",), "Anthony": ("Tony", "Ant"), "Michael": ("Mike", "Mikey"),
    "Jonathan": ("Jon", "Jonny"), "Joseph": ("Joe", "Joey"), "Zachary": ("Zach", "Zak"),
    "Frederick": ("Freddie",), "Harrison": ("Harry",), "Henry": ("Harry",), "Cameron": ("Cam",),
    "Elizabeth": ("Beth", "Lizzie", "Liz"), "Jessica": ("Jess", "Jessie"), "Rebecca": ("Becky", "Becca"),
    "Charlotte": ("Lottie", "Charlie"), "Abigail": ("Abbie", "Abby"), "Katherine": ("Kate", "Katie"),
    "Isabella": ("Bella", "Izzy"), "Olivia": ("Liv", "Livvy"), "Samantha": ("Sam", "Sammie"),
    "Alexandra": ("Lexi", "Alex"), "Eleanor": ("Ellie", "Nell"), "Amelia": ("Millie", "Amy"),
    "Madison": ("Maddie",), "Georgia": ("Georgie",), "Matilda": ("Tilly",), "Imogen": ("Immy",),
    "Bethany": ("Beth",), "Hannah": ("Han",), "Muhammad": ("Mo",), "Mohammed": ("Mo",),
    "Mohammad": ("Mo",), "Abdullah": ("Abdul",), "Zakariya": ("Zak",), "Ibrahim": ("Ibby",),
    "Gurpreet": ("Gurp",), "Jaskaran": ("Jas",), "Jasleen": ("Jas",), "Harpreet": ("Harps",),
    "Oluwaseun": ("Seun",), "Oluwatobi": ("Tobi",), "Ayodele": ("Ayo",), "Emmanuel": ("Manny",),
    "Tinashe": ("Tina",), "Malachi": ("Kai",), "Elijah": ("Eli",), "Isaiah": ("Zay",),
    "Mateusz": ("Mati",), "Alexandru": ("Alex",), "Aleksandra": ("Ola",), "Gabriela": ("Gabi",),
    "Andreea": ("Andi",), "Kristina": ("Kris",), "Natalia": ("Nat",), "Wiktoria": ("Wiki",),
}  # fmt: skip


def variant_table() -> dict[str, tuple[str, ...]]:
    """name -> its other spellings (from TRANSLITERATION_GROUPS)."""
    table: dict[str, tuple[str, ...]] = {}
    for group in TRANSLITERATION_GROUPS:
        for name in group:
            table[name] = tuple(n for n in group if n != name)
    return table


def _pool_surnames() -> set[str]:
    return {name for pool in COMMUNITIES.values() for name in pool.surnames + pool.girls_surnames}


@functools.cache
def british_surname_tail() -> tuple[str, ...]:
    """The invented surnames (surname_tail.CANDIDATES) that no community's pool already holds, in
    order (Bradley is British already, Hayer Sikh)."""
    taken = _pool_surnames()
    return tuple(name for name in invented_surnames.CANDIDATES if name not in taken)


@functools.cache
def british_forename_tail() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The boys' and girls' forenames of forename_tail that no pool holds as a forename or a surname
    (Adam is Caribbean already, Graham a surname) and no nickname or spelling-variant table names,
    in order, each list as long as the shorter."""
    taken = {name for pool in COMMUNITIES.values() for name in pool.boys + pool.girls}
    taken |= _pool_surnames() | set(british_surname_tail())
    taken |= {name for group in TRANSLITERATION_GROUPS for name in group}
    taken |= {name for key, short in NICKNAMES.items() for name in (key, *short)}
    boys = tuple(name for name in more_forenames.BOYS if name not in taken)
    girls = tuple(name for name in more_forenames.GIRLS if name not in taken)
    n = min(len(boys), len(girls))
    return boys[:n], girls[:n]


def zipf_weights(n: int, exponent: float = 0.9, offset: float = 2.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + offset) ** exponent
    return w / w.sum()


def draw_names(
    rng: np.random.Generator, community: str, male: np.ndarray, surname_tail: int = 0, forename_tail: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Forenames and family surnames (male form) for len(male) children of one community.

    `surname_tail`: the first this many of british_surname_tail() follow the British pool's surnames
    and `forename_tail` of each of british_forename_tail()'s lists its boys' and girls' forenames
    (the other communities' pools are as they are). The draws take as many random numbers whatever
    the pool's size; identity noise, drawing after them, does not (synth/README.md)."""
    pool = COMMUNITIES[community]
    n = len(male)
    more_boys, more_girls = british_forename_tail() if community == "british" else ((), ())
    boys = np.array(pool.boys + more_boys[:forename_tail], dtype=object)
    girls = np.array(pool.girls + more_girls[:forename_tail], dtype=object)
    wb = zipf_weights(len(boys))
    if pool.top_boys:
        wb = wb * (1 - pool.top_boys_share)
        wb[: pool.top_boys] += pool.top_boys_share * zipf_weights(pool.top_boys, 1.5, 1.0)
    forename = np.where(
        male,
        boys[rng.choice(len(boys), n, p=wb)],
        girls[rng.choice(len(girls), n, p=zipf_weights(len(girls)))],
    )
    tail = british_surname_tail()[:surname_tail] if community == "british" else ()
    surnames = np.array(pool.surnames + tail, dtype=object)
    surname = surnames[rng.choice(len(surnames), n, p=zipf_weights(len(surnames), 0.8, 3.0))]
    return forename, surname


def gendered_surname(surname: np.ndarray, male: np.ndarray) -> np.ndarray:
    """`Kowalski|Kowalska` -> the form for each child's sex; plain surnames unchanged."""
    out = surname.copy()
    has_form = np.array(["|" in s for s in surname], dtype=bool)
    for i in np.flatnonzero(has_form):
        m, f = surname[i].split("|")
        out[i] = m if male[i] else f
    return out

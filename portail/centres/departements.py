"""Which region (DREETS) an establishment's commune belongs to: its département, then the region.

The regions are the 18 rows of `Region` (INSEE codes, loaded by a data migration); this module
holds the 101 départements they are made of (INSEE's "code officiel géographique", regions since
2016), as data: a département never moves between regions without a law, so a module is read by
everyone and needs no migration. The registry gives an establishment's postcode, not its commune's
INSEE code: the département is the postcode's first two digits (three overseas, 2A/2B in Corsica).
A few border communes have the postcode of a neighbouring département's post office; that is why
the region is only preselected, and the agent may change it (decision 0017).
"""

_REGIONS: dict[str, tuple[str, ...]] = {
    "01": ("971",),  # Guadeloupe (Saint-Barthélemy and Saint-Martin share its postcodes: 971xx)
    "02": ("972",),  # Martinique
    "03": ("973",),  # Guyane
    "04": ("974",),  # La Réunion
    "06": ("976",),  # Mayotte
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),  # Île-de-France
    "24": ("18", "28", "36", "37", "41", "45"),  # Centre-Val de Loire
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),  # Bourgogne-Franche-Comté
    "28": ("14", "27", "50", "61", "76"),  # Normandie
    "32": ("02", "59", "60", "62", "80"),  # Hauts-de-France
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),  # Grand Est
    "52": ("44", "49", "53", "72", "85"),  # Pays de la Loire
    "53": ("22", "29", "35", "56"),  # Bretagne
    "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "76": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "93": ("04", "05", "06", "13", "83", "84"),  # Provence-Alpes-Côte d'Azur
    "94": ("2A", "2B"),  # Corse
}

# Département code → INSEE code of its region ("44" → "52").
REGION_OF_DEPARTEMENT: dict[str, str] = {
    departement: region for region, departements in _REGIONS.items() for departement in departements
}

# Postcodes of Corse-du-Sud run from 20000 to 20199; those of Haute-Corse from 20200.
_HAUTE_CORSE_FROM = 20200


def departement_of_postcode(postcode: str) -> str | None:
    """'44000' → '44', '97600' → '976', '20090' → '2A', '20200' → '2B'; None when the postcode is
    not a French one of five digits."""
    postcode = (postcode or "").strip()
    if len(postcode) != 5 or not postcode.isdigit() or postcode.startswith("00"):
        return None
    if postcode.startswith(("97", "98")):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2B" if int(postcode) >= _HAUTE_CORSE_FROM else "2A"
    return postcode[:2]


def region_code_of_postcode(postcode: str) -> str | None:
    """The INSEE code of the region of that postcode's département, or None (abroad, Monaco,
    Saint-Pierre-et-Miquelon or the Pacific, which no DREETS of the 18 covers)."""
    departement = departement_of_postcode(postcode)
    return REGION_OF_DEPARTEMENT.get(departement) if departement else None

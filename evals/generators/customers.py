"""Customer cases: client master data exports in eight languages."""

from __future__ import annotations

import datetime as dt
import random
from typing import Callable

from evals.generators.common import (
    CUSTOMER_HEADERS, DAY_MONTH_YEAR, DMY_DASH, DMY_DOT, DMY_SLASH, ISO, ISO_TIMESTAMP, MDY_SLASH, YYYYMMDD,
    CaseSpec, company, date_text, email_for, enum_text, gold, make_phone, other, person, phone_text,
    prove_day_order, random_date,
)

COUNTRIES = "DE AT FR NL BE ES IT CZ PL GB US".split()
ALPHA3 = dict(zip(COUNTRIES, "DEU AUT FRA NLD BEL ESP ITA CZE POL GBR USA".split()))
# Country names per language, in the order of COUNTRIES.
COUNTRY_NAMES = {
    "en": "Germany|Austria|France|Netherlands|Belgium|Spain|Italy|Czech Republic|Poland|United Kingdom|United States",
    "de": "Deutschland|Österreich|Frankreich|Niederlande|Belgien|Spanien|Italien|Tschechien|Polen|Vereinigtes Königreich|Vereinigte Staaten",
    "fr": "Allemagne|Autriche|France|Pays-Bas|Belgique|Espagne|Italie|Tchéquie|Pologne|Royaume-Uni|États-Unis",
    "nl": "Duitsland|Oostenrijk|Frankrijk|Nederland|België|Spanje|Italië|Tsjechië|Polen|Verenigd Koninkrijk|Verenigde Staten",
    "es": "Alemania|Austria|Francia|Países Bajos|Bélgica|España|Italia|Chequia|Polonia|Reino Unido|Estados Unidos",
    "it": "Germania|Austria|Francia|Paesi Bassi|Belgio|Spagna|Italia|Cechia|Polonia|Regno Unito|Stati Uniti",
    "cs": "Německo|Rakousko|Francie|Nizozemsko|Belgie|Španělsko|Itálie|Česko|Polsko|Spojené království|Spojené státy",
    "pl": "Niemcy|Austria|Francja|Holandia|Belgia|Hiszpania|Włochy|Czechy|Polska|Wielka Brytania|Stany Zjednoczone",
}
# Customer type (individual|organization) and risk rating (low|medium|high) words per language.
TYPE_WORDS = {"en": "Private|Company", "de": "Privatkunde|Firmenkunde", "fr": "Particulier|Entreprise",
              "nl": "Particulier|Zakelijk", "es": "Persona física|Persona jurídica", "it": "Privato|Azienda",
              "cs": "Fyzická osoba|Právnická osoba", "pl": "Osoba fizyczna|Firma"}
RISK_WORDS = {"en": "Low|Medium|High", "de": "niedrig|mittel|hoch", "fr": "Faible|Moyen|Élevé", "nl": "Laag|Midden|Hoog",
              "es": "Bajo|Medio|Alto", "it": "Basso|Medio|Alto", "cs": "Nízké|Střední|Vysoké", "pl": "Niskie|Średnie|Wysokie",
              "letters": "L|M|H", "upper": "LOW|MEDIUM|HIGH"}
# Per country: address line format, streets, "postal code,city" pairs, second address line.
ADDRESSES = {
    "DE": ("{street} {number}", "Lindenstraße|Bahnhofstraße|Am Mühlbach|Gartenweg|Schillerstraße",
           "10115,Berlin|80331,München|50667,Köln|01067,Dresden|60311,Frankfurt am Main", "Whg. {n}"),
    "AT": ("{street} {number}", "Hauptstraße|Kirchengasse|Mariahilfer Straße|Bergweg", "1010,Wien|8010,Graz|5020,Salzburg|6020,Innsbruck", "Top {n}"),
    "FR": ("{number} {street}", "rue de la République|avenue Victor Hugo|rue des Lilas|boulevard Voltaire",
           "75011,Paris|69002,Lyon|33000,Bordeaux|13001,Marseille", "Appartement {n}"),
    "NL": ("{street} {number}", "Kerkstraat|Dorpsstraat|Molenweg|Prinsengracht", "1012 AB,Amsterdam|3511 CV,Utrecht|2511 BT,Den Haag|9711 LM,Groningen", "Unit {n}"),
    "BE": ("{street} {number}", "Stationsstraat|Rue de la Loi|Kerkplein|Avenue Louise", "1000,Brussel|2000,Antwerpen|9000,Gent|4000,Liège", "Bus {n}"),
    "ES": ("{street}, {number}", "Calle Mayor|Avenida de la Constitución|Calle del Sol|Paseo de Gracia",
           "28013,Madrid|08007,Barcelona|41001,Sevilla|46002,Valencia", "Piso {n}"),
    "IT": ("{street} {number}", "Via Roma|Corso Italia|Via Garibaldi|Piazza della Repubblica", "00184,Roma|20121,Milano|10121,Torino|50123,Firenze", "Interno {n}"),
    "CZ": ("{street} {number}", "Nádražní|Husova|Na Příkopě|Komenského", "110 00,Praha|602 00,Brno|301 00,Plzeň|779 00,Olomouc", "Byt {n}"),
    "PL": ("ul. {street} {number}", "Długa|Kwiatowa|Mickiewicza|Polna", "00-950,Warszawa|31-042,Kraków|50-075,Wrocław|80-831,Gdańsk", "Lokal {n}"),
    "GB": ("{number} {street}", "High Street|Station Road|Church Lane|Victoria Road", "E1 6AN,London|M1 1AE,Manchester|B1 1BB,Birmingham|LS1 4AP,Leeds", "Flat {n}"),
    "US": ("{number} {street}", "Main Street|Oak Avenue|Maple Drive|Elm Street", "10001,New York|60601,Chicago|94105,San Francisco|02108,Boston", "Apt {n}"),
}
_NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_LETTERS = "ABCDEFGHJKLMNPRSTWXYZ"


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def tax_id(rng: random.Random, country: str, birth: dt.date | None) -> str:
    """Return an invented tax number in the country's usual layout. A birth date of None marks an organisation."""
    org = birth is None
    if country == "DE":
        return f"DE{_digits(rng, 9)}" if org else f"{rng.randint(1, 9)}{_digits(rng, 10)}"
    if country == "AT":
        return f"ATU{_digits(rng, 8)}" if org else f"{_digits(rng, 2)}-{_digits(rng, 3)}/{_digits(rng, 4)}"
    if country == "FR":
        return _digits(rng, 9) if org else f"{rng.randint(0, 3)}{_digits(rng, 12)}"
    if country == "NL":
        return f"NL{_digits(rng, 9)}B01" if org else _digits(rng, 9)
    if country == "BE":
        return f"BE0{_digits(rng, 9)}" if org else f"{birth:%y.%m.%d}-{_digits(rng, 3)}.{_digits(rng, 2)}"
    if country == "ES":
        number = rng.randint(10**7, 10**8 - 1)
        return f"B{number}" if org else f"{number}{_NIF_LETTERS[number % 23]}"
    if country == "IT":
        if org:
            return _digits(rng, 11)
        letters = "".join(rng.choice(_LETTERS) for _ in range(6))
        return f"{letters}{birth:%y}{'ABCDEHLMPRST'[birth.month - 1]}{birth:%d}{rng.choice(_LETTERS)}{_digits(rng, 3)}{rng.choice(_LETTERS)}"
    if country == "CZ":
        return f"CZ{_digits(rng, 8)}" if org else f"CZ{birth:%y%m%d}{_digits(rng, 4)}"
    if country == "PL":
        return f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 2)}"
    if country == "GB":
        return f"GB{_digits(rng, 9)}" if org else f"{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}{_digits(rng, 6)}{rng.choice('ABCD')}"
    return f"{_digits(rng, 2)}-{_digits(rng, 7)}" if org else f"9{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 4)}"


def country_text(style: str) -> Callable[[str], str]:
    """Return a formatter of ISO alpha-2 codes: "alpha2", "alpha3" or a language's country names."""
    if style == "alpha2":
        return lambda code: code
    if style == "alpha3":
        return lambda code: ALPHA3[code]
    names = dict(zip(COUNTRIES, COUNTRY_NAMES[style].split("|")))
    return lambda code: names[code]


def type_text(language: str) -> Callable[[str], str]:
    individual, organization = TYPE_WORDS[language].split("|")
    return enum_text({"individual": individual, "organization": organization})


def risk_text(style: str) -> Callable[[str], str]:
    return enum_text(dict(zip(["low", "medium", "high"], RISK_WORDS[style].split("|"))))


def customers(home: str, foreign: tuple[str, ...] = (), organisations: float = 0.0,
              id_format: str = "{}") -> Callable[[random.Random, int], list[dict]]:
    """Return a generator of customers living mostly in `home`, some in `foreign` countries.

    A share `organisations` of the rows are companies: no given or family name, no birth
    date, an incorporation date instead.
    """

    def generate(rng: random.Random, count: int) -> list[dict]:
        next_id = rng.randint(10000, 90000)
        records = []
        for index in range(count):
            country = rng.choice(foreign) if foreign and rng.random() < 0.2 else home
            org = (index == 1 and organisations > 0) or rng.random() < organisations
            given, family = person(rng, country)
            name = company(rng, country) if org else f"{given} {family}"
            birth = None if org else random_date(rng, dt.date(1940, 1, 1), dt.date(2005, 12, 31))
            line_format, streets, places, second_line = ADDRESSES[country]
            street, number = rng.choice(streets.split("|")), str(rng.randint(1, 180))
            postal_code, city = rng.choice(places.split("|")).split(",")
            next_id += rng.randint(1, 30)
            records.append({
                "customer_id": id_format.format(next_id),
                "customer_type": "organization" if org else "individual",
                "full_name": name,
                "given_name": None if org else given,
                "family_name": None if org else family,
                "date_of_birth": birth,
                "incorporation_date": random_date(rng, dt.date(1950, 1, 1), dt.date(2021, 12, 31)) if org else None,
                "tax_id": tax_id(rng, country, birth),
                "email": email_for(name, rng),
                "phone": make_phone(rng, country),
                "street": street,
                "house_number": number,
                "address_line1": line_format.format(street=street, number=number),
                "address_line2": second_line.format(n=rng.randint(1, 40)) if index % 4 == 1 or rng.random() < 0.2 else None,
                "city": city,
                "postal_code": postal_code,
                "country": country,
                "kyc_risk_rating": rng.choices(["low", "medium", "high"], [6, 3, 1])[0],
                "nationality": country if rng.random() < 0.7 else rng.choice([c for c in COUNTRIES if c != country]),
                "created_at": dt.datetime(2015, 1, 1) + dt.timedelta(minutes=rng.randint(0, 9 * 365 * 24 * 60)),
                "branch_id": f"{rng.randint(1, 250):03d}",
            })
        prove_day_order(records, "date_of_birth")
        prove_day_order(records, "incorporation_date")
        return records

    return generate


DE, FR, NL = (CUSTOMER_HEADERS[language] for language in ("de", "fr", "nl"))
ES, IT, CS, PL = (CUSTOMER_HEADERS[language] for language in ("es", "it", "cs", "pl"))

CASES = [
    CaseSpec(
        name="cu_en_abbrev", entity="customer", language="en",
        note="English CRM extract: abbreviated headers (cust_id, dob, ctry), MM/DD/YYYY dates, L/M/H risk codes, phones in mixed formats, created_at and branch_id distractors",
        input_name="cust_extract.csv", second_input="cust_extract_delta.csv",
        records=customers("US", ("GB", "DE"), organisations=0.25, id_format="C{:07d}"),
        columns=[
            gold("cust_id", "customer_id"), gold("cust_type", "customer_type", type_text("en")), gold("full_nm", "full_name"),
            gold("dob", "date_of_birth", date_text(MDY_SLASH)), gold("inc_dt", "incorporation_date", date_text(MDY_SLASH)),
            gold("tax_no", "tax_id"), gold("email_addr", "email"), gold("phone_no", "phone", phone_text("mixed")),
            gold("addr_1", "address_line1"), gold("addr_2", "address_line2"), gold("city", "city"), gold("zip", "postal_code"),
            gold("ctry", "country"), gold("risk_cd", "kyc_risk_rating", risk_text("letters")),
            other("created_at", "created_at", date_text(ISO_TIMESTAMP)), other("branch_id", "branch_id"),
        ],
    ),
    CaseSpec(
        name="cu_de_split_names", entity="customer", language="de",
        note="German customer list in cp1252: first and last name split, street and house number in two columns, nationality beside the residence country, phones as 0151/2345678",
        input_name="Kundenstamm.csv", second_input="Kundenstamm_neu.csv", records=customers("DE", ("AT", "NL", "FR")),
        delimiter=";", encoding="cp1252", also_accept={"full_name": [[DE["given_name"], DE["family_name"]]]},
        columns=[
            gold(DE["customer_id"], "customer_id"), gold(DE["given_name"], "given_name"), gold(DE["family_name"], "family_name"),
            gold(DE["date_of_birth"], "date_of_birth", date_text(DMY_DOT)), gold("Straße", "street", target="address_line1"),
            gold("Hausnummer", "house_number", target="address_line1"), gold(DE["address_line2"], "address_line2"),
            gold(DE["postal_code"], "postal_code"), gold(DE["city"], "city"), gold(DE["country"], "country", country_text("de")),
            other(DE["nationality"], "nationality", country_text("de")), gold(DE["phone"], "phone", phone_text("slash")),
            gold(DE["email"], "email"), gold(DE["tax_id"], "tax_id"), gold(DE["kyc_risk_rating"], "kyc_risk_rating", risk_text("de")),
            other(DE["created_at"], "created_at", date_text("%d.%m.%Y %H:%M")),
        ],
    ),
    CaseSpec(
        name="cu_fr_clients", entity="customer", language="fr",
        note="French customer list with UTF-8 BOM: Nom/Prénom split, DD/MM/YYYY birth dates beside a Date de création, national phone numbers",
        input_name="clients.csv", records=customers("FR", ("BE",), id_format="CLI{:06d}"), delimiter=";", encoding="utf-8-sig",
        also_accept={"full_name": [[FR["given_name"], FR["family_name"]]]},
        columns=[
            gold(FR["customer_id"], "customer_id"), gold(FR["family_name"], "family_name"), gold(FR["given_name"], "given_name"),
            gold(FR["date_of_birth"], "date_of_birth", date_text(DMY_SLASH)), gold(FR["address_line1"], "address_line1"),
            gold(FR["address_line2"], "address_line2"), gold(FR["postal_code"], "postal_code"), gold(FR["city"], "city"),
            gold(FR["country"], "country", country_text("fr")), other(FR["nationality"], "nationality", country_text("fr")),
            gold(FR["phone"], "phone", phone_text("national")), gold(FR["email"], "email"), gold(FR["tax_id"], "tax_id"),
            gold(FR["kyc_risk_rating"], "kyc_risk_rating", risk_text("fr")), other(FR["created_at"], "created_at", date_text(DMY_SLASH)),
        ],
    ),
    CaseSpec(
        name="cu_nl_zakelijk", entity="customer", language="nl",
        note="Dutch tab-separated customer list mixing private and business clients: birth date or founding date per row, Particulier/Zakelijk type",
        input_name="klanten.tsv", second_input="klanten_mutaties.tsv", records=customers("NL", ("BE", "DE"), organisations=0.4),
        delimiter="\t", line_end="\n",
        columns=[
            gold(NL["customer_id"], "customer_id"), gold(NL["customer_type"], "customer_type", type_text("nl")),
            gold(NL["full_name"], "full_name"), gold(NL["date_of_birth"], "date_of_birth", date_text(DMY_DASH)),
            gold(NL["incorporation_date"], "incorporation_date", date_text(DMY_DASH)), gold(NL["address_line1"], "address_line1"),
            gold(NL["postal_code"], "postal_code"), gold(NL["city"], "city"), gold(NL["country"], "country", country_text("nl")),
            gold(NL["phone"], "phone", phone_text("national")), gold(NL["email"], "email"), gold(NL["tax_id"], "tax_id"),
            gold(NL["kyc_risk_rating"], "kyc_risk_rating", risk_text("nl")), other(NL["created_at"], "created_at", date_text(ISO)),
        ],
    ),
    CaseSpec(
        name="cu_es_xlsx", entity="customer", language="es", kind="xlsx", xlsx_date_format="DD/MM/YYYY",
        note="Spanish .xlsx customer list: title rows, real date cells, persona física/jurídica, Nacionalidad and Fecha de alta distractors",
        input_name="clientes.xlsx", records=customers("ES", ("FR", "IT"), organisations=0.3),
        preamble=lambda records: [["Listado de clientes"], ["Oficina", "0417"], []],
        columns=[
            gold(ES["customer_id"], "customer_id"), gold(ES["customer_type"], "customer_type", type_text("es")),
            gold(ES["full_name"], "full_name"), gold(ES["date_of_birth"], "date_of_birth"),
            gold(ES["incorporation_date"], "incorporation_date"), gold(ES["tax_id"], "tax_id"),
            gold(ES["address_line1"], "address_line1"), gold(ES["postal_code"], "postal_code"), gold(ES["city"], "city"),
            gold(ES["country"], "country", country_text("es")), other(ES["nationality"], "nationality", country_text("es")),
            gold(ES["phone"], "phone", phone_text("national")), gold(ES["email"], "email"),
            gold(ES["kyc_risk_rating"], "kyc_risk_rating", risk_text("es")), other(ES["created_at"], "created_at"),
        ],
    ),
    CaseSpec(
        name="cu_it_pipe_alpha3", entity="customer", language="it",
        note="Italian customer list in cp1252 with | delimiter: ISO alpha-3 countries, Cittadinanza beside Paese di residenza, mobile numbers as bare digits",
        input_name="anagrafica_clienti.txt", second_input="anagrafica_clienti_2.txt", records=customers("IT", ("FR", "AT")),
        delimiter="|", encoding="cp1252", also_accept={"full_name": [[IT["given_name"], IT["family_name"]]]},
        columns=[
            gold(IT["customer_id"], "customer_id"), gold(IT["family_name"], "family_name"), gold(IT["given_name"], "given_name"),
            gold(IT["date_of_birth"], "date_of_birth", date_text(DMY_SLASH)), gold(IT["tax_id"], "tax_id"),
            gold(IT["address_line1"], "address_line1"), gold(IT["postal_code"], "postal_code"), gold(IT["city"], "city"),
            gold(IT["country"], "country", country_text("alpha3")), other(IT["nationality"], "nationality", country_text("alpha3")),
            gold("Cellulare", "phone", phone_text("digits")), gold(IT["email"], "email"),
            gold(IT["kyc_risk_rating"], "kyc_risk_rating", risk_text("it")),
        ],
    ),
]

CASES += [
    CaseSpec(
        name="cu_cs_klienti", entity="customer", language="cs",
        note="Czech customer list: Jméno/Příjmení split, DIČ as tax id, international phone numbers, Státní občanství beside Stát",
        input_name="klienti.csv", records=customers("CZ", ("PL", "DE")), delimiter=";",
        also_accept={"full_name": [[CS["given_name"], CS["family_name"]]]},
        columns=[
            gold(CS["customer_id"], "customer_id"), gold(CS["given_name"], "given_name"), gold(CS["family_name"], "family_name"),
            gold(CS["date_of_birth"], "date_of_birth", date_text(DMY_DOT)), gold(CS["tax_id"], "tax_id"),
            gold(CS["address_line1"], "address_line1"), gold(CS["city"], "city"), gold(CS["postal_code"], "postal_code"),
            gold(CS["country"], "country", country_text("cs")), other(CS["nationality"], "nationality", country_text("cs")),
            gold(CS["phone"], "phone", phone_text("international")), gold(CS["email"], "email"),
            gold(CS["kyc_risk_rating"], "kyc_risk_rating", risk_text("cs")),
            other(CS["created_at"], "created_at", date_text(ISO_TIMESTAMP)),
        ],
    ),
    CaseSpec(
        name="cu_pl_klienci", entity="customer", language="pl",
        note="Polish customer list: private persons and firms, ISO dates, phones with a 00 prefix, Obywatelstwo and Oddział distractors",
        input_name="klienci.csv", second_input="klienci_nowi.csv", records=customers("PL", ("DE", "CZ"), organisations=0.3),
        columns=[
            gold(PL["customer_id"], "customer_id"), gold(PL["customer_type"], "customer_type", type_text("pl")),
            gold(PL["full_name"], "full_name"), gold(PL["date_of_birth"], "date_of_birth", date_text(ISO)),
            gold(PL["incorporation_date"], "incorporation_date", date_text(ISO)), gold(PL["tax_id"], "tax_id"),
            gold(PL["address_line1"], "address_line1"), gold(PL["address_line2"], "address_line2"),
            gold(PL["postal_code"], "postal_code"), gold(PL["city"], "city"), gold(PL["country"], "country"),
            other(PL["nationality"], "nationality"), gold(PL["phone"], "phone", phone_text("00")), gold(PL["email"], "email"),
            gold(PL["kyc_risk_rating"], "kyc_risk_rating", risk_text("pl")), other(PL["branch_id"], "branch_id"),
        ],
    ),
    CaseSpec(
        name="cu_en_json_nested", entity="customer", language="en", kind="json",
        note="English JSON from a CRM API: nested profile, contact, address and meta objects, address.line2 often absent, profile.nationality and meta.createdAt distractors",
        input_name="customers.json", records=customers("GB", ("FR", "DE")), json_path=("customers",),
        preamble=lambda records: {"exportedAt": "2024-05-31T23:00:00", "system": "crm"},
        also_accept={"full_name": [["profile.givenName", "profile.familyName"]]},
        columns=[
            gold("customerId", "customer_id"), gold("profile.givenName", "given_name"), gold("profile.familyName", "family_name"),
            gold("profile.birthDate", "date_of_birth", date_text(ISO)), other("profile.nationality", "nationality"),
            gold("contact.email", "email"), gold("contact.phone", "phone", phone_text("e164")),
            gold("address.line1", "address_line1"), gold("address.line2", "address_line2"),
            gold("address.postalCode", "postal_code"), gold("address.city", "city"), gold("address.country", "country"),
            gold("risk.rating", "kyc_risk_rating", risk_text("upper")), other("meta.createdAt", "created_at", date_text(ISO_TIMESTAMP)),
            other("meta.branch", "branch_id"),
        ],
    ),
    CaseSpec(
        name="cu_no_header", entity="customer", language="none",
        note="Customer file with no header row: columns are column_1..column_8, YYYYMMDD birth dates, E.164 phones, ISO country codes",
        input_name="customers_raw.csv", records=customers("DE", ("AT",)), delimiter=";", header=False,
        columns=[
            gold("id", "customer_id"), gold("name", "full_name"), gold("born", "date_of_birth", date_text(YYYYMMDD)),
            gold("phone", "phone", phone_text("e164")), gold("email", "email"), gold("zip", "postal_code"),
            gold("city", "city"), gold("country", "country"),
        ],
    ),
    CaseSpec(
        name="cu_en_uk_text_dates", entity="customer", language="en",
        note="UK customer list in cp1252: '12 Mar 1985' birth dates, Forename/Surname split, NI number as tax id, Nationality beside Country",
        input_name="customers_uk.csv", records=customers("GB", ("FR", "NL"), id_format="CR-{}"), quote_all=True,
        encoding="cp1252", also_accept={"full_name": [["Forename", "Surname"]]},
        columns=[
            gold("Customer Ref", "customer_id"), gold("Forename", "given_name"), gold("Surname", "family_name"),
            gold("Date of Birth", "date_of_birth", date_text(DAY_MONTH_YEAR)), gold("Address Line 1", "address_line1"),
            gold("Address Line 2", "address_line2"), gold("Town", "city"), gold("Postcode", "postal_code"),
            gold("Country", "country", country_text("en")), other("Nationality", "nationality", country_text("en")),
            gold("Mobile", "phone", phone_text("national")), gold("Email", "email"), gold("NI Number", "tax_id"),
            gold("Risk Rating", "kyc_risk_rating", risk_text("en")), other("Created At", "created_at", date_text("%d/%m/%Y %H:%M")),
        ],
    ),
    CaseSpec(
        name="cu_de_firmen_letters", entity="customer", language="de",
        note="German customer list mixing private and business clients: Privatkunde/Firmenkunde, L/M/H risk codes, street and number in one column, Filiale distractor",
        input_name="kunden_export.csv", second_input="kunden_export_2.csv", records=customers("DE", ("AT",), organisations=0.5),
        delimiter=";",
        columns=[
            gold(DE["customer_id"], "customer_id"), gold(DE["customer_type"], "customer_type", type_text("de")),
            gold(DE["full_name"], "full_name"), gold(DE["date_of_birth"], "date_of_birth", date_text(DMY_DOT)),
            gold(DE["incorporation_date"], "incorporation_date", date_text(DMY_DOT)), gold("Steuer-ID/USt-IdNr.", "tax_id"),
            gold("Straße und Hausnummer", "address_line1"), gold(DE["postal_code"], "postal_code"), gold(DE["city"], "city"),
            gold("Land", "country"), gold(DE["phone"], "phone", phone_text("international")), gold(DE["email"], "email"),
            gold(DE["kyc_risk_rating"], "kyc_risk_rating", risk_text("letters")), other(DE["branch_id"], "branch_id"),
            other(DE["created_at"], "created_at", date_text(DMY_DOT)),
        ],
    ),
]

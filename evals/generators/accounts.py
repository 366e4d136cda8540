"""Account cases: account lists from core banking systems in eight languages."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Callable

from evals.generators.common import (
    ACCOUNT_HEADERS, BANKS, DMY_DASH, DMY_DOT, DMY_DOT2, DMY_SLASH, ISO, MDY_SLASH, YYMMDD, CaseSpec, cents,
    company, date_text, domestic_account, gold, iban_text, make_iban, money, other, person, prove_day_order,
    random_date,
)

# Account types (current, savings, term deposit, business) and statuses (active, dormant,
# blocked, closed) per language. Both are free-text target fields, so the gold is the word.
ACCOUNT_TYPES = {
    "en": "Current Account|Savings Account|Fixed Deposit|Business Current",
    "de": "Girokonto|Sparkonto|Festgeld|Geschäftskonto",
    "fr": "Compte courant|Livret d'épargne|Compte à terme|Compte professionnel",
    "nl": "Betaalrekening|Spaarrekening|Deposito|Zakelijke rekening",
    "es": "Cuenta corriente|Cuenta de ahorro|Depósito a plazo|Cuenta empresa",
    "it": "Conto corrente|Conto deposito|Deposito vincolato|Conto business",
    "cs": "Běžný účet|Spořicí účet|Termínovaný vklad|Podnikatelský účet",
    "pl": "Rachunek bieżący|Rachunek oszczędnościowy|Lokata terminowa|Rachunek firmowy",
}
STATUS_WORDS = {
    "en": "Active|Dormant|Blocked|Closed", "de": "aktiv|inaktiv|gesperrt|saldiert", "fr": "Actif|Inactif|Bloqué|Clôturé",
    "nl": "Actief|Slapend|Geblokkeerd|Opgeheven", "es": "Activa|Inactiva|Bloqueada|Cancelada",
    "it": "Attivo|Dormiente|Bloccato|Estinto", "cs": "Aktivní|Neaktivní|Blokovaný|Zrušený",
    "pl": "Aktywny|Nieaktywny|Zablokowany|Zamknięty",
}
OVERDRAFT_STEPS = [500, 1000, 1500, 2500, 5000]


def accounts(country: str, language: str, currency: str, foreign: tuple[str, ...] = (), id_format: str = "{}",
             customer_format: str = "{}") -> Callable[[random.Random, int], list[dict]]:
    """Return a generator of accounts held at banks in `country`, balances at one month end.

    Current and business accounts have an overdraft limit and may be overdrawn. Savings and
    deposits have none, so their limit is empty. Some customers hold several accounts.
    """
    types, statuses = ACCOUNT_TYPES[language].split("|"), STATUS_WORDS[language].split("|")

    def generate(rng: random.Random, count: int) -> list[dict]:
        balance_day = dt.date(2024, rng.randint(2, 12), 1) - dt.timedelta(days=1)
        next_id, next_customer = rng.randint(10**5, 9 * 10**5), rng.randint(10**4, 9 * 10**4)
        records = []
        for index in range(count):
            kind = rng.choices(range(4), [5, 3, 1, 1])[0]
            status = rng.choices(range(4), [12, 2, 1, 1])[0]
            overdraft = Decimal(rng.choice(OVERDRAFT_STEPS)) if kind in (0, 3) else None
            balance = cents(rng, 0, 25000)
            if overdraft and rng.random() < 0.25:
                balance = -cents(rng, 1, int(overdraft))
            if status == 3:
                balance = Decimal("0.00")
            iban = make_iban(rng, country) if country in BANKS else None
            next_id += rng.randint(1, 50)
            if index == 0 or rng.random() < 0.7:
                next_customer += rng.randint(1, 40)
                holder = company(rng, country) if kind == 3 else " ".join(person(rng, country))
            records.append({
                "account_id": id_format.format(next_id),
                "customer_id": customer_format.format(next_customer),
                "iban": str(iban) if iban else None,
                "account_number": domestic_account(iban) if iban else str(rng.randint(10**9, 10**10 - 1)),
                "bic": str(iban.bic) if iban and iban.bic else None,
                "currency": rng.choice(foreign) if foreign and rng.random() < 0.2 else currency,
                "account_type": types[kind],
                "opened_on": random_date(rng, dt.date(2003, 1, 1), balance_day - dt.timedelta(days=30)),
                "status": statuses[status],
                "balance": balance,
                "available": balance + (overdraft or 0),
                "balance_date": balance_day,
                "overdraft_limit": overdraft,
                "holder": holder,
                "branch_id": f"{rng.randint(1, 400):04d}",
                "sort_code": "-".join(str(iban)[8:14][i:i + 2] for i in (0, 2, 4)) if iban and country == "GB" else None,
                "routing_number": f"0{rng.randint(10**7, 10**8 - 1)}",
                "product_code": f"P{kind + 1:02d}",
            })
        prove_day_order(records, "opened_on")
        return records

    return generate


DE, FR, NL = (ACCOUNT_HEADERS[language] for language in ("de", "fr", "nl"))
ES, IT, CS, PL = (ACCOUNT_HEADERS[language] for language in ("es", "it", "cs", "pl"))
DE_MONEY = money(",", ".")
SPACE_GROUPED = money(",", " ")


def _basic(words: dict[str, str], date_pattern: str | None, amount: Callable | None, spaced_iban: bool) -> list:
    """Return the columns most account lists share, with the language's header words."""
    dates = date_text(date_pattern) if date_pattern else None
    return [
        gold(words["account_id"], "account_id"), gold(words["customer_id"], "customer_id"),
        gold(words["iban"], "iban", iban_text(spaced_iban)), gold(words["bic"], "bic"),
        gold(words["account_type"], "account_type"), gold(words["currency"], "currency"),
        gold(words["opened_on"], "opened_on", dates), gold(words["balance"], "balance", amount),
        gold(words["balance_date"], "balance_date", dates), gold(words["overdraft_limit"], "overdraft_limit", amount),
        gold(words["status"], "status"),
    ]


def _as_of_preamble(title: str, label: str, pattern: str) -> Callable:
    return lambda records: [[title], [label, date_text(pattern)(records[0]["balance_date"])], []]


CASES = [
    CaseSpec(
        name="ac_en_abbrev", entity="account", language="en",
        note="English core-banking extract: abbreviated headers (acct_id, acct_no, ccy, od_limit), YYMMDD dates, sort code beside the account number, branch_id distractor",
        input_name="acct_extract.csv", second_input="acct_extract_next.csv",
        records=accounts("GB", "en", "GBP", ("EUR", "USD"), id_format="A{:08d}", customer_format="C{:07d}"),
        also_accept={"account_number": [["sort_cd", "acct_no"]]},
        columns=[
            gold("acct_id", "account_id"), gold("cust_id", "customer_id"), other("sort_cd", "sort_code"),
            gold("acct_no", "account_number"), gold("iban", "iban"), gold("bic", "bic"), gold("ccy", "currency"),
            gold("acct_type", "account_type"), gold("open_dt", "opened_on", date_text(YYMMDD)), gold("status", "status"),
            gold("bal", "balance", money(".")), gold("bal_dt", "balance_date", date_text(YYMMDD)),
            gold("od_limit", "overdraft_limit", money(".")), other("branch_id", "branch_id"),
        ],
    ),
    CaseSpec(
        name="ac_de_konten", entity="account", language="de",
        note="German account list in cp1252: IBAN with spaces, decimal commas with thousands points, Filiale distractor, empty Dispositionskredit for savings",
        input_name="Kontenliste.csv", second_input="Kontenliste_Folgemonat.csv",
        records=accounts("DE", "de", "EUR", ("USD", "CHF")), delimiter=";", encoding="cp1252",
        columns=_basic(DE, DMY_DOT, DE_MONEY, True) + [other(DE["branch_id"], "branch_id")],
    ),
    CaseSpec(
        name="ac_fr_comptes", entity="account", language="fr",
        note="French account list with UTF-8 BOM: amounts as '1 234,56 €', IBAN with spaces, Code agence distractor",
        input_name="comptes.csv", records=accounts("FR", "fr", "EUR", id_format="CPT{:07d}"), delimiter=";", encoding="utf-8-sig",
        columns=_basic(FR, DMY_SLASH, money(",", " ", suffix=" €"), True) + [other(FR["branch_id"], "branch_id")],
    ),
    CaseSpec(
        name="ac_nl_rekeningen", entity="account", language="nl",
        note="Dutch account list: title and Peildatum lines above the quoted comma-separated header, DD-MM-YYYY dates",
        input_name="rekeningen.csv", records=accounts("NL", "nl", "EUR"), quote_all=True,
        preamble=_as_of_preamble("Rekeningoverzicht", "Peildatum", DMY_DASH),
        columns=_basic(NL, DMY_DASH, DE_MONEY, False),
    ),
    CaseSpec(
        name="ac_es_cuentas", entity="account", language="es",
        note="Spanish tab-separated account list: IBAN with spaces, DD/MM/YYYY dates, Oficina distractor",
        input_name="cuentas.tsv", second_input="cuentas_2.tsv", records=accounts("ES", "es", "EUR", ("USD",)),
        delimiter="\t", line_end="\n",
        columns=_basic(ES, DMY_SLASH, DE_MONEY, True) + [other(ES["branch_id"], "branch_id")],
    ),
    CaseSpec(
        name="ac_it_xlsx", entity="account", language="it", kind="xlsx", xlsx_date_format="DD/MM/YYYY",
        note="Italian .xlsx account list: title rows, NDG as the customer id, real date cells, Saldo disponibile beside Saldo contabile",
        input_name="elenco_rapporti.xlsx", records=accounts("IT", "it", "EUR"),
        preamble=lambda records: [["Elenco rapporti"], ["Filiale", "Milano Centro"], []],
        columns=_basic(IT, None, None, False) + [other("Saldo disponibile", "available")],
    ),
    CaseSpec(
        name="ac_cs_ucty", entity="account", language="cs",
        note="Czech account list: national account number (number/bank code) beside the IBAN, space thousands separators, CZK and EUR accounts",
        input_name="ucty.csv", records=accounts("CZ", "cs", "CZK", ("EUR",)), delimiter=";",
        columns=_basic(CS, DMY_DOT, SPACE_GROUPED, True) + [gold(CS["account_number"], "account_number")],
    ),
    CaseSpec(
        name="ac_pl_rachunki", entity="account", language="pl",
        note="Polish account list with UTF-8 BOM: NRB account number beside the IBAN, ISO dates, Oddział distractor",
        input_name="rachunki.csv", second_input="rachunki_2.csv", records=accounts("PL", "pl", "PLN", ("EUR",)),
        delimiter=";", encoding="utf-8-sig",
        columns=_basic(PL, ISO, SPACE_GROUPED, True) + [gold(PL["account_number"], "account_number"), other(PL["branch_id"], "branch_id")],
    ),
    CaseSpec(
        name="ac_en_json_nested", entity="account", language="en", kind="json",
        note="English JSON from an accounts API: nested owner, identifiers, product, balance and limits objects, JSON numbers, holder name and product code as no target",
        input_name="accounts.json", records=accounts("DE", "en", "EUR", ("USD",)), json_path=("accounts",),
        preamble=lambda records: {"generatedAt": f"{records[0]['balance_date']}T22:00:00", "page": {"number": "1", "size": str(len(records))}},
        columns=[
            gold("id", "account_id"), gold("owner.customerId", "customer_id"), other("owner.name", "holder"),
            gold("identifiers.iban", "iban"), gold("identifiers.bic", "bic"), gold("currency", "currency"),
            gold("product.type", "account_type"), other("product.code", "product_code"),
            gold("openedOn", "opened_on", date_text(ISO)), gold("status", "status"), gold("balance.amount", "balance"),
            gold("balance.date", "balance_date", date_text(ISO)), gold("limits.overdraft", "overdraft_limit"),
        ],
    ),
    CaseSpec(
        name="ac_no_header", entity="account", language="none",
        note="Account file with no header row in cp1252: columns are column_1..column_6, compact IBANs, decimal commas",
        input_name="konten_roh.csv", records=accounts("DE", "de", "EUR"), delimiter=";", encoding="cp1252", header=False,
        columns=[
            gold("account", "account_id"), gold("customer", "customer_id"), gold("iban", "iban"), gold("currency", "currency"),
            gold("balance", "balance", money(",")), gold("opened", "opened_on", date_text(DMY_DOT)),
        ],
    ),
    CaseSpec(
        name="ac_en_us_dollars", entity="account", language="en",
        note="US account list: no IBAN or BIC, routing number distractor, MM/DD/YYYY dates with days above 12, '$1,234.50' balances with parentheses when overdrawn",
        input_name="accounts_us.csv", second_input="accounts_us_2.csv", records=accounts("US", "en", "USD", customer_format="CUS{}"),
        columns=[
            gold("Account ID", "account_id"), gold("Customer ID", "customer_id"), gold("Account Number", "account_number"),
            other("Routing Number", "routing_number"), gold("Account Type", "account_type"),
            gold("Open Date", "opened_on", date_text(MDY_SLASH)), gold("Current Balance", "balance", money(".", ",", "()", prefix="$")),
            gold("As Of", "balance_date", date_text(MDY_SLASH)), gold("Overdraft Limit", "overdraft_limit", money(".", ",", prefix="$")),
            gold("Status", "status"), gold("Currency", "currency"),
        ],
    ),
    CaseSpec(
        name="ac_at_trailing_minus", entity="account", language="de",
        note="Austrian account list in cp1252: title and Stichtag lines, DD.MM.YY opening dates, balances with a trailing minus, Überziehungsrahmen",
        input_name="Kontenuebersicht.csv", records=accounts("AT", "de", "EUR"), delimiter=";", encoding="cp1252",
        preamble=_as_of_preamble("Kontenübersicht", "Stichtag", DMY_DOT),
        columns=[
            gold("Konto-ID", "account_id"), gold("Kundennummer", "customer_id"), gold("IBAN", "iban", iban_text(True)),
            gold("BIC", "bic"), gold("Kontoart", "account_type"), gold("Währung", "currency"),
            gold("Eröffnung", "opened_on", date_text(DMY_DOT2)), gold("Saldo", "balance", money(",", ".", negative="trailing")),
            gold("Saldo per", "balance_date", date_text(DMY_DOT)),
            gold("Überziehungsrahmen", "overdraft_limit", money(",", ".")), gold("Status", "status"),
        ],
    ),
]

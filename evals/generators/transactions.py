"""Transaction cases: account statement exports as banks in eight languages write them."""

from __future__ import annotations

import datetime as dt
import random
from typing import Callable

from evals.generators.common import (
    BANKS, DAY_MONTH_YEAR, DMY_DASH, DMY_DOT, DMY_DOT2, DMY_SLASH, ISO, ISO_TIMESTAMP, MDY_SLASH,
    TRANSACTION_HEADERS, YYMMDD, YYYYMMDD, CaseSpec, Column, cents, company, credit_part, date_text, debit_part,
    domestic_account, gold, iban_text, make_iban, money, other, person, sign_mark,
)

# Per language: debit transaction types, credit types, debit descriptions, credit descriptions.
# The first debit type is the direct debit. "{n}" becomes an invoice or store number and "{m}"
# the booking month as MM/YYYY.
WORDS = {
    "en": ("Direct Debit|Transfer|Card Payment|Standing Order", "Credit|Salary",
           "Invoice {n}|Rent {m}|Electricity {m}|Car insurance premium|Groceries store {n}", "Salary {m}|Refund invoice {n}|Deposit returned"),
    "de": ("Lastschrift|Überweisung|Kartenzahlung|Dauerauftrag", "Gutschrift|Lohn/Gehalt",
           "Rechnung {n}|Miete {m}|Abschlag Strom {m}|Beitrag Kfz-Versicherung|Einkauf Filiale {n}", "Gehalt {m}|Erstattung Rechnung {n}|Rückzahlung Kaution"),
    "fr": ("Prélèvement|Virement émis|Paiement carte|Virement permanent", "Virement reçu|Salaire",
           "Facture {n}|Loyer {m}|Électricité {m}|Assurance auto|Achat magasin {n}", "Salaire {m}|Remboursement facture {n}|Restitution dépôt de garantie"),
    "nl": ("Incasso|Overschrijving|Betaalautomaat|Periodieke overboeking", "Bijschrijving|Salaris",
           "Factuur {n}|Huur {m}|Termijnbedrag energie {m}|Premie autoverzekering|Aankoop winkel {n}", "Salaris {m}|Terugbetaling factuur {n}|Borg retour"),
    "es": ("Recibo domiciliado|Transferencia emitida|Pago con tarjeta|Transferencia periódica", "Transferencia recibida|Nómina",
           "Factura {n}|Alquiler {m}|Luz {m}|Seguro coche|Compra tienda {n}", "Nómina {m}|Devolución factura {n}|Devolución fianza"),
    "it": ("Addebito SDD|Bonifico disposto|Pagamento POS|Bonifico periodico", "Bonifico ricevuto|Stipendio",
           "Fattura {n}|Affitto {m}|Bolletta luce {m}|Premio assicurazione auto|Acquisto negozio {n}", "Stipendio {m}|Rimborso fattura {n}|Restituzione deposito cauzionale"),
    "cs": ("Inkaso|Odchozí platba|Platba kartou|Trvalý příkaz", "Příchozí platba|Mzda",
           "Faktura {n}|Nájem {m}|Záloha elektřina {m}|Povinné ručení|Nákup prodejna {n}", "Mzda {m}|Vratka faktura {n}|Vrácení kauce"),
    "pl": ("Polecenie zapłaty|Przelew wychodzący|Płatność kartą|Zlecenie stałe", "Przelew przychodzący|Wynagrodzenie",
           "Faktura {n}|Czynsz {m}|Prąd {m}|Ubezpieczenie OC|Zakupy sklep {n}", "Wynagrodzenie {m}|Zwrot faktura {n}|Zwrot kaucji"),
}
# Countries of foreign counterparties. Files in cp1252 or cp1250 must be able to encode their names.
NEIGHBOURS = {"DE": ["AT", "NL", "FR"], "AT": ["DE"], "FR": ["BE", "DE"], "NL": ["BE", "DE"], "ES": ["FR", "IT"],
              "IT": ["FR", "AT"], "CZ": ["DE", "AT"], "PL": ["DE", "CZ"], "GB": ["FR", "NL"], "US": []}

DE_MONEY = money(",", ".")
DE_UNSIGNED = money(",", ".", unsigned=True)
SPACE_GROUPED = money(",", " ")
EN_UNSIGNED = money(".", unsigned=True)


def _account(rng: random.Random, country: str, domestic: bool) -> tuple[str, str]:
    """Return (account as written, BIC or "") for a new account in `country`."""
    if country not in BANKS:
        return str(rng.randint(10**9, 10**10 - 1)), ""  # a US account number: no IBAN, no BIC
    iban = make_iban(rng, country)
    return (domestic_account(iban) if domestic else str(iban)), str(iban.bic or "")


def statement(country: str, language: str, currency: str = "EUR", domestic: bool = False,
              newest_first: bool = False, reference: str = "e2e") -> Callable[[random.Random, int], list[dict]]:
    """Return a generator of one statement's transactions on an account in `country`.

    Amounts are signed (credit positive) and balance_after runs with them. The second booking
    falls on day 13 or later, so a file proves whether its dates are day-first. With
    `domestic`, accounts in `country` are written in national notation instead of IBAN.
    `reference` "vs" fills the reference with a Czech variable symbol.
    """
    debit_types, credit_types, debit_texts, credit_texts = (part.split("|") for part in WORDS[language])

    def generate(rng: random.Random, count: int) -> list[dict]:
        own = _account(rng, country, domestic)[0]
        day = dt.date(rng.choice([2023, 2024]), rng.randint(1, 11), rng.randint(11, 12))
        balance = cents(rng, 800, 9000)
        next_id = rng.randint(10**8, 10**9)
        records = []
        for index in range(count):
            if index == 1:
                day += dt.timedelta(days=rng.randint(2, 3))
            elif index:
                day += dt.timedelta(days=rng.choice([0, 1, 1, 2, 3]))
            credit = index % 5 == 2 or rng.random() < 0.15
            if credit:
                amount = cents(rng, 1200, 4800) if index % 5 == 2 else cents(rng, 5, 900)
            else:
                amount = -(cents(rng, 2, 300) if rng.random() < 0.75 else cents(rng, 300, 2500))
            balance += amount
            next_id += rng.randint(1, 40)
            party_country = country
            if NEIGHBOURS[country] and rng.random() < 0.15:
                party_country = rng.choice(NEIGHBOURS[country])
            party_account, party_bic = _account(rng, party_country, domestic and party_country == country)
            kind = rng.choice(credit_types if credit else debit_types)
            party = " ".join(person(rng, party_country)) if rng.random() < 0.35 else company(rng, party_country)
            text = rng.choice(credit_texts if credit else debit_texts)
            direct_debit = kind == debit_types[0]
            if reference == "vs":
                ref = str(rng.randint(1000, 9999999999)) if rng.random() < 0.8 else ""
            else:
                ref = f"E2E-{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.7 else ""
            records.append({
                "transaction_id": str(next_id),
                "sequence": f"{next_id:018d}",
                "instruction_id": str(next_id * 7 + 13),
                "account_id": own,
                "booking_date": day,
                "booked_at": dt.datetime.combine(day, dt.time(rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59))),
                "transaction_date": day - dt.timedelta(days=rng.choice([0, 0, 1, 2])),
                "value_date": day + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2] if credit else [0, 0, -1])),
                "amount": amount,
                "currency": currency,
                "description": text.format(n=rng.randint(1000, 99999), m=f"{day.month:02d}/{day.year}"),
                "counterparty_name": party,
                "counterparty_account": party_account,
                "counterparty_bic": party_bic,
                "reference": ref,
                "transaction_type": kind,
                "type_code": kind[:2].upper(),
                "balance_after": balance,
                "row_no": str(index + 1),
                "mandate_id": f"MD{rng.randint(10**6, 10**7 - 1)}" if direct_debit else "",
                "creditor_id": f"{party_country}{rng.randint(10, 99)}ZZZ{rng.randint(10**10, 10**11 - 1)}" if direct_debit else "",
                "branch_id": f"{rng.randint(1, 120):04d}",
            })
        return records[::-1] if newest_first else records

    return generate


def _period(records: list[dict], pattern: str) -> tuple[str, str]:
    days = sorted(record["booking_date"] for record in records)
    return date_text(pattern)(days[0]), date_text(pattern)(days[-1])


def _closing(records: list[dict]):
    """Return the balance after the statement's last booking, whatever the row order."""
    return max(records, key=lambda record: int(record["row_no"]))["balance_after"]


def _opening(records: list[dict]):
    first = min(records, key=lambda record: int(record["row_no"]))
    return first["balance_after"] - first["amount"]


def _constant(header: str, text: str) -> Column:
    return Column(header, lambda record: text)


def _volksbank_preamble(records: list[dict]) -> list[list[str]]:
    first, last = _period(records, DMY_DOT)
    return [["Umsatzanzeige"], ["Konto", records[0]["account_id"]], ["Zeitraum", f"{first} - {last}"],
            ["Kontostand", f"{DE_MONEY(_closing(records))} EUR"], []]


def _title_preamble(title: str, account_label: str, period_label: str, pattern: str) -> Callable:
    """Return a preamble of a title line, the account line and the period line, then a blank line."""
    def build(records: list[dict]) -> list[list[str]]:
        first, last = _period(records, pattern)
        return [[title], [account_label, records[0]["account_id"]], [period_label, f"{first} - {last}"], []]
    return build


def _xlsx_preamble(title: str, account_label: str) -> Callable:
    return lambda records: [[title], [account_label, iban_text(True)(records[0]["account_id"])], []]


CASES = [
    CaseSpec(
        name="tx_de_sparkasse_camt", entity="transaction", language="de",
        note="German savings bank CSV-CAMT export: cp1252, quoted ; fields, DD.MM.YY dates, creditor id and mandate reference beside the end-to-end reference",
        input_name="umsatz-export.CSV", second_input="umsatz-export-2.CSV", records=statement("DE", "de"),
        delimiter=";", encoding="cp1252", quote_all=True,
        columns=[
            gold("Auftragskonto", "account_id"), gold("Buchungstag", "booking_date", date_text(DMY_DOT2)),
            gold("Valutadatum", "value_date", date_text(DMY_DOT2)), gold("Buchungstext", "transaction_type"),
            gold("Verwendungszweck", "description"), other("Glaeubiger ID", "creditor_id"), other("Mandatsreferenz", "mandate_id"),
            gold("Kundenreferenz (End-to-End)", "reference"), gold("Beguenstigter/Zahlungspflichtiger", "counterparty_name"),
            gold("Kontonummer/IBAN", "counterparty_account"), other("BIC (SWIFT-Code)", "counterparty_bic"),
            gold("Betrag", "amount", money(",")), gold("Waehrung", "currency"), _constant("Info", "Umsatz gebucht"),
        ],
    ),
    CaseSpec(
        name="tx_de_soll_haben_preamble", entity="transaction", language="de",
        note="German cooperative bank export: title and key;value lines above the header, newest first, Soll/Haben column pair, account only in the preamble",
        input_name="Umsaetze_Girokonto.csv", records=statement("DE", "de", newest_first=True), delimiter=";",
        encoding="utf-8-sig", preamble=_volksbank_preamble,
        columns=[
            gold("Buchungstag", "booking_date", date_text(DMY_DOT)), gold("Valuta", "value_date", date_text(DMY_DOT)),
            gold("Auftraggeber/Empfänger", "counterparty_name"), gold("IBAN / Kontonummer", "counterparty_account"),
            gold("Verwendungszweck", "description"), gold("Währung", "currency"),
            gold("Soll", "amount", debit_part(DE_UNSIGNED)), gold("Haben", "amount", credit_part(DE_UNSIGNED)),
        ],
    ),
    CaseSpec(
        name="tx_de_betrag_sh_tab", entity="transaction", language="de",
        note="German tab-separated export: unsigned Betrag with an S/H indicator column, Lfd. Nr. row counter as a distractor",
        input_name="umsaetze.txt", records=statement("DE", "de"), delimiter="\t", line_end="\n",
        columns=[
            other("Lfd. Nr.", "row_no"), gold("Buchungstag", "booking_date", date_text(DMY_DOT)),
            gold("Wertstellung", "value_date", date_text(DMY_DOT)), gold("Umsatzart", "transaction_type"),
            gold("Buchungsdetails", "description"), gold("Auftraggeber/Empfänger", "counterparty_name"),
            gold("IBAN Auftraggeber/Empfänger", "counterparty_account"), gold("Betrag", "amount", DE_UNSIGNED),
            gold("S/H", "amount", sign_mark("S", "H")), gold("Währung", "currency"),
        ],
    ),
    CaseSpec(
        name="tx_at_trailing_minus", entity="transaction", language="de",
        note="Austrian export: amounts with a trailing minus (1.234,56-), cp1252",
        input_name="Umsatzliste.csv", second_input="Umsatzliste_Folgemonat.csv", records=statement("AT", "de"),
        delimiter=";", encoding="cp1252",
        columns=[
            gold("Buchungsdatum", "booking_date", date_text(DMY_DOT)), gold("Valutadatum", "value_date", date_text(DMY_DOT)),
            gold("Buchungstext", "description"), gold("Empfängername", "counterparty_name"),
            gold("Empfänger-IBAN", "counterparty_account"), gold("Zahlungsreferenz", "reference"),
            gold("Betrag", "amount", money(",", ".", negative="trailing")), gold("Währung", "currency"),
        ],
    ),
    CaseSpec(
        name="tx_de_xlsx_title", entity="transaction", language="de", kind="xlsx",
        note="German .xlsx statement: title and IBAN rows above the header, real date cells, numeric amounts, currency only in the header text",
        input_name="Kontoauszug.xlsx", records=statement("DE", "de"), preamble=_xlsx_preamble("Kontoauszug Girokonto", "IBAN"),
        columns=[
            gold("Buchungstag", "booking_date"), gold("Wertstellung", "value_date"),
            gold("Auftraggeber/Empfänger", "counterparty_name"), gold("IBAN/Kontonummer", "counterparty_account"),
            gold("Verwendungszweck", "description"), gold("Buchungstext", "transaction_type"),
            gold("Betrag (EUR)", "amount"), gold("Saldo (EUR)", "balance_after"),
        ],
    ),
]

FRENCH_CATEGORIES = ["Alimentation", "Logement", "Transport", "Loisirs", "Santé", "Revenus"]


def _json_account(records: list[dict]) -> dict:
    first, last = _period(records, ISO)
    return {"rekening": {"iban": records[0]["account_id"], "valuta": "EUR"}, "periode": {"van": first, "tot": last}}


CASES += [
    CaseSpec(
        name="tx_nl_ing_af_bij", entity="transaction", language="nl",
        note="Dutch ING-style export: quoted comma-separated fields, YYYYMMDD dates, unsigned amount with an Af/Bij column, two-letter code beside the mutation type",
        input_name="NL_transacties.csv", second_input="NL_transacties_volgende.csv", records=statement("NL", "nl"),
        quote_all=True, also_accept={"transaction_type": [["Code"]]},
        columns=[
            gold("Datum", "booking_date", date_text(YYYYMMDD)), gold("Naam / Omschrijving", "counterparty_name"),
            gold("Rekening", "account_id"), gold("Tegenrekening", "counterparty_account"), other("Code", "type_code"),
            gold("Af Bij", "amount", sign_mark("Af", "Bij")), gold("Bedrag (EUR)", "amount", money(",", unsigned=True)),
            gold("Mutatiesoort", "transaction_type"), gold("Mededelingen", "description"),
        ],
    ),
    CaseSpec(
        name="tx_nl_rabo_signed", entity="transaction", language="nl",
        note="Dutch Rabobank-style export: cp1252, amounts with explicit + and - signs, Volgnr sequence number as an optional transaction id",
        input_name="CSV_A_export.csv", records=statement("NL", "nl"), quote_all=True, encoding="cp1252",
        also_accept={"transaction_id": [["Volgnr"]]},
        columns=[
            gold("IBAN/BBAN", "account_id"), gold("Munt", "currency"), other("Volgnr", "sequence"),
            gold("Datum", "booking_date", date_text(ISO)), gold("Rentedatum", "value_date", date_text(ISO)),
            gold("Bedrag", "amount", money(",", plus=True)), gold("Saldo na trn", "balance_after", money(",", plus=True)),
            gold("Tegenrekening IBAN/BBAN", "counterparty_account"), gold("Naam tegenpartij", "counterparty_name"),
            gold("Betalingskenmerk", "reference"), gold("Omschrijving-1", "description"),
        ],
    ),
    CaseSpec(
        name="tx_nl_json_nested", entity="transaction", language="nl", kind="json",
        note="Dutch JSON export: records under 'transacties' with nested amount and counterparty objects, account in the document header",
        input_name="transacties.json", records=statement("NL", "nl"), json_path=("transacties",), preamble=_json_account,
        columns=[
            gold("id", "transaction_id"), gold("boekdatum", "booking_date", date_text(ISO)),
            gold("valutadatum", "value_date", date_text(ISO)), gold("bedrag.waarde", "amount"), gold("bedrag.valuta", "currency"),
            gold("tegenpartij.naam", "counterparty_name"), gold("tegenpartij.iban", "counterparty_account"),
            gold("omschrijving", "description"), gold("betalingskenmerk", "reference"), gold("soort", "transaction_type"),
        ],
    ),
    CaseSpec(
        name="tx_fr_debit_credit_preamble", entity="transaction", language="fr",
        note="French statement: title, account and period lines above the header, Débit/Crédit pair with no-break space thousands separators, DD/MM/YYYY",
        input_name="releve_compte.csv", second_input="releve_compte_avril.csv", records=statement("FR", "fr"),
        delimiter=";", encoding="cp1252",
        preamble=_title_preamble("Relevé de compte", "Numéro de compte", "Période", DMY_SLASH),
        columns=[
            gold("Date opération", "booking_date", date_text(DMY_SLASH)), gold("Date de valeur", "value_date", date_text(DMY_SLASH)),
            gold("Libellé", "description"), gold("Débit", "amount", debit_part(money(",", "\u00a0", unsigned=True))),
            gold("Crédit", "amount", credit_part(money(",", "\u00a0", unsigned=True))), gold("Devise", "currency"),
        ],
    ),
    CaseSpec(
        name="tx_fr_xlsx_categories", entity="transaction", language="fr", kind="xlsx", xlsx_date_format="DD/MM/YYYY",
        note="French .xlsx export: title rows, real date cells, a Catégorie column that is no target field",
        input_name="export_operations.xlsx", records=statement("FR", "fr"), preamble=_xlsx_preamble("Export des opérations", "Compte"),
        columns=[
            gold("Date", "booking_date"), gold("Date de valeur", "value_date"), gold("Libellé", "description"),
            Column("Catégorie", lambda record: FRENCH_CATEGORIES[int(record["row_no"]) % len(FRENCH_CATEGORIES)]),
            gold("Montant", "amount"), gold("Devise", "currency"), gold("Type d'opération", "transaction_type"),
            gold("Solde", "balance_after"),
        ],
    ),
    CaseSpec(
        name="tx_es_concepto", entity="transaction", language="es",
        note="Spanish export with UTF-8 BOM: account and period lines above the header, decimal commas with thousands points",
        input_name="movimientos.csv", second_input="movimientos_siguiente.csv", records=statement("ES", "es"),
        delimiter=";", encoding="utf-8-sig",
        preamble=_title_preamble("Consulta de movimientos", "Cuenta", "Periodo", DMY_SLASH),
        columns=[
            gold("Fecha operación", "booking_date", date_text(DMY_SLASH)), gold("Fecha valor", "value_date", date_text(DMY_SLASH)),
            gold("Concepto", "description"), gold("Importe", "amount", DE_MONEY), gold("Divisa", "currency"),
            gold("Saldo", "balance_after", DE_MONEY),
        ],
    ),
    CaseSpec(
        name="tx_es_xlsx_oficina", entity="transaction", language="es", kind="xlsx", xlsx_date_format="DD/MM/YYYY",
        note="Spanish .xlsx export: title rows, real date cells, an Oficina branch code as a distractor",
        input_name="Movimientos_cuenta.xlsx", records=statement("ES", "es"), preamble=_xlsx_preamble("Movimientos de la cuenta", "IBAN"),
        columns=[
            gold("F. Operativa", "booking_date"), gold("F. Valor", "value_date"), gold("Concepto", "description"),
            gold("Importe", "amount"), gold("Saldo", "balance_after"), gold("Divisa", "currency"),
            gold("Referencia", "reference"), other("Oficina", "branch_id"),
        ],
    ),
    CaseSpec(
        name="tx_it_entrate_uscite", entity="transaction", language="it",
        note="Italian export: Entrate/Uscite column pair where Uscite carries a minus, Causale as the type, cp1252",
        input_name="lista_movimenti.csv", second_input="lista_movimenti_2.csv", records=statement("IT", "it"),
        delimiter=";", encoding="cp1252",
        preamble=_title_preamble("Lista movimenti", "Conto corrente", "Periodo", DMY_SLASH),
        columns=[
            gold("Data contabile", "booking_date", date_text(DMY_SLASH)), gold("Data valuta", "value_date", date_text(DMY_SLASH)),
            gold("Causale", "transaction_type"), gold("Descrizione", "description"),
            gold("Entrate", "amount", credit_part(DE_MONEY)), gold("Uscite", "amount", debit_part(DE_MONEY)),
            gold("Divisa", "currency"),
        ],
    ),
    CaseSpec(
        name="tx_it_importo_euro", entity="transaction", language="it",
        note="Italian export: amounts with a euro sign ('€ 1.234,50', '-€ 12,00'), DD-MM-YYYY dates, no currency column",
        input_name="movimenti_conto.csv", records=statement("IT", "it"), quote_all=True,
        columns=[
            gold("Data operazione", "booking_date", date_text(DMY_DASH)), gold("Data valuta", "value_date", date_text(DMY_DASH)),
            gold("Descrizione operazione", "description"), gold("Controparte", "counterparty_name"),
            gold("Importo", "amount", money(",", ".", prefix="€ ")), gold("Conto", "account_id"),
        ],
    ),
]


def _mbank_preamble(records: list[dict]) -> list[list[str]]:
    first, last = _period(records, DMY_DOT)
    return [["mBank S.A. Bankowość Detaliczna"], ["Lista operacji"], ["#Za okres:", first, last],
            ["#Numer rachunku", records[0]["account_id"]], []]


def _summary_preamble(records: list[dict]) -> list[list[str]]:
    """Return the summary block that US bank exports put above the transactions."""
    dollars = money(".", ",", "()", prefix="$")
    first, last = _period(records, MDY_SLASH)
    credits = sum((r["amount"] for r in records if r["amount"] > 0), start=0)
    debits = sum((r["amount"] for r in records if r["amount"] < 0), start=0)
    return [["Description", "", "Summary Amt."], [f"Beginning balance as of {first}", "", dollars(_opening(records))],
            ["Total credits", "", dollars(credits)], ["Total debits", "", dollars(debits)],
            [f"Ending balance as of {last}", "", dollars(_closing(records))], []]


def _pounds_preamble(records: list[dict]) -> list[list[str]]:
    balance = money(".", ",", prefix="£")(_closing(records))
    return [["Account Name:", f"Current account ****{records[0]['account_id'][-4:]}"], ["Account Balance:", balance],
            ["Available Balance:", balance], []]


def _export_header(records: list[dict]) -> dict:
    last = _period(records, ISO)[1]
    return {"export": {"generatedAt": f"{last}T06:00:00", "account": {"iban": records[0]["account_id"], "currency": "EUR"}}}


POUNDS = money(".", ",", prefix="£", unsigned=True)

CASES += [
    CaseSpec(
        name="tx_cz_fio", entity="transaction", language="cs",
        note="Czech export: title lines, ID operace as the transaction id beside an ID pokynu distractor, counterparty as number/bank code, variable symbol as reference",
        input_name="pohyby.csv", second_input="pohyby_dalsi.csv", records=statement("CZ", "cs", "CZK", domestic=True, reference="vs"),
        delimiter=";", preamble=_title_preamble("Pohyby na účtu", "Číslo účtu", "Období", DMY_DOT),
        columns=[
            gold("ID operace", "transaction_id"), gold("Datum", "booking_date", date_text(DMY_DOT)),
            gold("Objem", "amount", money(",")), gold("Měna", "currency"), gold("Protiúčet", "counterparty_account"),
            gold("Název protiúčtu", "counterparty_name"), gold("VS", "reference"), gold("Zpráva pro příjemce", "description"),
            gold("Typ", "transaction_type"), other("ID pokynu", "instruction_id"),
        ],
    ),
    CaseSpec(
        name="tx_cz_cp1250", entity="transaction", language="cs",
        note="Czech export in cp1250 (Central European code page): space thousands separators, running balance, account numbers in national notation",
        input_name="vypis_uctu.csv", records=statement("CZ", "cs", "CZK", domestic=True, reference="vs"),
        delimiter=";", encoding="cp1250",
        columns=[
            gold(TRANSACTION_HEADERS["cs"][key], key, fmt) for key, fmt in [
                ("account_id", None), ("booking_date", date_text(DMY_DOT)), ("value_date", date_text(DMY_DOT)),
                ("amount", SPACE_GROUPED), ("currency", None), ("balance_after", SPACE_GROUPED), ("counterparty_account", None),
                ("counterparty_name", None), ("description", None), ("reference", None), ("transaction_type", None),
            ]
        ],
    ),
    CaseSpec(
        name="tx_pl_mbank", entity="transaction", language="pl",
        note="Polish mBank-style export: bank lines above '#'-prefixed headers, trailing ';' on every row, operation date beside the booking date, no currency column",
        input_name="lista_operacji.csv", records=statement("PL", "pl", "PLN", domestic=True), delimiter=";",
        encoding="utf-8-sig", trailing_delimiter=True, preamble=_mbank_preamble,
        also_accept={"booking_date": [["#Data operacji"]]},
        columns=[
            gold("#Data księgowania", "booking_date", date_text(ISO)), other("#Data operacji", "transaction_date", date_text(ISO)),
            gold("#Opis operacji", "transaction_type"), gold("#Tytuł", "description"),
            gold("#Nadawca/Odbiorca", "counterparty_name"), gold("#Numer konta", "counterparty_account"),
            gold("#Kwota", "amount", SPACE_GROUPED), gold("#Saldo po operacji", "balance_after", SPACE_GROUPED),
        ],
    ),
    CaseSpec(
        name="tx_pl_pko", entity="transaction", language="pl",
        note="Polish PKO-style export: quoted comma-separated fields, dot decimals with explicit + and - signs",
        input_name="historia_rachunku.csv", second_input="historia_rachunku_2.csv",
        records=statement("PL", "pl", "PLN", domestic=True), quote_all=True,
        columns=[
            gold("Data operacji", "booking_date", date_text(ISO)), gold("Data waluty", "value_date", date_text(ISO)),
            gold("Typ transakcji", "transaction_type"), gold("Kwota", "amount", money(".", plus=True)), gold("Waluta", "currency"),
            gold("Saldo po transakcji", "balance_after", money(".", plus=True)), gold("Nadawca/Odbiorca", "counterparty_name"),
            gold("Rachunek", "counterparty_account"), gold("Opis transakcji", "description"),
        ],
    ),
    CaseSpec(
        name="tx_en_abbrev_pipe", entity="transaction", language="en",
        note="English core-banking extract: abbreviated headers, | delimiter, YYMMDD dates, unsigned amounts with a DR/CR column, row_no distractor",
        input_name="txn_extract.txt", second_input="txn_extract_next.txt", records=statement("GB", "en", "GBP"),
        delimiter="|", line_end="\n",
        columns=[
            gold("txn_id", "transaction_id"), gold("acct_no", "account_id"), gold("bkg_dt", "booking_date", date_text(YYMMDD)),
            gold("val_dt", "value_date", date_text(YYMMDD)), gold("txn_amt", "amount", EN_UNSIGNED),
            gold("dr_cr", "amount", sign_mark("DR", "CR")), gold("ccy", "currency"), gold("cpty", "counterparty_name"),
            gold("cpty_acct", "counterparty_account"), gold("narrative", "description"), gold("ref", "reference"),
            gold("txn_type", "transaction_type"), other("row_no", "row_no"),
        ],
    ),
    CaseSpec(
        name="tx_en_us_parentheses", entity="transaction", language="en",
        note="US export: summary block above the header, MM/DD/YYYY with days above 12, '$1,234.50' amounts with parentheses for debits",
        input_name="stmt.csv", records=statement("US", "en", "USD"), preamble=_summary_preamble,
        columns=[
            gold("Date", "booking_date", date_text(MDY_SLASH)), gold("Description", "description"),
            gold("Amount", "amount", money(".", ",", "()", prefix="$")),
            gold("Running Bal.", "balance_after", money(".", ",", "()", prefix="$")),
        ],
    ),
    CaseSpec(
        name="tx_en_iso_timestamp", entity="transaction", language="en",
        note="English tab-separated export: booking as ISO timestamps (2024-01-05T10:22:00), value date as ISO date, Mandate ID distractor",
        input_name="transactions.tsv", records=statement("DE", "en"), delimiter="\t", line_end="\n",
        columns=[
            gold("Transaction ID", "transaction_id"), gold("Account IBAN", "account_id"),
            gold("Booked At", "booked_at", date_text(ISO_TIMESTAMP), target="booking_date"), gold("Value Date", "value_date", date_text(ISO)),
            gold("Amount", "amount", money(".")), gold("Currency", "currency"), gold("Counterparty Name", "counterparty_name"),
            gold("Counterparty IBAN", "counterparty_account"), gold("Payment Reference", "reference"), gold("Description", "description"),
            gold("Type", "transaction_type"), gold("Balance After", "balance_after", money(".")),
            other(TRANSACTION_HEADERS["en"]["mandate_id"], "mandate_id"),
        ],
    ),
    CaseSpec(
        name="tx_en_json_camt", entity="transaction", language="en", kind="json",
        note="English JSON in camt style: records under data.transactions, unsigned amount.value with a DBIT/CRDT indicator, counterparty BIC as a distractor",
        input_name="transactions.json", records=statement("DE", "en"), json_path=("data", "transactions"), preamble=_export_header,
        columns=[
            gold("id", "transaction_id"), gold("bookingDate", "booking_date", date_text(ISO)),
            gold("valueDate", "value_date", date_text(ISO)), gold("amount.value", "amount", abs),
            gold("amount.currency", "currency"), gold("creditDebitIndicator", "amount", sign_mark("DBIT", "CRDT")),
            gold("counterparty.name", "counterparty_name"), gold("counterparty.account.iban", "counterparty_account"),
            other("counterparty.account.bic", "counterparty_bic"), gold("remittanceInformation", "description"),
            gold("endToEndId", "reference"), gold("bankTransactionCode", "transaction_type"),
        ],
    ),
    CaseSpec(
        name="tx_no_header", entity="transaction", language="none",
        note="English export with no header row: columns are column_1..column_8, DD/MM/YYYY dates, unsigned amount with a D/C column",
        input_name="export.csv", records=statement("GB", "en", "GBP", domestic=True), header=False,
        columns=[
            gold("Date", "booking_date", date_text(DMY_SLASH)), gold("Value date", "value_date", date_text(DMY_SLASH)),
            gold("Account", "account_id"), gold("Amount", "amount", EN_UNSIGNED), gold("DC", "amount", sign_mark("D", "C")),
            gold("Currency", "currency"), gold("Counterparty", "counterparty_name"), gold("Details", "description"),
        ],
    ),
    CaseSpec(
        name="tx_en_gb_paid_in_out", entity="transaction", language="en",
        note="UK building society export: account lines above the header, '05 Jan 2024' dates, Paid out/Paid in pair with £ signs, cp1252, newest first",
        input_name="Statement Download.csv", records=statement("GB", "en", "GBP", domestic=True, newest_first=True),
        quote_all=True, encoding="cp1252", preamble=_pounds_preamble,
        columns=[
            gold("Date", "booking_date", date_text(DAY_MONTH_YEAR)), gold("Transaction type", "transaction_type"),
            gold("Description", "description"), gold("Paid out", "amount", debit_part(POUNDS)),
            gold("Paid in", "amount", credit_part(POUNDS)), gold("Balance", "balance_after", money(".", ",", prefix="£")),
        ],
    ),
]

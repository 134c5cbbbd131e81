#!/usr/bin/env python3
"""Generate lote's bundled SYNTHETIC sample corpus (data/sample/*.jsonl).

Customer messages to a Colombian digital bank (Colombian Spanish ~80 %,
English ~20 %), labelled with an intent and with gold entity spans.
Nothing here comes from real customers: every message is a hand-written
template filled with randomly generated slot values and then perturbed
(typos, missing accents, slang, case, emojis).

Deterministic: standard library only, fixed seed.  Running the script twice
produces byte-identical files.  See docs/data-card.md.

Usage:
    python3 scripts/gen_sample.py            # (re)write data/sample/*.jsonl
    python3 scripts/gen_sample.py --check    # regenerate in memory, compare to disk
    python3 scripts/gen_sample.py --stats    # also print markdown count tables

Row format (one JSON object per line):
    {"id": "s00001", "text": "...", "label": "...", "lang": "es"|"en",
     "entities": [{"type": "MONEY", "start": 10, "end": 17, "text": "$50.000"}]}
start/end are Unicode code point offsets (Python str indices), end exclusive.
"""

import argparse
import calendar
import datetime
import json
import os
import random
import re
import sys
import unicodedata

SEED = 20240315
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sample")
SPLITS = (("train", 0.70), ("dev", 0.15), ("test", 0.15))
EN_SHARE = 0.20

# Messages per intent (imbalanced on purpose: largest / smallest = 3.0).
INTENT_COUNTS = [
    ("transferencia_fallida", 270),
    ("fraude_suplantacion", 240),
    ("cuenta_bloqueada", 230),
    ("cobro_no_reconocido", 220),
    ("consulta_saldo", 200),
    ("tarjeta_debito", 190),
    ("retiro_cajero", 180),
    ("pse_pago", 170),
    ("recarga_celular", 160),
    ("credito_prestamo", 150),
    ("actualizacion_datos", 140),
    ("queja_servicio", 130),
    ("certificado_bancario", 100),
    ("saludo_otro", 90),
]

ENTITY_TYPES = ("PER", "ORG", "LOC", "MONEY", "DATE", "PHONE", "EMAIL", "URL",
                "CEDULA", "NIT", "CARD", "ACCOUNT")
# Slots that insert digits but are not entities (masked card suffix, one-time codes).
NON_ENTITY_SLOTS = ("LAST4", "OTP")

# --------------------------------------------------------------------------
# Filler vocabularies
# --------------------------------------------------------------------------

FIRST_NAMES_M = [
    "Juan", "Andrés", "Carlos", "Luis", "Jorge", "Santiago", "Sebastián", "Alejandro",
    "Felipe", "Camilo", "Julián", "Daniel", "David", "Diego", "Óscar", "Jhon", "Brayan",
    "Wilmer", "Hernán", "Álvaro", "Mauricio", "Fabián", "Édgar", "Nelson", "Jaime",
    "Esteban", "Cristian", "Jhonatan", "Yeison", "Fredy",
]
FIRST_NAMES_F = [
    "María", "Luisa", "Laura", "Valentina", "Daniela", "Camila", "Paola", "Natalia",
    "Carolina", "Diana", "Sandra", "Liliana", "Marcela", "Ángela", "Yesenia", "Leidy",
    "Yuliana", "Mónica", "Gloria", "Luz Marina", "Ana María", "María José",
    "María Fernanda", "Juliana", "Isabella", "Sofía", "Ximena", "Claudia", "Adriana",
    "Yurani", "Maryuri", "Estefanía",
]
FIRST_NAMES = FIRST_NAMES_M + FIRST_NAMES_F
LAST_NAMES = [
    "Rodríguez", "Gómez", "González", "Martínez", "García", "López", "Hernández",
    "Sánchez", "Ramírez", "Pérez", "Díaz", "Muñoz", "Rojas", "Moreno", "Jiménez",
    "Vargas", "Castro", "Ortiz", "Suárez", "Restrepo", "Ospina", "Giraldo", "Zapata",
    "Cardona", "Valencia", "Arango", "Mejía", "Castaño", "Quintero", "Londoño", "Henao",
    "Agudelo", "Bedoya", "Arboleda", "Mosquera", "Palacios", "Cuesta", "Rentería",
    "Vélez", "Salazar", "Orozco", "Toro", "Betancur", "Córdoba", "Patiño", "Ruiz",
    "Parra", "Galeano", "Buitrago", "Caicedo",
]

ORG_BANK = ["Bancolombia", "Davivienda", "Banco de Bogotá", "BBVA", "Banco de Occidente",
            "Banco Popular", "Banco Caja Social", "Scotiabank Colpatria", "Banco AV Villas",
            "Itaú", "Nequi", "Daviplata", "Nu", "Lulo Bank", "Banco Falabella", "Bancamía",
            "Movii", "Banco Agrario"]
ORG_WALLET = ["Nequi", "Daviplata", "Movii", "Dale"]
ORG_TEL = ["Claro", "Movistar", "Tigo", "WOM", "ETB", "Virgin Mobile"]
ORG_MERCH = ["Éxito", "Rappi", "Falabella", "Olímpica", "D1", "Ara", "Jumbo", "Alkosto",
             "Homecenter", "Mercado Libre", "Netflix", "Spotify", "Amazon", "Uber", "DiDi",
             "Crepes & Waffles", "Juan Valdez", "Frisby", "El Corral", "Cine Colombia",
             "Avianca", "Cruz Verde", "Farmatodo", "Arturo Calle", "Dollarcity", "Temu",
             "Apple", "Google", "Disney+", "Tostao", "Totto", "Smart Fit"]
ORG_UTIL = ["EPM", "Enel", "Vanti", "Acueducto de Bogotá", "Emcali", "Air-e",
            "Gases de Occidente", "ETB", "Claro", "Movistar", "Tigo", "Sura", "Colsanitas",
            "Compensar", "Icetex", "Afinia", "Triple A"]
ORG_GOV = ["Superintendencia Financiera", "Fiscalía", "Superfinanciera", "SIC",
           "Superintendencia de Industria y Comercio", "Defensoría del Consumidor Financiero"]
ORG_DIAN = ["DIAN", "Dian"]
ORG_BUREAU = ["Datacrédito", "TransUnion", "Experian", "Cifin"]
ORG_ATM = ["Servibanca", "ATH", "Bancolombia", "Davivienda", "Banco de Bogotá", "BBVA"]
ORG_CORRESP = ["Efecty", "SuRed", "Gana", "Punto Red", "Servientrega"]
ORG_SOCIAL = ["WhatsApp", "Facebook", "Instagram", "Telegram", "TikTok", "Marketplace"]
ORG_EMP = ["Ecopetrol", "Grupo Argos", "Nutresa", "Alpina", "Postobón", "Bavaria",
           "Colsubsidio", "Sodimac", "Terpel", "Alcaldía de Medellín", "Grupo Aval",
           "Universidad Nacional", "Corona", "Cementos Argos", "Teleperformance"]
ORG_TRANSIT = ["SIMIT", "Secretaría de Movilidad", "Tránsito de Medellín"]
ORG_PSE = ["PSE", "PSE", "PSE", "pse", "Pse"]

CITIES = ["Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga",
          "Pereira", "Manizales", "Cúcuta", "Ibagué", "Santa Marta", "Villavicencio",
          "Pasto", "Montería", "Neiva", "Armenia", "Popayán", "Tunja", "Valledupar",
          "Sincelejo", "Envigado", "Itagüí", "Bello", "Soacha", "Chía", "Zipaquirá",
          "Rionegro", "Palmira", "Girardot", "Yopal"]
HOODS = ["Chapinero", "Usaquén", "Suba", "Kennedy", "Engativá", "Teusaquillo", "Fontibón",
         "Bosa", "El Poblado", "Laureles", "Belén", "Granada", "San Fernando",
         "Ciudad Jardín", "El Prado", "Bocagrande", "Cabecera", "Cedritos", "Modelia",
         "La Candelaria", "Manga", "Getsemaní"]
MALLS = ["Centro Comercial Andino", "Unicentro", "Centro Comercial Santafé", "Titán Plaza",
         "Gran Estación", "Oviedo", "Chipichape", "Buenavista", "Plaza de las Américas",
         "Centro Comercial Viva Envigado", "Jardín Plaza", "Mall Plaza"]
STREET_TYPES = ["Calle", "Carrera", "Cra", "Cl", "Cll", "Avenida", "Av.", "Diagonal",
                "Transversal", "Kr"]

MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
WEEKDAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com",
                 "correo.example.net", "empresa.example", "hogar.example"]
PHISH_WORDS = ["banca-segura", "actualiza-datos", "verificacion-cuenta", "clientes-banco",
               "seguridad-bancaria", "premios-clientes", "desbloqueo-cuenta", "validar-identidad",
               "bono-solidario", "reembolso-pagos"]
PHISH_TLDS = [".example", ".example.com", ".example.net", ".test"]
LEGIT_URLS = ["https://www.pse.com.co", "www.pse.com.co", "https://www.dian.gov.co",
              "www.superfinanciera.gov.co", "https://www.sic.gov.co"]

MOBILE_PREFIXES = ["300", "301", "302", "304", "305", "310", "311", "312", "313", "314",
                   "315", "316", "317", "318", "319", "320", "321", "322", "323", "324",
                   "350", "351"]
LAND_AREAS = ["601", "601", "601", "604", "604", "602", "605", "607", "606", "608"]

# --------------------------------------------------------------------------
# Check-digit helpers
# --------------------------------------------------------------------------

NIT_WEIGHTS = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71]


def nit_dv(base):
    """DIAN check digit: weights from the right, r = sum mod 11."""
    digits = [int(c) for c in str(base)][::-1]
    r = sum(d * w for d, w in zip(digits, NIT_WEIGHTS)) % 11
    return r if r in (0, 1) else 11 - r


def luhn_ok(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(partial):
    for check in "0123456789":
        if luhn_ok(partial + check):
            return partial + check
    raise AssertionError("unreachable")


assert nit_dv(890903938) == 8 and nit_dv(800197268) == 4 and nit_dv(860034313) == 7
assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")

# --------------------------------------------------------------------------
# Slot fillers.  Each returns a list of (text, entity_type_or_None) pieces, so a
# filler may carry non-entity context such as the article in "el 15 de marzo".
# --------------------------------------------------------------------------


def dotted(n):
    return "{:,}".format(n).replace(",", ".")


def comma(n):
    return "{:,}".format(n)


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def fill_per(rng, lang, gender=None):
    r = rng.random()
    first = rng.choice({"m": FIRST_NAMES_M, "f": FIRST_NAMES_F}.get(gender, FIRST_NAMES))
    if r < 0.15:
        name = first
    elif r < 0.65:
        name = first + " " + rng.choice(LAST_NAMES)
    else:
        last1, last2 = rng.sample(LAST_NAMES, 2)
        name = first + " " + last1 + " " + last2
    return [(name, "PER")]


def pick_amount(rng, size):
    if size == "small":
        base = rng.choice([2000, 3000, 5000, 10000, 12000, 15000, 20000, 25000, 30000,
                           35000, 40000, 50000])
        return base
    if size == "big":
        return rng.choice([1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 120]) * 1000000 \
            + rng.choice([0, 0, 0, 500000])
    r = rng.random()
    if r < 0.55:
        return rng.randint(1, 99) * 1000 * rng.choice([1, 1, 1, 10])
    if r < 0.80:
        return rng.randint(2, 60) * 5000
    if r < 0.92:
        return rng.randint(1000, 999999) // 50 * 50
    return rng.choice([1000000, 1200000, 1500000, 2000000, 2500000, 3000000])


def money_es(rng, amount):
    opts = ["$" + dotted(amount), "$ " + dotted(amount), "$" + dotted(amount) + " pesos",
            dotted(amount) + " pesos", "COP " + dotted(amount), "$" + comma(amount)]
    if amount % 1000 == 0 and amount < 1000000:
        k = amount // 1000
        opts += [str(k) + " mil", str(k) + " mil", str(k) + "mil pesos", str(k) + " mil pesos",
                 "$" + str(k) + " mil", "$" + str(k) + "mil"]
        if k >= 10:
            opts += [str(k) + " lucas", str(k) + " lucas"]
        if amount == 500000:
            opts += ["medio palo", "medio millón"]
    if amount >= 1000000 and amount % 100000 == 0:
        m = amount / 1000000
        if m == int(m):
            m = int(m)
            opts += [str(m) + " millones", str(m) + " millones de pesos"] if m > 1 else \
                ["un millón", "un millón de pesos", "un palo"]
            if m > 1:
                opts.append(str(m) + " palos")
        else:
            s = ("%g" % m)
            opts += [s.replace(".", ",") + " millones", s + " millones",
                     s.replace(".", ",") + " millones de pesos"]
    if amount % 1000 != 0:
        opts += [str(amount), "$" + str(amount)]
    return rng.choice(opts)


def money_en(rng, amount):
    opts = ["$" + comma(amount), "$" + comma(amount) + " pesos", comma(amount) + " pesos",
            "COP " + comma(amount), "$" + comma(amount) + " COP", "COP$" + comma(amount)]
    if amount % 1000 == 0 and amount < 1000000:
        k = amount // 1000
        opts += [str(k) + "k pesos", "$" + str(k) + "k", str(k) + " thousand pesos"]
    if amount >= 1000000 and amount % 100000 == 0:
        m = "%g" % (amount / 1000000)
        opts += [m + " million pesos", "$" + m + " million", "COP " + m + " million"]
    return rng.choice(opts)


def money_usd(rng, lang):
    amount = rng.choice([5, 9, 10, 12, 15, 20, 25, 30, 45, 50, 60, 99, 100, 120, 200])
    cents = rng.choice(["", "", "", ".99", ".50"])
    if lang == "es":
        opts = ["USD " + str(amount), "US$ " + str(amount) + cents.replace(".", ","),
                str(amount) + " dólares", str(amount) + " dolares", "$" + str(amount) + " USD",
                "USD" + str(amount)]
    else:
        opts = ["USD " + str(amount) + cents, "US$" + str(amount) + cents,
                str(amount) + " dollars", "$" + str(amount) + " USD", str(amount) + " bucks"]
    return rng.choice(opts)


def fill_money(rng, lang, size="mid"):
    if size == "mid" and rng.random() < 0.04:
        return [(money_usd(rng, lang), "MONEY")]
    amount = pick_amount(rng, size)
    text = money_es(rng, amount) if lang == "es" else money_en(rng, amount)
    return [(text, "MONEY")]


def random_date(rng):
    year = rng.choice([2023, 2024, 2024, 2024, 2025])
    month = rng.randint(1, 12) if year != 2025 else rng.randint(1, 6)
    day = rng.randint(1, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


def ordinal(n):
    if 10 <= n % 100 <= 20:
        return str(n) + "th"
    return str(n) + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def date_abs_es(rng, d):
    m = MONTHS_ES[d.month - 1]
    return rng.choice([
        "%d de %s de %d" % (d.day, m, d.year),
        "%d de %s" % (d.day, m),
        "%d de %s" % (d.day, m),
        "%02d/%02d/%d" % (d.day, d.month, d.year),
        "%d/%d/%d" % (d.day, d.month, d.year),
        "%02d/%02d/%02d" % (d.day, d.month, d.year % 100),
        "%02d-%02d-%d" % (d.day, d.month, d.year),
        "%s %d de %s" % (WEEKDAYS_ES[d.weekday()], d.day, m),
        "%d %s %d" % (d.day, m[:3], d.year),
    ])


def date_abs_en(rng, d):
    m = MONTHS_EN[d.month - 1]
    return rng.choice([
        "%s %s" % (m, ordinal(d.day)),
        "%s %d" % (m, d.day),
        "%d %s %d" % (d.day, m, d.year),
        "%s %d, %d" % (m, d.day, d.year),
        "%02d/%02d/%d" % (d.month, d.day, d.year),
        "%02d/%02d/%d" % (d.day, d.month, d.year),
        "%d-%02d-%02d" % (d.year, d.month, d.day),
        "%s %s" % (m[:3], ordinal(d.day)),
    ])


REL_ES = ["ayer", "ayer", "hoy", "hoy", "antier", "anteayer", "anoche", "el lunes pasado",
          "el viernes pasado", "el martes", "el sábado", "este lunes", "la semana pasada",
          "el mes pasado", "el fin de semana", "el domingo pasado", "el jueves"]
REL_EN = ["yesterday", "yesterday", "today", "today", "last Monday", "last Friday",
          "last week", "last month", "last weekend", "the day before yesterday",
          "this morning", "last night"]


def fill_date(rng, lang, mode="prep"):
    """mode: prep -> may carry a non-entity article/preposition before absolute dates;
    bare -> no article; rel -> relative expressions only; year -> a year."""
    if mode == "year":
        d = random_date(rng)
        return [(str(min(d.year, 2024)), "DATE")]
    if mode == "rel" or rng.random() < 0.5:
        return [(rng.choice(REL_ES if lang == "es" else REL_EN), "DATE")]
    d = random_date(rng)
    if lang == "es":
        text = date_abs_es(rng, d)
        if mode != "prep":
            return [(text, "DATE")]
        # The article belongs to a weekday expression ("el lunes pasado", "el miércoles 14 de
        # junio") and stays outside a plain date ("el 15 de marzo").
        if text.split(" ")[0] in WEEKDAYS_ES:
            return [("el " + text, "DATE")]
        return [("el ", None), (text, "DATE")]
    text = date_abs_en(rng, d)
    return [("on ", None), (text, "DATE")] if mode == "prep" else [(text, "DATE")]


def fill_phone(rng, lang, kind="any"):
    if kind == "land" or (kind == "any" and rng.random() < 0.15):
        area = rng.choice(LAND_AREAS)
        a, b = digits(rng, 3), digits(rng, 4)
        # Subscriber numbers start with 2-8 (the numbering plan assigns no 0, 1 or 9). Mapped
        # rather than redrawn, so the random sequence and every other record stay as they were.
        a = {"0": "2", "1": "3", "9": "4"}.get(a[0], a[0]) + a[1:]
        text = rng.choice(["(%s) %s %s" % (area, a, b), "%s %s%s" % (area, a, b),
                           "+57 %s %s %s" % (area, a, b), "%s%s%s" % (area, a, b),
                           "(%s) %s-%s" % (area, a, b)])
        return [(text, "PHONE")]
    p = rng.choice(MOBILE_PREFIXES)
    a, b = digits(rng, 3), digits(rng, 4)
    text = rng.choice(["%s %s %s" % (p, a, b), "%s%s%s" % (p, a, b), "%s%s%s" % (p, a, b),
                       "+57 %s %s %s" % (p, a, b), "+57 %s%s%s" % (p, a, b),
                       "+57%s%s%s" % (p, a, b), "%s-%s-%s" % (p, a, b),
                       "(+57) %s %s %s" % (p, a, b), "%s %s%s" % (p, a, b)])
    return [(text, "PHONE")]


def ascii_fold(s):
    return "".join(c for c in unicodedata.normalize("NFD", s)
                   if unicodedata.category(c) != "Mn")


def fill_email(rng, lang):
    f = ascii_fold(rng.choice(FIRST_NAMES).split()[0]).lower()
    l = ascii_fold(rng.choice(LAST_NAMES)).lower()
    n = str(rng.randint(1, 99))
    yy = str(rng.choice([78, 82, 85, 88, 90, 92, 95, 97, 99, 2001, 2003]))
    user = rng.choice([f + "." + l, f[0] + l + yy, f + l + n, f + "_" + l, l + "." + f + n,
                       f + "." + l + yy, f[0] + "." + l])
    return [(user + "@" + rng.choice(EMAIL_DOMAINS), "EMAIL")]


def rand_code(rng, n):
    return "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                   for _ in range(n))


SHOP_WORDS = ["tienda-online", "mercado-hogar", "ropa-y-moda", "tecno-ofertas", "libreria-central",
              "viajes-baratos", "zapatos-co"]


def fill_url(rng, lang, kind="phish"):
    if kind == "shop":
        return [(rng.choice(["https://www.", "www.", "https://"]) + rng.choice(SHOP_WORDS) +
                 rng.choice([".example", ".example.com"]) + rng.choice(["", "/checkout", "/pago"]),
                 "URL")]
    if kind == "legit":
        return [(rng.choice(LEGIT_URLS), "URL")]
    if rng.random() < 0.3:
        return [(rng.choice(["http://", "https://"]) + "bit.example/" + rand_code(rng, 7), "URL")]
    scheme = rng.choice(["http://", "https://", "", "www.", "http://www."])
    host = rng.choice(PHISH_WORDS) + rng.choice(["", "", "-co", "-col"]) + rng.choice(PHISH_TLDS)
    path = rng.choice(["", "/login", "/actualizar", "/validar?id=" + rand_code(rng, 6),
                       "/" + rand_code(rng, 5), "/clientes/ingreso"])
    return [(scheme + host + path, "URL")]


def fill_cedula(rng, lang):
    if rng.random() < 0.55:
        n = rng.randint(1000000000, 1152999999)
    elif rng.random() < 0.8:
        n = rng.randint(10000000, 99999999)
    else:
        n = rng.randint(1000000, 9999999)
    s = str(n)
    text = rng.choice([dotted(n), s, s, dotted(n).replace(".", " ") if n >= 10000000 else s])
    return [(text, "CEDULA")]


def fill_nit(rng, lang):
    base = rng.randint(800000000, 901999999)
    dv = nit_dv(base)
    text = rng.choice(["%s-%d" % (dotted(base), dv), "%d-%d" % (base, dv),
                       "%s - %d" % (dotted(base), dv), "%d-%d" % (base, dv)])
    return [(text, "NIT")]


def fill_card(rng, lang):
    r = rng.random()
    if r < 0.55:
        pan = luhn_complete("4" + digits(rng, 14))
    elif r < 0.9:
        pan = luhn_complete(str(rng.randint(51, 55)) + digits(rng, 13))
    else:
        pan = luhn_complete(rng.choice(["34", "37"]) + digits(rng, 12))
    if len(pan) == 15:
        groups = [pan[:4], pan[4:10], pan[10:]]
    else:
        groups = [pan[i:i + 4] for i in range(0, 16, 4)]
    sep = rng.choice([" ", " ", "-", ""])
    text = sep.join(groups)
    assert luhn_ok(text.replace(" ", "").replace("-", ""))
    return [(text, "CARD")]


def fill_account(rng, lang):
    r = rng.random()
    if r < 0.4:
        text = "%s-%s-%s" % (digits(rng, 3), digits(rng, 6), digits(rng, 2))
    elif r < 0.65:
        text = str(rng.randint(1, 9)) + digits(rng, 10)
    elif r < 0.85:
        text = "%s-%s-%s" % ("0" + digits(rng, 3), digits(rng, 4), digits(rng, 4))
    else:
        text = "%s %s %s" % (digits(rng, 4), digits(rng, 4), digits(rng, 4))
    return [(text, "ACCOUNT")]


def fill_loc(rng, lang, kind="any"):
    if kind == "addr":
        t = rng.choice(STREET_TYPES)
        n = str(rng.randint(1, 170)) + rng.choice(["", "", "", "A", "B", " Bis"])
        text = "%s %s %s %d-%d" % (t, n, rng.choice(["#", "#", "No.", "n°", "N"]),
                                   rng.randint(1, 120), rng.randint(1, 99))
        if rng.random() < 0.2:
            text = text.replace(" #", " Sur #", 1) if " #" in text else text
        if rng.random() < 0.35:
            text += rng.choice([" apto ", " apartamento ", " casa ", " int ", " torre 2 apto "]) + \
                str(rng.randint(101, 1204))
        return [(text, "LOC")]
    if kind == "city":
        return [(rng.choice(CITIES), "LOC")]
    r = rng.random()
    if r < 0.6:
        return [(rng.choice(CITIES), "LOC")]
    if r < 0.85:
        return [(rng.choice(HOODS), "LOC")]
    return [(rng.choice(MALLS), "LOC")]


def org(lst):
    return lambda rng, lang: [(rng.choice(lst), "ORG")]


FILLERS = {
    "PER": fill_per,
    "PER_M": lambda rng, lang: fill_per(rng, lang, "m"),
    "PER_F": lambda rng, lang: fill_per(rng, lang, "f"),
    "ORG_BANK": org(ORG_BANK), "ORG_WALLET": org(ORG_WALLET), "ORG_TEL": org(ORG_TEL),
    "ORG_MERCH": org(ORG_MERCH), "ORG_UTIL": org(ORG_UTIL), "ORG_GOV": org(ORG_GOV),
    "ORG_DIAN": org(ORG_DIAN), "ORG_BUREAU": org(ORG_BUREAU), "ORG_ATM": org(ORG_ATM),
    "ORG_CORRESP": org(ORG_CORRESP), "ORG_SOCIAL": org(ORG_SOCIAL), "ORG_EMP": org(ORG_EMP),
    "ORG_TRANSIT": org(ORG_TRANSIT), "ORG_PSE": org(ORG_PSE),
    "LOC": fill_loc,
    "LOC_CITY": lambda rng, lang: fill_loc(rng, lang, "city"),
    "LOC_ADDR": lambda rng, lang: fill_loc(rng, lang, "addr"),
    "MONEY": fill_money,
    "MONEY_SMALL": lambda rng, lang: fill_money(rng, lang, "small"),
    "MONEY_BIG": lambda rng, lang: fill_money(rng, lang, "big"),
    "MONEY_USD": lambda rng, lang: [(money_usd(rng, lang), "MONEY")],
    "DATE": fill_date,
    "DATE_BARE": lambda rng, lang: fill_date(rng, lang, "bare"),
    "DATE_REL": lambda rng, lang: fill_date(rng, lang, "rel"),
    "DATE_YEAR": lambda rng, lang: fill_date(rng, lang, "year"),
    "PHONE": fill_phone,
    "PHONE_MOBILE": lambda rng, lang: fill_phone(rng, lang, "mobile"),
    "PHONE_LAND": lambda rng, lang: fill_phone(rng, lang, "land"),
    "EMAIL": fill_email,
    "URL_PHISH": fill_url,
    "URL_SHOP": lambda rng, lang: fill_url(rng, lang, "shop"),
    "URL_LEGIT": lambda rng, lang: fill_url(rng, lang, "legit"),
    "CEDULA": fill_cedula,
    "NIT": fill_nit,
    "CARD": fill_card,
    "ACCOUNT": fill_account,
    "LAST4": lambda rng, lang: [(digits(rng, 4), None)],
    "OTP": lambda rng, lang: [(digits(rng, 6), None)],
}

# --------------------------------------------------------------------------
# Templates.  {SLOT} = filler; [a|b|c] = pick one literal alternative (may hold slots).
# Literals never contain digits, names, organisations, places, amounts or dates:
# lint_templates() enforces that, so every entity in a message comes from a slot.
# --------------------------------------------------------------------------

T = {}

T["transferencia_fallida"] = {
    "es": [
        "Hice una transferencia de {MONEY} a {PER} {DATE} y todavía no le llega",
        "Mandé {MONEY} a una cuenta de {ORG_BANK} y me salió error pero sí me descontaron la plata",
        "La transferencia a la cuenta {ACCOUNT} quedó en estado pendiente desde {DATE}",
        "Parce le envié {MONEY} al {PHONE_MOBILE} por {ORG_WALLET} y no le ha llegado nada",
        "Me rebotó la transferencia y no me han devuelto los {MONEY}",
        "Por qué me sale transacción rechazada cuando intento transferir a {ORG_BANK}?",
        "Necesito que me reversen una transferencia que hice {DATE}, la plata no llegó",
        "Transferí {MONEY} a mi [hermana|mamá|hijo|primo] en {ORG_BANK} y [a ella|a él] no le aparece nada",
        "La app me dice que la transferencia fue exitosa pero el destinatario no ha recibido ni un peso",
        "Llevo [varios días|toda la tarde|rato] intentando pasar plata a {ORG_BANK} y siempre falla",
        "Hice un envío de {MONEY} a la cuenta de ahorros {ACCOUNT} a nombre de {PER} y sigue en proceso",
        "No puedo transferir, me sale 'no fue posible realizar la operación'",
        "Me descontaron {MONEY} de una transferencia que nunca salió",
        "Le pagué el arriendo a {PER} por transferencia {DATE} y dice que no le ha llegado",
        "La transferencia interbancaria que hice {DATE} por {MONEY} no aparece por ningún lado",
        "Se me fue la plata pero la transferencia salió fallida, qué hago?",
        "Envié {MONEY} a la llave {PHONE_MOBILE} y la transferencia quedó rechazada",
        "Ya van [dos|tres|cuatro] intentos de transferencia a {ORG_BANK} y todos fallidos, pero la plata sí se descontó",
        "Me aparece la transferencia en estado rechazado, pero el saldo me bajó {MONEY}",
        "Hice una transferencia a una cuenta equivocada, la {ACCOUNT}, cómo la reverso?",
        "La plata que le mandé a {PER} {DATE} no ha llegado y ya me está cobrando",
        "Qué pasa con las transferencias {DATE_REL}? Ninguna me funciona",
        "Necesito el comprobante de una transferencia que no llegó, fue por {MONEY}",
        "Transferencia de {MONEY} a {ORG_BANK} rechazada y sin devolución",
        "Me cobraron la transferencia pero a mi mamá no le llegó la plata, ella tiene cuenta en {ORG_BANK}",
        "El envío al número {PHONE_MOBILE} quedó pendiente, en cuánto tiempo se refleja?",
        "Pasé {MONEY} de mi cuenta a la de {PER} y no se ve reflejado",
        "Hice un pago a la cuenta de la empresa con NIT {NIT} y la transferencia salió fallida",
        "Ayuda, una transferencia de {MONEY} se quedó colgada",
        "La transferencia programada para {DATE} no se hizo y me cobraron intereses de mora por eso",
        "Envié plata a la llave {EMAIL} y me dice que la llave no existe, pero me descontaron {MONEY}",
        "Por qué la transferencia a {ORG_WALLET} sale 'en validación' hace [horas|rato|un montón]?",
        "Transferí {MONEY} a la cuenta corriente {ACCOUNT} de la empresa con NIT {NIT} y rebotó",
    ],
    "en": [
        "I sent {MONEY} to {PER} {DATE} and the transfer still hasn't arrived",
        "My transfer to {ORG_BANK} failed but the money was taken from my account",
        "Transfer to account {ACCOUNT} has been pending since {DATE_BARE}",
        "Why does the app say transaction rejected when I try to transfer to {ORG_BANK}?",
        "The transfer of {MONEY} bounced and I haven't got the money back",
        "I need you to reverse a transfer I made {DATE}, it never arrived",
        "Sent {MONEY} to {PHONE_MOBILE} through {ORG_WALLET} and it says failed",
        "The app shows the transfer as successful but my landlord {PER_M} never got it",
        "Can't transfer money to any bank, keeps giving me an error",
        "Money left my account but the transfer status says failed. What do I do?",
        "Transfer of {MONEY} to {ORG_BANK} rejected and no refund yet",
        "I tried to send money to the key {EMAIL} and it was declined",
        "Paid a supplier with NIT {NIT} by transfer and it bounced",
    ],
}

T["cuenta_bloqueada"] = {
    "es": [
        "Me bloquearon la cuenta y no sé por qué",
        "Tengo la cuenta bloqueada desde {DATE}, necesito desbloquearla urgente",
        "Puse mal la clave [tres|varias|dos] veces y ahora no puedo entrar a la app",
        "No puedo ingresar, me sale usuario bloqueado",
        "Por qué me congelaron la cuenta si yo no he hecho nada raro?",
        "Necesito desbloquear mi cuenta, mi cédula es {CEDULA}",
        "Me aparece que mi cuenta está inactiva y no me deja hacer nada",
        "Me llegó un mensaje de que la cuenta quedó bloqueada por seguridad, qué tengo que hacer?",
        "Cómo desbloqueo la cuenta? Ya intenté con el código y no me llega al {PHONE_MOBILE}",
        "La cuenta de ahorros {ACCOUNT} aparece bloqueada y tengo que pagar el arriendo",
        "Me bloquearon todo, no puedo transferir ni retirar, AYUDA",
        "Hace días no puedo entrar a la aplicación, dice que mi usuario está suspendido",
        "Necesito que me desbloqueen la cuenta, soy {PER}",
        "Cambié de celular y ahora la app dice que la cuenta está bloqueada",
        "Por qué me bloquean la cuenta sin avisar? Tengo ahí la plata del mercado",
        "Mi cuenta quedó embargada? No entiendo por qué me aparece bloqueada",
        "Se me bloqueó la clave dinámica y no puedo hacer ninguna operación",
        "Qué pena, es que no me deja entrar, dice cuenta bloqueada temporalmente",
        "Tengo la cuenta bloqueada y el código de verificación nunca llega al correo {EMAIL}",
        "Intenté entrar {DATE} y me salió que mi cuenta fue restringida",
        "Ome me bloquearon la cuenta justo cuando me pagaron la nómina",
        "Desbloqueen mi cuenta por favor, ya validé la identidad y nada",
        "Qué documentos necesito para desbloquear la cuenta?",
        "La cuenta me aparece cancelada pero yo nunca la cancelé",
        "Olvidé la contraseña y después de varios intentos me bloquearon el acceso",
        "Desde {DATE} tengo bloqueada la cuenta, ya llamé [dos|tres|cinco] veces y nada",
        "No puedo entrar a mi cuenta desde el computador ni desde el celular, sale bloqueo de seguridad",
        "Me dicen que la cuenta está bloqueada por actualización de datos, cómo la activo?",
        "Tengo {MONEY} en la cuenta y no los puedo usar porque está bloqueada",
        "La validación biométrica falla y la cuenta sigue bloqueada, ya me tomé [cien|veinte] selfies",
        "Me llegó un link {URL_PHISH} para desbloquear la cuenta, es de ustedes? porque sigo bloqueado",
    ],
    "en": [
        "My account has been blocked and I don't know why",
        "I entered the wrong password several times and now I'm locked out",
        "Account locked since {DATE_BARE}, please unlock it",
        "The app says my user is blocked, I can't log in",
        "Why was my account frozen? I haven't done anything unusual",
        "I need to unlock my account, my ID is {CEDULA}",
        "I changed phones and now the app says my account is suspended",
        "The verification code never arrives at {PHONE_MOBILE} so I can't unlock my account",
        "My savings account {ACCOUNT} shows as restricted",
        "Locked out of my account, I need access to my money ASAP",
        "What documents do I need to get my account unblocked?",
        "Got a message saying my account was blocked for security reasons, what should I do?",
    ],
}

T["fraude_suplantacion"] = {
    "es": [
        "Me llamaron del {PHONE} diciendo que eran del banco y me pidieron la clave",
        "Me llegó un mensaje con este link {URL_PHISH} para actualizar mis datos, es fraude?",
        "Creo que me robaron, me sacaron {MONEY} de la cuenta sin autorización",
        "Alguien abrió un crédito a mi nombre, quiero denunciar suplantación",
        "Me hackearon la cuenta y hicieron transferencias a {PER}",
        "Un señor que dijo llamarse {PER_M} me llamó diciendo que era asesor de {ORG_BANK}, le di el código {OTP} y me vaciaron la cuenta",
        "Recibí un correo de {EMAIL} haciéndose pasar por ustedes",
        "Me estafaron por {ORG_SOCIAL}, le transferí {MONEY} a alguien que se hizo pasar por mi primo",
        "Aparecen compras que yo no hice y creo que clonaron mi tarjeta {CARD}",
        "Quiero reportar un intento de fraude, me escribieron del número {PHONE_MOBILE}",
        "Me suplantaron la identidad, alguien sacó una tarjeta con mi cédula {CEDULA}",
        "Me robaron el celular en {LOC} y tengo miedo de que entren a la app",
        "Ojo que están mandando mensajes falsos a nombre de ustedes con el link {URL_PHISH}",
        "Alguien cambió mi correo y mi número sin autorización, creo que me robaron la cuenta",
        "Me dijeron que había ganado un premio y que pagara {MONEY} para reclamarlo, creo que caí",
        "Entré a un link que me mandaron y puse mis datos, ya me sacaron plata",
        "Denuncio fraude: transfirieron {MONEY} de mi cuenta a la cuenta {ACCOUNT} sin mi permiso",
        "Un supuesto asesor me pidió la clave dinámica por teléfono, eso es normal?",
        "Hicieron un avance con mi tarjeta en {LOC_CITY} y yo estaba en {LOC_CITY}",
        "Me llamaron del {PHONE} a decirme que mi cuenta estaba en riesgo y que les dictara el código",
        "Alguien está usando mi nombre para pedir plata prestada, ya puse denuncio en la {ORG_GOV}",
        "Me clonaron la tarjeta, ayuda!!! me están sacando plata",
        "Ese número {PHONE} me llamó haciéndose pasar por {ORG_BANK}, es de ustedes?",
        "Recibí un SMS que dice que mi cuenta fue suspendida y que ingrese a {URL_PHISH}",
        "Estafa!! Me vendieron algo por {ORG_SOCIAL}, pagué {MONEY} y nunca llegó nada",
        "Me abrieron una cuenta a mi nombre sin yo saber, soy {PER} con CC {CEDULA}",
        "Suplantaron a mi jefe por correo y pagamos {MONEY} a una cuenta falsa",
        "Me sacaron {MONEY} {DATE} desde un celular que no es el mío",
        "Bloqueen mi tarjeta ya, creo que me la clonaron en un cajero de {LOC}",
        "La persona se identificó como {PER} de seguridad del banco y me pidió la clave, le colgué",
        "Me escribieron por {ORG_SOCIAL} del {PHONE_MOBILE} con la foto de ustedes pidiendo mis datos",
        "Bloqueen la tarjeta {CARD} que me la robaron",
        "Me llegó un correo pidiendo el número de tarjeta y yo puse {CARD}, qué hago?",
        "Me mandaron el link {URL_PHISH} por {ORG_SOCIAL} y ahí puse mis datos",
        "Página falsa {URL_PHISH} usando el logo de ustedes, la quiero reportar",
        "Es de ustedes esta página {URL_PHISH}? Me piden la clave",
        "Me llamaron del {PHONE} y me dijeron que entrara a {URL_PHISH} para cancelar una compra",
    ],
    "en": [
        "Someone called me from {PHONE} pretending to be the bank and asked for my PIN",
        "I got a text with this link {URL_PHISH}, is it legit?",
        "{MONEY} was taken from my account without my authorization",
        "Someone opened a loan in my name, I want to report identity theft",
        "My account was hacked and they transferred money to {PER}",
        "I received an email from {EMAIL} pretending to be you guys",
        "I think my card {CARD} was cloned, there are purchases I didn't make",
        "Scammed on {ORG_SOCIAL}, sent {MONEY} to someone pretending to be my cousin",
        "My phone was stolen in {LOC} and I'm worried they'll get into the app",
        "Fraud alert: somebody changed my email and phone number without my consent",
        "A guy named {PER_M} said he was from {ORG_BANK} and asked for the code {OTP}",
        "I clicked a link and entered my details, now money is missing",
        "Someone used my ID {CEDULA} to open an account, please help",
        "Fake site {URL_PHISH} using your logo, please take it down",
        "I typed my card number {CARD} into a website that looked like yours",
        "Got a message from {PHONE_MOBILE} with the link {URL_PHISH}",
    ],
}

T["consulta_saldo"] = {
    "es": [
        "Cuánto tengo de saldo?",
        "Quiero saber el saldo de mi cuenta de ahorros {ACCOUNT}",
        "Cómo consulto el saldo sin entrar a la app?",
        "Me pueden decir cuánta plata tengo disponible?",
        "Porfa el saldo de la cuenta {ACCOUNT}",
        "No me aparece el saldo actualizado en la app desde {DATE}",
        "Por qué mi saldo disponible es diferente al saldo total?",
        "Ya me consignaron {MONEY}? Quiero ver si se reflejó en el saldo",
        "Necesito saber si ya me llegó la nómina y cuánto tengo",
        "El saldo me aparece en cero y yo tenía {MONEY}, qué pasó?",
        "Cómo veo los movimientos y el saldo que tenía {DATE}?",
        "Saldo porfa",
        "Me regala el saldo de la tarjeta débito terminada en {LAST4}",
        "Quiero consultar cuánto me queda en el bolsillo de ahorro",
        "Cuál es mi saldo en este momento?",
        "Puedo consultar el saldo por mensaje de texto desde mi celular {PHONE_MOBILE}?",
        "Necesito el extracto con el saldo que tenía {DATE}",
        "Me salió que tengo {MONEY} pero yo tenía más, pueden revisar?",
        "Cuánto es el saldo mínimo que tengo que tener en la cuenta?",
        "Cómo hago para ver el saldo de la cuenta corriente?",
        "Quiero saber si me alcanza para pagar {MONEY}, cuánto tengo?",
        "Mi saldo sigue igual aunque me transfirieron {MONEY} {DATE}",
        "Cuánta plata hay en la cuenta {ACCOUNT} a nombre de {PER}?",
        "Qué saldo tengo en el CDT?",
        "La app no carga el saldo, solo se queda pensando",
        "Oiga necesito saber el saldo ya, es para una compra",
        "Quisiera consultar el saldo disponible y el saldo en canje",
        "Ome cuánto tengo en la cuenta? no me abre la app",
        "Ya entró la plata de {PER}? Quiero saber mi saldo",
        "Cuánto tengo en el colchón y cuánto en el disponible?",
    ],
    "en": [
        "What's my balance?",
        "I want to check the balance of my savings account {ACCOUNT}",
        "How can I check my balance without the app?",
        "How much money do I have available?",
        "Why is my available balance different from the total balance?",
        "Did the {MONEY} deposit hit my account yet?",
        "My balance hasn't updated since {DATE_BARE}",
        "Balance please",
        "Can you tell me the balance on my debit card ending in {LAST4}?",
        "Has my salary come in? How much do I have?",
        "The app won't load my balance",
        "I had {MONEY} and now it shows less, can you check my balance?",
    ],
}

T["recarga_celular"] = {
    "es": [
        "Hice una recarga de {MONEY_SMALL} a {ORG_TEL} y no me llegó",
        "Quiero recargar el {PHONE_MOBILE} con {MONEY_SMALL}",
        "La recarga al número {PHONE_MOBILE} salió exitosa pero no tengo saldo en el celular",
        "Cómo hago una recarga a {ORG_TEL} desde la app?",
        "Me cobraron la recarga dos veces",
        "Recargué {MONEY_SMALL} a un número equivocado, el {PHONE_MOBILE}, se puede devolver?",
        "Necesito comprar un paquete de datos de {ORG_TEL} para el {PHONE_MOBILE}",
        "La recarga que hice {DATE} no aparece en mi línea",
        "Por qué no me deja recargar a {ORG_TEL}?",
        "Porfa recarga de {MONEY_SMALL} al {PHONE_MOBILE}",
        "Le recargué a mi mamá {MONEY_SMALL} y a ella no le llegó, su número es {PHONE_MOBILE}",
        "Se puede programar una recarga automática mensual?",
        "Qué pena, la recarga quedó en proceso y ya me descontaron {MONEY_SMALL}",
        "Error al recargar celular, me sale operador no disponible",
        "Hice una recarga a {ORG_TEL} por {MONEY_SMALL} y me llegó la mitad",
        "Quiero recargar minutos a un celular de {ORG_TEL}",
        "Cuál es el mínimo para recargar a {ORG_TEL}?",
        "Me aparece la recarga como rechazada pero la plata sí salió",
        "Recarga fallida al {PHONE_MOBILE}, necesito que me devuelvan los {MONEY_SMALL}",
        "Puedo recargar un celular de otra persona?",
        "Mi recarga de datos no se activó, pagué {MONEY_SMALL}",
        "La recarga que hice {DATE} al {PHONE_MOBILE} nunca entró",
        "No encuentro la opción de recargas en la nueva app",
        "Quiero pagar el plan pospago de {ORG_TEL}, se puede como recarga?",
        "La recarga a {ORG_TEL} me quitó {MONEY_SMALL} y solo me cargaron una parte",
        "Cómo recargo el cel que me quedé sin datos jaja",
        "Recarga de {MONEY_SMALL} al {PHONE_MOBILE} por favor, operador {ORG_TEL}",
        "Parce la recarga no entra, ya reinicié el celular y nada",
    ],
    "en": [
        "I topped up {MONEY_SMALL} on {ORG_TEL} and it never arrived",
        "How do I top up my phone {PHONE_MOBILE} from the app?",
        "The top-up to {PHONE_MOBILE} says successful but I have no credit",
        "I recharged the wrong number, {PHONE_MOBILE}, can I get it back?",
        "Want to buy a {ORG_TEL} data plan for my phone",
        "I was charged twice for a mobile recharge",
        "Top-up failed, please refund my {MONEY_SMALL}",
        "Can I recharge someone else's phone?",
        "The mobile top-up I made {DATE} never showed up on my line",
        "Where is the phone recharge option in the new app?",
        "Recharge {MONEY_SMALL} to {PHONE_MOBILE} please",
    ],
}

T["retiro_cajero"] = {
    "es": [
        "Fui a retirar {MONEY} en un cajero de {ORG_ATM} y no me entregó la plata pero sí me la descontaron",
        "El cajero se tragó la tarjeta en {LOC}",
        "Cuánto es lo máximo que puedo sacar por cajero al día?",
        "Intenté retirar {MONEY} y el cajero me dio menos plata",
        "Cómo hago un retiro sin tarjeta?",
        "El cajero de {LOC} me sacó error y me descontaron {MONEY}",
        "Retiré {DATE} en {LOC} y me cobraron comisión, por qué?",
        "No puedo sacar plata del cajero, me dice fondos insuficientes y sí tengo",
        "Me generó el código para retiro pero en el cajero no funciona",
        "Qué cajeros son gratis para retirar?",
        "El cajero de {ORG_ATM} en {LOC} me retuvo la plata",
        "Se puede retirar en corresponsales como {ORG_CORRESP}?",
        "Hice un retiro de {MONEY} {DATE} y el cajero no dispensó el dinero",
        "Me salieron billetes rotos del cajero en {LOC}, qué hago?",
        "Por qué me cobran por retirar en cajeros de {ORG_ATM}?",
        "Necesito sacar {MONEY} y el cajero no me deja, dice tope superado",
        "El cajero dice transacción no permitida con mi tarjeta débito",
        "Fui al cajero de {LOC} y estaba fuera de servicio, dónde hay otro cerca?",
        "Me descontaron dos veces el retiro de {MONEY}",
        "En el cajero me apareció que la clave es incorrecta pero yo la digité bien",
        "Retiro en cajero fallido, me debitaron {MONEY}, ayuda porfa",
        "Sacar plata en cajero desde el exterior, se puede?",
        "Quiero aumentar el monto de retiro diario en cajero",
        "El cajero se quedó con mi plata {DATE}, fue en {LOC}",
        "Ome el cajero no me dio la plata y en la app ya aparece el retiro",
        "Me retuvieron la tarjeta en el cajero de {ORG_ATM} de {LOC}, cómo la recupero?",
        "Retiré {MONEY} en {ORG_CORRESP} y me cobraron como si fuera cajero",
        "El cajero me entregó {MONEY} pero en el movimiento dice que saqué más",
    ],
    "en": [
        "I tried to withdraw {MONEY} at an {ORG_ATM} ATM and it didn't give me the cash",
        "The ATM swallowed my card in {LOC}",
        "What's the daily ATM withdrawal limit?",
        "The ATM gave me less money than I requested",
        "How do I withdraw cash without my card?",
        "Withdrew money {DATE} and got charged a fee, why?",
        "ATM at {LOC} says insufficient funds but I have money",
        "The cash withdrawal of {MONEY} was debited twice",
        "Can I withdraw money abroad with my debit card?",
        "The ATM kept my money, the withdrawal shows in the app but I got nothing",
        "Which ATMs are free to use?",
    ],
}

T["tarjeta_debito"] = {
    "es": [
        "Quiero pedir una tarjeta débito nueva",
        "Perdí mi tarjeta débito, cómo la bloqueo y pido otra?",
        "La tarjeta {CARD} me sale rechazada en todos los datáfonos",
        "Cuándo me llega la tarjeta física? La pedí {DATE}",
        "No me ha llegado la tarjeta a la dirección {LOC_ADDR}",
        "Cómo activo la tarjeta débito que me llegó?",
        "Se me dañó el chip de la tarjeta, necesito una reposición",
        "La tarjeta me aparece vencida y no me han mandado la nueva",
        "Olvidé la clave de la tarjeta débito",
        "Puedo usar la tarjeta débito para compras por internet?",
        "Cuánto cuesta la cuota de manejo de la tarjeta débito?",
        "Me cobraron {MONEY} por la reposición de la tarjeta",
        "La tarjeta terminada en {LAST4} no pasa en {ORG_MERCH}",
        "Quiero cambiar la dirección de envío de la tarjeta, ahora vivo en {LOC}",
        "Bloqueé la tarjeta por error, cómo la desbloqueo?",
        "Mi tarjeta débito no funciona en el exterior",
        "La tarjeta virtual no me aparece en la app",
        "Quiero que mi tarjeta nueva tenga pago sin contacto",
        "Me llegó la tarjeta pero el nombre está mal escrito, dice {PER}",
        "La tarjeta débito {CARD} se partió, pido reposición",
        "Por qué me declinan la tarjeta si tengo saldo?",
        "Quiero cambiar el PIN de la tarjeta",
        "Se me perdió la tarjeta en {LOC} {DATE}",
        "Cuánto se demora el envío de la tarjeta débito a {LOC_CITY}?",
        "La tarjeta llegó pero no la puedo activar, me sale error",
        "Necesito una tarjeta débito adicional para mi hijo",
        "Mi tarjeta quedó bloqueada por clave errada, ayuda",
        "El datáfono de {ORG_MERCH} me rechazó la tarjeta débito {DATE}",
        "Pedí la tarjeta hace rato y el mensajero nunca pasó por {LOC_ADDR}",
        "Necesito bloquear la tarjeta {CARD}, se me perdió",
        "El número de mi tarjeta es {CARD} y me aparece inactiva",
        "La tarjeta débito {CARD} se vence y no me ha llegado la renovación",
        "Quiero inscribir la tarjeta {CARD} para pagos internacionales",
    ],
    "en": [
        "I'd like to request a new debit card",
        "I lost my debit card, how do I block it and get a replacement?",
        "My card {CARD} is declined everywhere",
        "When will my physical card arrive? I ordered it {DATE}",
        "How do I activate my new debit card?",
        "The chip on my card is damaged",
        "Forgot my debit card PIN",
        "Can I use my debit card for online purchases?",
        "Card ending in {LAST4} doesn't work at {ORG_MERCH}",
        "My debit card doesn't work abroad",
        "The card arrived with my name misspelled as {PER}",
        "Why is my debit card being declined if I have funds?",
        "Please send the replacement card to {LOC_ADDR}, {LOC_CITY}",
        "Please block card {CARD}, I lost it",
        "Card {CARD} shows as inactive in the app",
    ],
}

T["credito_prestamo"] = {
    "es": [
        "Quiero solicitar un préstamo de {MONEY_BIG}",
        "Qué requisitos necesito para un crédito de libre inversión?",
        "Cuál es la tasa de interés para un préstamo de {MONEY_BIG}?",
        "Me negaron el crédito y no sé por qué, estoy reportado en {ORG_BUREAU}?",
        "Quiero pagar la cuota del préstamo que vence {DATE}",
        "Puedo abonar a capital en el crédito?",
        "Necesito un préstamo de {MONEY_BIG} a [doce|veinticuatro|treinta y seis|sesenta] meses",
        "Cuánto me prestan si me gano {MONEY} mensuales?",
        "Quiero saber el saldo de mi crédito para pagarlo todo",
        "Me aprobaron un crédito de {MONEY_BIG} pero no me han desembolsado",
        "Pueden refinanciar mi deuda? No estoy pudiendo pagar las cuotas",
        "Cuánto me sale la cuota de un préstamo de {MONEY_BIG}?",
        "Quiero un crédito de vivienda para comprar en {LOC}",
        "Tengo un préstamo con ustedes y me están cobrando intereses de más",
        "Me llegó un mensaje de preaprobado por {MONEY_BIG}, es real?",
        "Cómo solicito un adelanto de nómina?",
        "Necesito plata prestada urgente, unos {MONEY}",
        "Quiero el paz y salvo del crédito que terminé de pagar {DATE}",
        "Me pueden dar un periodo de gracia en el préstamo?",
        "Qué pasa si me atraso en la cuota del crédito?",
        "Soy independiente, puedo pedir crédito sin certificado laboral?",
        "Se puede pedir crédito de libranza trabajando en {ORG_EMP}?",
        "El simulador de crédito no funciona",
        "Me cobraron la cuota del préstamo dos veces",
        "Quiero compra de cartera de mi deuda con {ORG_BANK}",
        "Cuánto tiempo se demora el estudio del crédito?",
        "Ya pagué la cuota de {MONEY} pero me sigue apareciendo en mora",
        "Mi codeudor es {PER}, qué documentos debe enviar?",
        "Quiero un crédito para moto de unos {MONEY_BIG}, qué necesito?",
    ],
    "en": [
        "I'd like to apply for a loan of {MONEY_BIG}",
        "What are the requirements for a personal loan?",
        "What's the interest rate on a {MONEY_BIG} loan?",
        "My loan application was denied, am I reported in {ORG_BUREAU}?",
        "I want to pay my loan installment due {DATE}",
        "Can I make extra payments towards the principal?",
        "My loan was approved but the money hasn't been disbursed",
        "Can you refinance my debt? I'm struggling to pay",
        "How much would the monthly payment be for {MONEY_BIG}?",
        "I got a pre-approved loan offer for {MONEY_BIG}, is it real?",
        "What happens if I'm late on a loan payment?",
        "I paid {MONEY} but the loan still shows as overdue",
    ],
}

T["cobro_no_reconocido"] = {
    "es": [
        "Me aparece un cobro de {MONEY} de {ORG_MERCH} que yo no hice",
        "No reconozco una compra de {MONEY} que sale {DATE}",
        "Me están cobrando {MONEY} de una suscripción a {ORG_MERCH} que ya cancelé",
        "Qué es este cobro de {MONEY} que me aparece en el extracto?",
        "Me descontaron una cuota de manejo que no debería pagar",
        "Hay un débito automático de {ORG_UTIL} que yo nunca autoricé",
        "Me cobraron dos veces la compra en {ORG_MERCH}",
        "Por qué me cobraron el cuatro por mil si tengo la cuenta exenta?",
        "Aparece un cargo de {MONEY} con la tarjeta {CARD} que no reconozco",
        "Me debitaron {MONEY} sin explicación {DATE}",
        "Quiero reclamar un cobro que no hice, fue en {ORG_MERCH} por {MONEY}",
        "Me cobraron comisión por una transferencia que dicen que es gratis",
        "Tengo un cargo internacional de {MONEY_USD} que no conozco",
        "Por qué me descontaron {MONEY} del saldo? No hice ninguna compra",
        "Me salió un cobro de seguro que nunca pedí",
        "Qué es el cobro que dice {ORG_MERCH} por {MONEY}? Yo no he comprado ahí",
        "Me cobraron un servicio de {ORG_MERCH} después de cancelarlo",
        "Necesito que me devuelvan {MONEY} de un cobro indebido",
        "Hay una transacción de {MONEY} en {LOC_CITY} y yo nunca he ido allá",
        "Cobro no reconocido en mi cuenta {ACCOUNT}, quiero el reverso",
        "QUÉ ES ESTE COBRO?? Nadie me explica",
        "Me cobraron intereses en la cuenta de ahorros, eso no tiene sentido",
        "Me salió un débito de {ORG_MERCH} de {MONEY} {DATE} que no reconozco",
        "Cancelé la compra en {ORG_MERCH} pero igual me la cobraron",
        "Por qué me cobran {MONEY} mensuales si la cuenta era gratis?",
        "Veo un pago a la empresa con NIT {NIT} que no reconozco",
        "Me aparecen varios cobros pequeños de {MONEY_SMALL} que no son míos",
        "Ome me sacaron {MONEY} en una compra por internet que no hice",
        "Me llegó notificación de compra en {ORG_MERCH} por {MONEY_USD} y yo no compré nada",
        "En la tarjeta {CARD} me sale una compra de {MONEY} en {ORG_MERCH} que no hice",
        "Me cobraron {MONEY} a la tarjeta {CARD} {DATE}, no la reconozco",
        "El extracto dice pago a NIT {NIT} por {MONEY} y no sé qué es",
        "Reclamo por cobro duplicado en la tarjeta {CARD}",
    ],
    "en": [
        "There's a {MONEY} charge from {ORG_MERCH} I don't recognize",
        "I don't recognize a purchase made {DATE}",
        "I'm being charged for a {ORG_MERCH} subscription I cancelled",
        "What is this {MONEY} charge on my statement?",
        "I was charged twice at {ORG_MERCH}",
        "Unknown charge of {MONEY_USD} on my card {CARD}",
        "Why was {MONEY} debited from my account? I didn't buy anything",
        "I want to dispute a charge from {ORG_MERCH}",
        "There's an automatic debit from {ORG_UTIL} I never authorized",
        "I got charged a fee that's supposed to be free",
        "Several small charges of {MONEY_SMALL} that aren't mine",
        "Charge in {LOC_CITY} but I've never been there",
        "Card {CARD} was charged {MONEY} by {ORG_MERCH}, it wasn't me",
    ],
}

T["actualizacion_datos"] = {
    "es": [
        "Quiero actualizar mi número de celular, el nuevo es {PHONE_MOBILE}",
        "Necesito cambiar mi correo electrónico a {EMAIL}",
        "Me cambié de casa, ahora vivo en {LOC_ADDR}, {LOC_CITY}",
        "Cómo actualizo mis datos personales en la app?",
        "Mi nombre está mal escrito, debería ser {PER}",
        "Quiero actualizar la dirección de correspondencia",
        "Cambié de número, el anterior era {PHONE_MOBILE} y el nuevo es {PHONE_MOBILE}",
        "Necesito actualizar mi información laboral, ahora trabajo en {ORG_EMP}",
        "Me piden actualizar datos pero no me deja guardar",
        "Cómo cambio el correo registrado? El viejo era {EMAIL}",
        "Ya no vivo en {LOC_CITY}, me pasé a {LOC_CITY}, cómo actualizo la dirección?",
        "Quiero actualizar mi cédula, me la cambiaron de la amarilla a la digital",
        "Me casé y quiero actualizar mi estado civil",
        "Actualizar datos: celular {PHONE_MOBILE}, correo {EMAIL}",
        "Por qué me piden actualizar datos cada rato?",
        "No me llegan los códigos porque el número registrado es viejo, el nuevo es {PHONE_MOBILE}",
        "Quiero cambiar el número de teléfono fijo a {PHONE_LAND}",
        "Cómo actualizo mis ingresos? ahora gano {MONEY}",
        "La app me dice que tengo datos desactualizados",
        "Quiero poner a {PER} como beneficiario de la cuenta",
        "Mi número de cédula quedó mal, es {CEDULA}",
        "Cambiar correo porfa, el nuevo es {EMAIL}",
        "Necesito actualizar la actividad económica, ahora soy independiente",
        "Quiero actualizar mi dirección a {LOC_ADDR} en {LOC}",
        "Actualicé los datos {DATE} y siguen apareciendo los viejos",
        "Cómo cambio mi foto de perfil y mis datos en la app?",
        "Me mudé a {LOC}, hay que reportarlo?",
        "Quiero registrar mi nuevo correo {EMAIL} y borrar el anterior",
    ],
    "en": [
        "I want to update my phone number, the new one is {PHONE_MOBILE}",
        "Please change my email to {EMAIL}",
        "I moved, my new address is {LOC_ADDR}, {LOC_CITY}",
        "How do I update my personal info in the app?",
        "My name is misspelled, it should be {PER}",
        "I changed my number, old one was {PHONE_MOBILE}",
        "Need to update my employment info, I now work at {ORG_EMP}",
        "The app says my data is outdated",
        "Update my email please, old {EMAIL}, new {EMAIL}",
        "My ID number is wrong in your system, it's {CEDULA}",
        "I moved to {LOC_CITY}, do I need to report it?",
    ],
}

T["queja_servicio"] = {
    "es": [
        "Pésimo servicio, llevo [una hora|horas|toda la tarde] esperando en la línea",
        "La app no sirve para nada, siempre se cae",
        "Quiero poner una queja por la atención en la oficina de {LOC}",
        "El asesor {PER_M} me trató muy mal",
        "Nadie me responde, ya escribí [tres|cuatro|no sé cuántas] veces",
        "Es el colmo, ya van [dos|tres|cuatro] semanas con el mismo problema y nadie me soluciona",
        "Qué servicio tan malo, me dejaron esperando y colgaron",
        "Quiero radicar una PQR por mal servicio",
        "Voy a poner la queja en la {ORG_GOV} porque nadie me ayuda",
        "La aplicación está lentísima {DATE_REL}",
        "Llamé a la línea de atención y me tuvieron en espera eternamente",
        "El chat no sirve, el bot no entiende nada",
        "Pésima experiencia en la oficina de {LOC}, no había sino una persona atendiendo",
        "Ustedes cada vez peor, me voy a cambiar a {ORG_BANK}",
        "Nunca me devolvieron la llamada como prometieron",
        "Me parece una falta de respeto que no contesten los mensajes",
        "Los de la línea me dan información diferente cada vez que llamo",
        "Quiero hablar con un supervisor, el asesor no sabía nada",
        "JUEPUCHA, OTRA VEZ ESPERANDO RESPUESTA",
        "Qué mamera con ustedes, siempre es lo mismo",
        "La app se actualizó y ahora no encuentro nada, muy mal",
        "Radiqué un reclamo {DATE} y no me han respondido",
        "El vigilante de la sucursal de {LOC} fue grosero",
        "Me cobran por todo y el servicio es malísimo",
        "No es posible que para cualquier cosa tenga que ir a una oficina",
        "Llevo esperando respuesta desde {DATE}, qué falta de seriedad",
        "El tiempo de espera en la línea es ridículo",
        "Qué embarrada, otra vez la app caída, así no se puede",
        "La asesora {PER_F} me colgó en la cara, exijo una explicación",
        "La página {URL_LEGIT} no carga y en la oficina me mandan a la página, qué falta de seriedad",
    ],
    "en": [
        "Terrible service, I've been on hold for an hour",
        "The app is useless, it keeps crashing",
        "I want to file a complaint about the branch in {LOC}",
        "The agent {PER} was very rude to me",
        "Nobody answers my messages, this is unacceptable",
        "I filed a complaint {DATE} and still no response",
        "Your chatbot doesn't understand anything",
        "I'm going to switch to {ORG_BANK}, your service keeps getting worse",
        "Nobody called me back like they promised",
        "I want to speak to a supervisor",
        "The new app update is awful, can't find anything",
    ],
}

T["saludo_otro"] = {
    "es": [
        "Hola",
        "Buenos días",
        "Gracias por la ayuda",
        "Hola, hay alguien?",
        "Buenas tardes, me pueden ayudar?",
        "Ok gracias",
        "Listo, ya quedó",
        "Hola, soy {PER}",
        "Qué horario tienen las oficinas?",
        "Dónde queda la oficina más cercana en {LOC}?",
        "Tienen oficina en {LOC_CITY}?",
        "Chao, gracias",
        "Necesito hablar con un asesor",
        "Muy amable, gracias",
        "Felicitaciones a la asesora {PER_F}, me atendió súper bien",
        "Cuál es el número de la línea de atención?",
        "Ya me respondieron, gracias",
        "Buenas noches",
        "Cómo abro una cuenta de ahorros?",
        "Qué es un CDT?",
        "Perdón, me equivoqué de chat",
        "👍",
        "Hola, quiero información",
        "Sí señor",
        "Hola parce, una pregunta",
        "Están atendiendo {DATE_REL}?",
        "Me pueden pasar con una persona?",
        "Qué pena la molestia, ya lo solucioné",
        "Buenas, con quién hablo?",
        "Dale, quedo pendiente",
        "La página oficial para pagos es {URL_LEGIT}, cierto?",
    ],
    "en": [
        "Hello",
        "Hi, is anyone there?",
        "Thanks for your help",
        "Good afternoon, can you help me?",
        "Ok thanks",
        "Do you have a branch in {LOC_CITY}?",
        "What are your opening hours?",
        "I need to talk to an agent",
        "Sorry, wrong chat",
        "Hi, I'm {PER}",
        "How do I open an account?",
        "Are you open {DATE_REL}?",
    ],
}

T["certificado_bancario"] = {
    "es": [
        "Necesito un certificado bancario",
        "Cómo descargo la certificación bancaria de mi cuenta {ACCOUNT}?",
        "Me pueden enviar un certificado bancario al correo {EMAIL}?",
        "Necesito la certificación bancaria para presentarla en {ORG_EMP}",
        "Requiero certificado de la cuenta para el pago de nómina",
        "Necesito el certificado de retención en la fuente para la declaración de renta",
        "Dónde saco el certificado tributario para la {ORG_DIAN}?",
        "Necesito una referencia bancaria dirigida a {ORG_EMP}",
        "El certificado que descargué sale con datos viejos",
        "Por favor expedir certificación de la cuenta {ACCOUNT} a nombre de {PER}",
        "Certificado bancario para proveedor, la empresa tiene NIT {NIT}",
        "Cuánto cuesta una certificación bancaria?",
        "Necesito el extracto firmado de lo que pasó {DATE}",
        "Me piden un certificado de saldo para la visa",
        "Cómo pido el certificado de que no tengo deudas con ustedes?",
        "Necesito certificación bancaria con fecha de apertura de la cuenta",
        "El certificado tiene que decir que la cuenta está activa",
        "Me urge una certificación bancaria, es para un arriendo en {LOC}",
        "Certificado de cuenta de ahorros porfa, CC {CEDULA}",
        "La app no me deja descargar el certificado, sale error",
        "Necesito certificado para la empresa {ORG_EMP} con NIT {NIT}",
        "Pueden mandar la certificación bancaria a {EMAIL}? La necesito para {DATE_REL}",
        "Qué información trae el certificado bancario?",
        "Necesito certificar mi cuenta para recibir pagos del exterior",
        "Necesito el certificado de los intereses pagados en {DATE_YEAR}",
        "Requiero certificado bancario en inglés para trámite de visa",
        "Para sacar la certificación bancaria tengo que ir a la oficina?",
        "El certificado debe ir dirigido a la empresa con NIT {NIT}",
    ],
    "en": [
        "I need a bank certificate",
        "How do I download a bank letter for account {ACCOUNT}?",
        "Can you email an account certification to {EMAIL}?",
        "I need a bank reference letter addressed to {ORG_EMP}",
        "I need the tax certificate for {DATE_YEAR}",
        "Need a bank statement letter in English for my visa application",
        "The certificate I downloaded has outdated info",
        "Bank certificate for a supplier, company NIT {NIT}",
        "How much does an account certificate cost?",
        "The app gives me an error when downloading the certificate",
        "Does the bank certificate show the account opening date?",
        "The certificate must be addressed to NIT {NIT}",
    ],
}

T["pse_pago"] = {
    "es": [
        "Intenté pagar por {ORG_PSE} y me salió error",
        "Pagué el recibo de {ORG_UTIL} por {ORG_PSE} y no aparece pagado",
        "El pago {ORG_PSE} de {MONEY} quedó pendiente",
        "No me aparece el banco en la lista de {ORG_PSE}",
        "Pagué la matrícula por {ORG_PSE} {DATE} y la universidad dice que no ha llegado",
        "Me descontaron {MONEY} de un pago {ORG_PSE} que salió rechazado",
        "Cómo pago con {ORG_PSE} desde la cuenta de ahorros?",
        "El pago a {ORG_MERCH} por {ORG_PSE} se quedó cargando y ya me debitaron",
        "Hice un pago por {ORG_PSE} a la empresa con NIT {NIT} y no se ve",
        "Por qué {ORG_PSE} me dice transacción no autorizada?",
        "Necesito el comprobante del pago {ORG_PSE} que hice {DATE}",
        "Pagué un comparendo en el {ORG_TRANSIT} por {ORG_PSE} y sigue apareciendo",
        "Pago de impuestos a la {ORG_DIAN} por {ORG_PSE} fallido",
        "No me llega la clave para confirmar el pago {ORG_PSE}",
        "Qué tope tengo para pagos por {ORG_PSE}?",
        "Pagué dos veces la factura de {ORG_UTIL} por {ORG_PSE}",
        "El pago por {ORG_PSE} de {MONEY} a {ORG_UTIL} no fue aprobado pero sí me cobraron",
        "Cómo inscribo la cuenta para pagos {ORG_PSE}?",
        "Estoy pagando el SOAT por {ORG_PSE} y me saca de la página",
        "Me sale 'banco no disponible' cuando intento pagar con {ORG_PSE}",
        "Quiero pagar la administración del conjunto por {ORG_PSE}",
        "El pago de la seguridad social por {ORG_PSE} quedó pendiente desde {DATE}",
        "Cuánto se demora en reflejarse un pago por {ORG_PSE}?",
        "Pagué {MONEY} a {ORG_MERCH} por {ORG_PSE} y el comercio dice que no le llegó",
        "Pago {ORG_PSE} rechazado, ayuda que se me vence la factura de {ORG_UTIL}",
        "Por qué no me deja pagar por {ORG_PSE} con la cuenta {ACCOUNT}?",
        "Entré a {URL_LEGIT} para pagar y el banco no carga",
        "El botón de {ORG_PSE} me redirige y después sale sesión expirada",
        "Pagué {MONEY} a la empresa NIT {NIT} por {ORG_PSE} y no aparece",
        "El comercio con NIT {NIT} no me ha confirmado el pago {ORG_PSE} que hice {DATE}",
        "Compré en {URL_SHOP} por {ORG_PSE} y el pago quedó pendiente",
        "Me aparece {URL_LEGIT} en mantenimiento y tengo que pagar",
        "Compré en {URL_SHOP} y me cobraron dos veces por {ORG_PSE}",
    ],
    "en": [
        "I tried to pay through {ORG_PSE} and got an error",
        "Paid my {ORG_UTIL} bill via {ORG_PSE} but it shows unpaid",
        "{ORG_PSE} payment of {MONEY} stuck in pending",
        "Your bank doesn't show up in the {ORG_PSE} list",
        "Paid tuition via {ORG_PSE} {DATE} and the university says it didn't arrive",
        "I was charged {MONEY} for a {ORG_PSE} payment that was rejected",
        "How do I pay with {ORG_PSE} from my savings account?",
        "Need the receipt for the {ORG_PSE} payment I made {DATE}",
        "Double payment to {ORG_UTIL} through {ORG_PSE}",
        "{ORG_PSE} says transaction not authorized, why?",
        "Paid {MONEY} to {ORG_MERCH} via {ORG_PSE} and the store says it didn't go through",
        "Bought something on {URL_SHOP} with {ORG_PSE} and the payment failed",
    ],
}

# Secondary requests appended to some messages (multi-topic); the label stays the
# primary intent (the first request in the message).
ADDONS = {
    "es": [
        "Y de paso, cuánto tengo de saldo?",
        "Aprovecho para preguntar cómo cambio el correo a {EMAIL}",
        "Ah y también necesito un certificado bancario",
        "Otra cosa: me llegó un cobro de {MONEY} que no reconozco",
        "Y la verdad el servicio de ustedes cada vez peor",
        "Ah y ya actualicé el celular, ahora es {PHONE_MOBILE}",
        "También quería saber si me pueden prestar {MONEY_BIG}",
        "Y además la tarjeta débito no me ha llegado",
        "Por cierto, la app se cae a cada rato",
        "De paso me dicen si puedo pagar por {ORG_PSE}",
    ],
    "en": [
        "Also, what's my current balance?",
        "And while I'm at it, please update my email to {EMAIL}",
        "Also I need a bank certificate",
        "By the way, the app keeps crashing",
        "Also my new card never arrived",
    ],
}

OPENERS = {
    "es": ["Hola", "Hola buenas", "Buenas tardes", "Buenos días", "Buen día", "Buenas noches",
           "Qué más", "Hola parce", "Señores", "Buenas", "Hola, buen día", "Disculpe", "Oiga",
           "Qué pena molestarlos", "Hola soy {PER}", "Buenas tardes, mi nombre es {PER}",
           "Ome", "Hola veci", "Buenas, les escribe {PER}", "Cordial saludo",
           "Hola, qué pena con ustedes"],
    "en": ["Hi", "Hello", "Hey", "Good morning", "Hi there", "Hello, my name is {PER}",
           "Hi, this is {PER}", "Good afternoon", "Hey guys"],
}
ID_SUFFIXES = {
    "es": ["Mi cédula es {CEDULA}", "CC {CEDULA}", "C.C. {CEDULA}", "documento {CEDULA}",
           "Mi número de documento es {CEDULA}", "cc {CEDULA}", "cédula {CEDULA}",
           "Soy {PER}, CC {CEDULA}"],
    "en": ["My ID (cédula) is {CEDULA}", "ID number {CEDULA}", "Cédula {CEDULA}",
           "My name is {PER}, ID {CEDULA}"],
}
CONTACT_SUFFIXES = {
    "es": ["Mi celular es {PHONE}", "Me pueden llamar al {PHONE}", "Cualquier cosa al {PHONE}",
           "Escríbanme a {EMAIL}", "mi correo es {EMAIL}", "Mi cel {PHONE_MOBILE}",
           "Respóndanme al {EMAIL} porfa"],
    "en": ["You can call me at {PHONE}", "My email is {EMAIL}", "Reach me at {PHONE_MOBILE}"],
}
CLOSERS = {
    "es": ["Gracias", "Mil gracias", "Muchas gracias", "Quedo atento", "Quedo atenta", "Porfa",
           "Gracias, qué pena", "Dios le pague", "Agradezco su ayuda", "Pilas con eso",
           "Espero respuesta", "Ayúdenme porfa", "Gracias de antemano", "Quedo pendiente",
           "Es urgente", "Muy amable", "Bendiciones"],
    "en": ["Thanks", "Thank you", "Thanks in advance", "Please help", "Appreciate it", "Cheers",
           "It's urgent"],
}
EMOJI_NEG = ["😡", "🤬", "😤", "😭", "😢", "😩", "💸", "⚠️", "🙄", "😠"]
EMOJI_POS = ["🙏", "🙏🏻", "😊", "👍", "🤗", "🙂", "😅"]
EMOJI_Q = ["🤔", "😕", "🙏", "😬"]

ANGRY = {"transferencia_fallida", "cuenta_bloqueada", "fraude_suplantacion",
         "cobro_no_reconocido", "queja_servicio", "retiro_cajero"}
ID_HEAVY = {"cuenta_bloqueada", "actualizacion_datos", "credito_prestamo",
            "certificado_bancario", "fraude_suplantacion"}

ABBREV_ES = {"que": ["q", "k"], "por": ["x"], "porque": ["xq", "porq"], "también": ["tmb", "tb"],
             "para": ["pa", "pa'"], "usted": ["ud"], "ustedes": ["uds"], "favor": ["fvr"],
             "gracias": ["grs", "grax"], "bueno": ["bno"], "cuenta": ["cta"],
             "mensaje": ["msj"], "celular": ["cel"], "hola": ["ola"], "estoy": ["toy"],
             "número": ["num", "nro"], "muchas": ["muchs"], "nada": ["nd"]}
ABBREV_EN = {"you": ["u"], "please": ["pls", "plz"], "thanks": ["thx"], "are": ["r"],
             "because": ["bc", "cuz"], "your": ["ur"]}
KEY_NEIGHBORS = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kopñ",
    "m": "njk", "n": "bhjm", "o": "iklp", "p": "olñ", "q": "wa", "r": "edft", "s": "awedxz",
    "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}

SLOT_RE = re.compile(r"\{([A-Z0-9_]+)\}|\[([^\[\]]*)\]")
WORD_RE = re.compile(r"[A-Za-zÁÉÍÓÚáéíóúÑñÜü]+")

# --------------------------------------------------------------------------
# Template lint: literal text must carry no unannotated entity.
# --------------------------------------------------------------------------

LINT_EXEMPT = {"claro", "exito", "luz", "cuesta", "bello", "suba", "ara", "nu", "toro",
               "moreno", "palacios", "rojas", "dale", "corona", "gana", "granada", "manga",
               "parra", "oviedo", "belen", "corral", "popular"}
LINT_PHRASES = [
    r"\bhoy\b", r"\bayer\b", r"\banteayer\b", r"\bantier\b", r"\banoche\b", r"\bmañana\b",
    r"\b(lunes|martes|miércoles|jueves|viernes|sábado|domingo)\b",
    r"\b(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\b",
    r"semana pasada", r"mes pasado", r"este mes", r"esta semana", r"fin de semana", r"año pasado",
    r"\b(today|yesterday|tomorrow|tonight|weekend)\b",
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    r"\b(january|february|april|june|july|august|september|october|november|december)\b",
    r"\blast (week|month|year|night)\b", r"\bthis (week|month|year|morning)\b",
    r"\b(pesos|millones|millón|lucas|dollars|bucks|dólares|dolares|palos?)\b",
    r"(?<!cuatro por )\bmil\b(?! gracias)", r"\bcop\b", r"\busd\b", r"@", r"https?:", r"www\.", r"\.com",
    r"\d",
]


def _lint_literal(text, where):
    low = text.lower()
    for pat in LINT_PHRASES:
        if re.search(pat, low):
            raise AssertionError("lint: %r matches %r in %s" % (text, pat, where))
    folded = ascii_fold(low)
    names = set()
    for lst in (ORG_BANK, ORG_WALLET, ORG_TEL, ORG_MERCH, ORG_UTIL, ORG_GOV, ORG_DIAN,
                ORG_BUREAU, ORG_ATM, ORG_CORRESP, ORG_SOCIAL, ORG_EMP, ORG_TRANSIT, ORG_PSE,
                CITIES, HOODS, MALLS, FIRST_NAMES, LAST_NAMES):
        names.update(ascii_fold(x.lower()) for x in lst)
    for name in sorted(names):
        if name in LINT_EXEMPT:
            continue
        if re.search(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])", folded):
            raise AssertionError("lint: literal %r contains name %r in %s" % (text, name, where))


def lint_templates():
    groups = []
    for intent, by_lang in T.items():
        for lang, lst in by_lang.items():
            groups += [(t, intent + "/" + lang) for t in lst]
    for d in (ADDONS, OPENERS, ID_SUFFIXES, CONTACT_SUFFIXES, CLOSERS):
        for lang, lst in d.items():
            groups += [(t, "wrapper/" + lang) for t in lst]
    for tmpl, where in groups:
        for slot in re.findall(r"\{([A-Z0-9_]+)\}", tmpl):
            assert slot in FILLERS, "unknown slot %s in %s" % (slot, where)
        literal = re.sub(r"\{[A-Z0-9_]+\}", " ", tmpl)
        _lint_literal(literal.replace("[", " ").replace("]", " ").replace("|", " "), where)
    for intent, _ in INTENT_COUNTS:
        es = T[intent]["es"]
        en = T[intent]["en"]
        assert len(set(es)) == len(es) >= 25, (intent, len(es))
        assert len(set(en)) == len(en) >= 10, (intent, len(en))


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


class Seg(object):
    __slots__ = ("t", "e", "slot")

    def __init__(self, t, e=None, slot=False):
        self.t, self.e, self.slot = t, e, slot


def expand(template, lang, rng):
    segs = []
    pos = 0
    for m in SLOT_RE.finditer(template):
        if m.start() > pos:
            segs.append(Seg(template[pos:m.start()]))
        if m.group(1):
            for text, etype in FILLERS[m.group(1)](rng, lang):
                segs.append(Seg(text, etype, True))
        else:
            segs.extend(expand(rng.choice(m.group(2).split("|")), lang, rng))
        pos = m.end()
    if pos < len(template):
        segs.append(Seg(template[pos:]))
    return segs


def lower_first(segs):
    """Lower-case the first character of a message part, unless it is an entity
    other than a DATE or looks like an acronym (PSE, QUÉ)."""
    for s in segs:
        if s.t:
            if (s.e is None or s.e == "DATE") and not s.t[:2].isupper():
                s.t = s.t[0].lower() + s.t[1:]
            return


def seg_text(segs):
    return "".join(s.t for s in segs)


def typo_word(w, rng):
    if len(w) < 4:
        return w
    i = rng.randint(1, len(w) - 2)
    op = rng.random()
    if op < 0.3:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if op < 0.55:
        return w[:i] + w[i + 1:]
    if op < 0.75:
        return w[:i] + w[i] + w[i:]
    c = w[i].lower()
    if c in KEY_NEIGHBORS:
        return w[:i] + rng.choice(KEY_NEIGHBORS[c]) + w[i + 1:]
    return w


def perturb_literal(text, lang, rng, typo_rate, abbrev_rate):
    abbrev = ABBREV_ES if lang == "es" else ABBREV_EN

    def repl(m):
        w = m.group(0)
        low = w.lower()
        if low in abbrev and rng.random() < abbrev_rate:
            return rng.choice(abbrev[low])
        if rng.random() < typo_rate:
            return typo_word(w, rng)
        return w

    text = WORD_RE.sub(repl, text)
    if lang == "es" and abbrev_rate > 0 and rng.random() < 0.5:
        text = re.sub(r"\b[Pp]or favor\b", lambda m: rng.choice(["porfa", "xfa", "porfis", "x fa"]), text)
    return text


ACCENT_MAP = str.maketrans("áéíóúÁÉÍÓÚüÜ", "aeiouAEIOUuU")


def strip_accents(text, rng, keep_enye):
    out = text.translate(ACCENT_MAP)
    if not keep_enye:
        out = out.replace("ñ", "n").replace("Ñ", "N")
    return out


CASE_FREE = ("EMAIL", "URL")


def joiner(parts, choices, rng):
    """Separator before an appended part; no '.'/',' right after '?', '!' or '.'."""
    sep = rng.choice(choices)
    prev = seg_text(parts).rstrip()
    if prev and prev[-1] in "?!.:" and sep[:1] in ".,!-":
        sep = rng.choice([" ", " ", "\n"])
    return Seg(sep)


def build_message(intent, lang, rng):
    """Return (text, entities, template_index, multi_topic)."""
    templates = T[intent][lang]
    ti = rng.randrange(len(templates))
    body = expand(templates[ti], lang, rng)

    # Optional opening question mark in Spanish.
    if lang == "es" and seg_text(body).rstrip().endswith("?") and "?" not in seg_text(body)[:-1] \
            and rng.random() < 0.35 and body[0].e is None:
        body[0].t = "¿" + body[0].t

    parts = []
    if intent != "saludo_otro" or rng.random() < 0.3:
        if rng.random() < 0.42:
            opener = expand(rng.choice(OPENERS[lang]), lang, rng)
            sep = rng.choice([", ", ". ", " ", "! ", ",\n", ". "])
            opener.append(Seg(sep))
            if sep.startswith(",") or sep == " ":
                lower_first(body)
            parts += opener
    parts += body

    multi = False
    if intent != "saludo_otro" and rng.random() < 0.06:
        addon = expand(rng.choice(ADDONS[lang]), lang, rng)
        parts.append(joiner(parts, [". ", ". ", " ", "\n"], rng))
        parts += addon
        multi = True

    p_id = 0.22 if intent in ID_HEAVY else 0.06
    has_id = any(x.e == "CEDULA" for x in parts)
    if intent != "saludo_otro" and not has_id and rng.random() < p_id:
        parts.append(joiner(parts, [". ", ", ", " - ", "\n"], rng))
        parts += expand(rng.choice(ID_SUFFIXES[lang]), lang, rng)
    if intent != "saludo_otro" and rng.random() < 0.08:
        parts.append(joiner(parts, [". ", ", ", "\n"], rng))
        parts += expand(rng.choice(CONTACT_SUFFIXES[lang]), lang, rng)
    if rng.random() < 0.33:
        parts.append(joiner(parts, [". ", ", ", " ", "! ", "\n"], rng))
        parts += expand(rng.choice(CLOSERS[lang]), lang, rng)

    # ---- perturbations ----
    typo_rate = rng.choice([0.0, 0.0, 0.0, 0.02, 0.04, 0.07, 0.12])
    abbrev_rate = rng.choice([0.0, 0.0, 0.2, 0.5])
    for s in parts:
        if s.e is None and not s.slot:
            s.t = perturb_literal(s.t, lang, rng, typo_rate, abbrev_rate)
    if lang == "es" and rng.random() < 0.4:
        keep_enye = rng.random() < 0.7
        for s in parts:
            if s.e not in CASE_FREE:
                s.t = strip_accents(s.t, rng, keep_enye)
    case_r = rng.random()
    p_upper = 0.09 if intent in ANGRY else 0.02
    if case_r < p_upper:
        for s in parts:
            if s.e not in CASE_FREE:
                s.t = s.t.upper()
    elif case_r < p_upper + 0.25:
        for s in parts:
            if s.e not in CASE_FREE:
                s.t = s.t.lower()
    elif case_r < p_upper + 0.30:
        lower_first(parts)

    # Drop the Spanish opening marks sometimes, play with closing punctuation.
    if rng.random() < 0.3:
        for s in parts:
            if s.e is None and not s.slot:
                s.t = s.t.replace("¿", "").replace("¡", "")
    last = parts[-1]
    if last.e is None and not last.slot:
        if last.t.endswith("?") and rng.random() < 0.15:
            last.t += rng.choice(["?", "??"])
        elif last.t and last.t[-1].isalpha():
            r = rng.random()
            if r < 0.25:
                last.t += "."
            elif r < 0.32 or (intent in ANGRY and r < 0.4):
                last.t += rng.choice(["!", "!!", "!!!"])

    if rng.random() < 0.16:
        if intent in ANGRY:
            pool = EMOJI_NEG
        elif intent in ("saludo_otro", "certificado_bancario", "actualizacion_datos"):
            pool = EMOJI_POS
        else:
            pool = EMOJI_Q + EMOJI_POS
        emo = rng.choice(pool) * rng.choice([1, 1, 1, 2, 3])
        if rng.random() < 0.85:
            parts.append(Seg(" " + emo if rng.random() < 0.8 else emo))
        else:
            parts.insert(0, Seg(emo + " "))

    # Capitalise first letter sometimes (keyboards do it), never inside e-mail/URL.
    first = next(s for s in parts if s.t)
    if first.e not in CASE_FREE and first.t[0].islower() and rng.random() < 0.5 and case_r >= p_upper + 0.30:
        first.t = first.t[0].upper() + first.t[1:]

    # ---- assemble with exact offsets ----
    text, ents, pos = [], [], 0
    for s in parts:
        if s.e is not None:
            ents.append({"type": s.e, "start": pos, "end": pos + len(s.t), "text": s.t})
        text.append(s.t)
        pos += len(s.t)
    return "".join(text), ents, ti, multi


def validate(row):
    text = row["text"]
    assert text == text.strip() and text, row
    prev_end = 0
    for e in row["entities"]:
        assert e["type"] in ENTITY_TYPES, e
        assert text[e["start"]:e["end"]] == e["text"], (row["id"], e)
        assert e["text"] == e["text"].strip() and e["text"], e
        assert e["start"] >= prev_end, ("overlap", row["id"])
        prev_end = e["end"]
        before = text[e["start"] - 1] if e["start"] > 0 else " "
        after = text[e["end"]] if e["end"] < len(text) else " "
        assert not before.isalnum() and not after.isalnum(), ("boundary", row["id"], e)
        digits_only = re.sub(r"[^0-9]", "", e["text"])
        if e["type"] == "CARD":
            assert luhn_ok(digits_only) and len(digits_only) in (15, 16), e
        if e["type"] == "NIT":
            assert nit_dv(int(digits_only[:-1])) == int(digits_only[-1]), e
        if e["type"] == "EMAIL":
            assert re.fullmatch(r"[a-z0-9._]+@[a-z.]+", e["text"]), e


def generate():
    lint_templates()
    rng = random.Random(SEED)
    rows = []
    seen = set()
    meta = []
    for intent, n in INTENT_COUNTS:
        n_en = int(round(n * EN_SHARE))
        for lang, count in (("es", n - n_en), ("en", n_en)):
            made = 0
            attempts = 0
            while made < count:
                attempts += 1
                assert attempts < count * 60, ("cannot reach unique count", intent, lang)
                text, ents, ti, multi = build_message(intent, lang, rng)
                key = re.sub(r"[^a-z0-9]", "", ascii_fold(text.lower()))
                if not key:
                    key = text
                if key in seen:
                    continue
                seen.add(key)
                rows.append({"text": text, "label": intent, "lang": lang, "entities": ents})
                meta.append((intent, lang, ti, multi))
                made += 1
    order = list(range(len(rows)))
    rng.shuffle(order)
    out = []
    for new_idx, old in enumerate(order):
        r = rows[old]
        row = {"id": "s%05d" % (new_idx + 1), "text": r["text"], "label": r["label"],
               "lang": r["lang"], "entities": r["entities"]}
        validate(row)
        out.append(row)
    multi_ids = {out[i]["id"] for i, old in enumerate(order) if meta[old][3]}
    templates_used = {}
    for intent, lang, ti, _ in meta:
        templates_used.setdefault((intent, lang), set()).add(ti)

    # Stratified split by (label, lang).
    groups = {}
    for row in out:
        groups.setdefault((row["label"], row["lang"]), []).append(row)
    split_rows = {name: [] for name, _ in SPLITS}
    for key in sorted(groups):
        g = groups[key]
        rng.shuffle(g)
        n = len(g)
        n_dev = int(round(n * SPLITS[1][1]))
        n_test = int(round(n * SPLITS[2][1]))
        split_rows["dev"] += g[:n_dev]
        split_rows["test"] += g[n_dev:n_dev + n_test]
        split_rows["train"] += g[n_dev + n_test:]
    for name in split_rows:
        split_rows[name].sort(key=lambda r: r["id"])
    ids = [r["id"] for rows_ in split_rows.values() for r in rows_]
    assert len(ids) == len(set(ids)) == len(out)
    return split_rows, multi_ids, templates_used


def serialise(rows):
    return "".join(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n"
                   for r in rows).encode("utf-8")


def stats_markdown(split_rows, multi_ids, templates_used):
    names = [n for n, _ in SPLITS]
    lines = []
    total = sum(len(split_rows[n]) for n in names)
    lines.append("| label | " + " | ".join(names) + " | total | templates es/en |")
    lines.append("|---|" + "---:|" * (len(names) + 2))
    for intent, _ in INTENT_COUNTS:
        c = [sum(1 for r in split_rows[n] if r["label"] == intent) for n in names]
        lines.append("| `%s` | %s | %d | %d/%d |" % (
            intent, " | ".join(map(str, c)), sum(c),
            len(T[intent]["es"]), len(T[intent]["en"])))
    lines.append("| **total** | %s | **%d** | |" % (
        " | ".join(str(len(split_rows[n])) for n in names), total))
    lines.append("")
    lines.append("| lang | " + " | ".join(names) + " | total |")
    lines.append("|---|" + "---:|" * (len(names) + 1))
    for lang in ("es", "en"):
        c = [sum(1 for r in split_rows[n] if r["lang"] == lang) for n in names]
        lines.append("| %s | %s | %d |" % (lang, " | ".join(map(str, c)), sum(c)))
    lines.append("")
    lines.append("| entity type | " + " | ".join(names) + " | total |")
    lines.append("|---|" + "---:|" * (len(names) + 1))
    all_total = 0
    for et in ENTITY_TYPES:
        c = [sum(1 for r in split_rows[n] for e in r["entities"] if e["type"] == et) for n in names]
        all_total += sum(c)
        lines.append("| %s | %s | %d |" % (et, " | ".join(map(str, c)), sum(c)))
    lines.append("| **total** | %s | **%d** |" % (" | ".join(
        str(sum(len(r["entities"]) for r in split_rows[n])) for n in names), all_total))
    lines.append("")
    with_ent = sum(1 for n in names for r in split_rows[n] if r["entities"])
    lines.append("- messages with at least one entity: %d of %d" % (with_ent, total))
    lines.append("- multi-topic messages (secondary request appended): %d" % len(multi_ids))
    lines.append("- distinct templates used: %d" % sum(len(v) for v in templates_used.values()))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default data/sample)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory and fail if files on disk differ")
    ap.add_argument("--stats", action="store_true", help="print markdown count tables")
    args = ap.parse_args()

    split_rows, multi_ids, templates_used = generate()
    blobs = {name: serialise(split_rows[name]) for name, _ in SPLITS}
    if args.check:
        bad = []
        for name, blob in blobs.items():
            path = os.path.join(args.out, name + ".jsonl")
            if not os.path.exists(path) or open(path, "rb").read() != blob:
                bad.append(path)
        if bad:
            print("differs from generator output: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("data/sample matches scripts/gen_sample.py output")
    else:
        os.makedirs(args.out, exist_ok=True)
        for name, blob in blobs.items():
            with open(os.path.join(args.out, name + ".jsonl"), "wb") as f:
                f.write(blob)
        print("wrote %s" % ", ".join("%s.jsonl (%d)" % (n, len(split_rows[n])) for n, _ in SPLITS))
    if args.stats:
        print(stats_markdown(split_rows, multi_ids, templates_used))
    return 0


if __name__ == "__main__":
    sys.exit(main())

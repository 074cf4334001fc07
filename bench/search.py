"""Benchmark the French full-text search of initiatives through the real HTTP stack.

On PostgreSQL: migrate, import the real communes and themes, generate realistic initiatives
spread over the real small towns (2,500 to 25,000 inhabitants), start the application under
gunicorn on a free loopback port, and time `GET /api/v1/initiatives?q=...` with and without
filters, beside the unsearched list as a baseline. Prints p50 and p95 in ms as JSON.

    .venv/bin/python bench/search.py                  # a temporary database, dropped at the end
    .venv/bin/python bench/search.py --initiatives 20000 --requests 100
    .venv/bin/python bench/search.py --database-url postgresql://127.0.0.1/kept  # filled once
    .venv/bin/python bench/search.py --database-url postgresql://127.0.0.1/kept \
        --initiatives 1000000 --explain     # the kept database topped up to a million, plans

The initiatives are written with COPY, and their search rows by one INSERT ... SELECT with the
triggers off (`copy_initiatives`); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import random
import re
import secrets
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maillage import migrate
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.initiatives.models import Initiative
from maillage.settings import database_url as sqlalchemy_url
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.models import Town
from maillage.towns.operations import import_communes
from tests.support.net import free_port

SERVER = "postgresql://127.0.0.1/postgres"
BENCH_DATABASE = "maillage_bench_search"
SMALL_TOWNS = (2_500, 25_000)
TARGET_P95_MS = 30.0

# What people type in the search box, from the common word to the rare one.
QUERIES = [
    "numérique", "sobriété numérique", "dématérialiser", "cybersécurité mairie",
    "inclusion numérique seniors", "site internet commune", "wifi public", "logiciel libre",
    "données ouvertes", "conseiller numérique", "tablettes école", "portail famille",
    "fibre optique", "visioconférence conseil municipal", "signalement application",
    "accessibilité RGAA", "sauvegarde messagerie", "état civil en ligne", "reconditionné",
    '"espace France services"', "cantine inscription -papier", "open data or données ouvertes",
]

# Themes of the real list, each with the things a town does about it.
THEME_OBJECTS: dict[str, list[str]] = {
    "sobriete-numerique": [
        "du parc informatique reconditionné", "de la sobriété numérique des services",
        "de l'extinction nocturne des équipements", "de la durée de vie des ordinateurs",
        "de la consommation électrique des serveurs", "d'une charte de sobriété numérique"],
    "services-publics-en-ligne": [
        "des démarches d'urbanisme en ligne", "de l'état civil en ligne",
        "du paiement en ligne de la cantine", "d'un portail famille",
        "de la prise de rendez-vous en ligne", "des inscriptions scolaires dématérialisées"],
    "inclusion-numerique": [
        "d'ateliers numériques pour les seniors", "d'un conseiller numérique itinérant",
        "d'un espace France services", "d'une permanence d'aide aux démarches",
        "du prêt de tablettes aux familles", "d'un accompagnement des personnes éloignées"],
    "accessibilite-numerique": [
        "de l'accessibilité du site internet", "d'un audit RGAA du site de la commune",
        "des documents accessibles aux malvoyants", "du sous-titrage des vidéos municipales"],
    "cybersecurite": [
        "de la cybersécurité de la mairie", "des sauvegardes externalisées",
        "de la sensibilisation des agents au hameçonnage", "d'un plan de reprise d'activité",
        "de la double authentification de la messagerie", "du pare-feu des écoles"],
    "donnees-personnelles": [
        "du registre des traitements RGPD", "d'un délégué à la protection des données mutualisé",
        "de la sécurisation des fichiers d'état civil", "du consentement sur le site"],
    "donnees-ouvertes": [
        "de la publication des données ouvertes", "d'un portail open data intercommunal",
        "de l'ouverture des délibérations", "de la base adresse locale"],
    "participation-citoyenne": [
        "d'un budget participatif en ligne", "d'une application de signalement",
        "de la consultation des habitants", "de la retransmission du conseil municipal"],
    "resilience": [
        "d'un système d'alerte des habitants", "du plan communal de sauvegarde numérique",
        "d'une téléalerte en cas d'inondation", "de la continuité des services en crise"],
    "infrastructures-reseaux": [
        "de la fibre optique dans les hameaux", "du wifi public sur la place du marché",
        "de la couverture mobile des zones blanches", "du réseau des bâtiments communaux"],
    "ecole-numerique": [
        "des tablettes à l'école", "de l'espace numérique de travail des écoles",
        "des tableaux numériques interactifs", "d'un atelier de robotique au collège"],
    "logiciels-libres": [
        "de logiciels libres dans les services", "d'une suite bureautique libre",
        "d'un cloud souverain mutualisé", "de la messagerie libre des élus"],
    "outils-des-agents": [
        "d'un parapheur électronique", "de la gestion électronique des courriers",
        "d'outils de visioconférence pour les agents", "du télétravail des agents"],
    "achats-numeriques-responsables": [
        "d'achats numériques responsables", "d'un marché de matériel reconditionné",
        "de clauses environnementales dans les marchés", "d'un groupement de commandes"],
    "information-locale": [
        "d'un nouveau site internet de la commune", "d'une lettre d'information numérique",
        "de panneaux d'information lumineux", "d'une application mobile municipale"],
    "transition-ecologique": [
        "du suivi énergétique des bâtiments", "de capteurs de qualité de l'air",
        "de la gestion intelligente de l'éclairage public", "du suivi des consommations d'eau"],
    "territoire-intelligent": [
        "de capteurs connectés dans les bâtiments", "d'une plateforme de données territoriales",
        "de la télérelève des compteurs", "d'un jumeau numérique du territoire"],
    "mobilite": [
        "d'une plateforme de covoiturage", "du transport à la demande en ligne",
        "de l'information voyageurs en temps réel", "de la réservation de vélos électriques"],
    "sante-social": [
        "d'une téléconsultation en mairie", "du portage de repas réservé en ligne",
        "de la coordination numérique du CCAS", "d'un annuaire des aidants"],
    "culture-tourisme": [
        "de la numérisation des archives municipales",
        "d'un parcours patrimonial en réalité augmentée", "du portail de la médiathèque",
        "de la billetterie en ligne du festival"],
    "intelligence-artificielle": [
        "d'un assistant de réponse aux habitants", "de l'intelligence artificielle en mairie",
        "de la transcription automatique des conseils", "d'une charte d'usage de l'IA"],
}
ACTIONS = ["Mise en place", "Déploiement", "Création", "Modernisation", "Mutualisation",
           "Refonte", "Lancement", "Expérimentation", "Généralisation", "Renforcement",
           "Dématérialisation", "Sécurisation", "Ouverture", "Réorganisation"]
PLACES = ["à la mairie", "dans les écoles", "à la médiathèque", "au centre communal d'action "
          "sociale", "dans les services techniques", "avec la communauté de communes",
          "avec le syndicat départemental", "dans les hameaux", "à l'agence postale communale",
          "avec les communes voisines"]
GOALS = ["simplifier les démarches des habitants", "réduire les coûts de fonctionnement",
         "mieux protéger les données", "rendre le service public plus accessible",
         "réduire l'empreinte environnementale du numérique", "gagner du temps pour les agents",
         "accompagner les publics éloignés du numérique", "informer plus vite la population",
         "améliorer la transparence de l'action municipale", "sécuriser le système d'information"]
PARTNERS = ["la communauté de communes", "le département", "la région", "l'ANCT",
            "le syndicat mixte numérique", "une association locale", "la préfecture",
            "un centre de gestion", "une entreprise du territoire", "l'opérateur public de "
            "service numérique", "la Banque des Territoires", "un collectif d'habitants"]
# Sentences of the bodies; each slot draws from a list below, so that beyond the words every
# initiative here uses ("numérique", "commune"), a word is in a small share of them, as in text
# written by many people.
CONTEXT = [
    "Avant le projet, {n} habitants se déplaçaient chaque mois {place} pour {task}.",
    "Le conseil municipal a voté le projet en {year} après {consultation}.",
    "{staff} ont été formés pendant {weeks} semaines à {tool}.",
    "Le budget total est de {budget} euros, dont une partie financée par {partner}.",
    "Le projet a été mené avec {partner}, qui a apporté {support}.",
    "Les élus souhaitaient {goal}, sans alourdir la charge {of_service}.",
    "{consultation_cap} a permis de recueillir les attentes {of_public}.",
    "Le choix s'est porté sur {solution}, déjà utilisée par d'autres communes.",
    "Les retours {of_public} sont suivis {frequency} et le service est ajusté.",
    "La difficulté principale a été {difficulty}.",
    "Nous recommandons de {advice}.",
    "Le prestataire a été choisi après {procurement}.",
    "Les permanences {slot} ont beaucoup aidé {public}.",
    "La documentation est publiée {where_doc} pour que d'autres communes reproduisent le projet.",
    "{equipment_cap} {equipment_state} a permis d'équiper {place_short} à moindre coût.",
    "{backup} sont désormais testées {frequency} par {staff_lower}.",
    "Un comité de suivi réunit {staff_lower}, les élus et {public}.",
    "Les délais de traitement {of_request} ont été divisés par {factor}.",
    "Le taux d'usage {of_online} atteint {percent} % après un an.",
    "Les données sont hébergées {hosting}.",
    "{public_cap} peuvent désormais {task} sans se déplacer.",
    "Le projet s'inscrit dans {plan} de la commune.",
    "{n} personnes ont participé {event} organisé {place}.",
    "Un bilan sera présenté au conseil municipal {when}.",
]
SLOTS: dict[str, list[str]] = {
    "place": ["à la mairie", "à l'agence postale", "au secrétariat", "à la médiathèque",
              "au centre social", "à la maison de services", "au guichet de la mairie annexe"],
    "place_short": ["les écoles", "la médiathèque", "les services techniques", "le CCAS",
                    "la crèche", "le centre de loisirs", "les associations", "la bibliothèque"],
    "task": ["une simple attestation", "inscrire leurs enfants à la cantine",
             "déposer une demande de permis", "signaler un problème de voirie",
             "réserver une salle municipale", "payer la facture d'eau",
             "demander un acte de naissance", "s'inscrire sur les listes électorales",
             "réserver le minibus", "déclarer un chien dangereux", "obtenir un rendez-vous"],
    "consultation": ["une consultation des habitants", "un questionnaire distribué aux "
                     "familles", "trois ateliers participatifs", "une enquête auprès des "
                     "commerçants", "un débat en réunion publique", "l'avis du conseil des "
                     "jeunes"],
    "staff": ["Les agents d'accueil", "Les secrétaires de mairie", "Les animateurs",
              "Les agents techniques", "Les bibliothécaires", "Les élus référents",
              "Les agents du CCAS"],
    "tool": ["la nouvelle plateforme", "l'outil de gestion des demandes", "la messagerie "
             "sécurisée", "la gestion des courriers", "l'agenda partagé", "la visioconférence",
             "la suite bureautique", "l'outil de cartographie"],
    "support": ["son expertise technique", "un financement", "un accompagnement juridique",
                "des formateurs", "un hébergement mutualisé", "un retour d'expérience"],
    "of_service": ["du secrétariat", "des services techniques", "des agents d'accueil",
                   "du service scolaire", "du service urbanisme", "de la comptabilité"],
    "consultation_cap": ["Une réunion publique", "Un atelier en mairie", "Une enquête en "
                         "ligne", "Une permanence au marché", "Un questionnaire papier"],
    "of_public": ["des habitants", "des familles", "des associations", "des commerçants",
                  "des aînés", "des agriculteurs", "des parents d'élèves", "des usagers"],
    "solution": ["une solution mutualisée", "une plateforme régionale", "un logiciel libre",
                 "une application nationale", "un outil proposé par le département",
                 "une solution développée par l'intercommunalité"],
    "frequency": ["chaque trimestre", "chaque mois", "deux fois par an", "chaque semaine",
                  "à chaque rentrée"],
    "difficulty": ["la reprise des données existantes, souvent sur papier", "la formation de "
                   "tous les agents en même temps", "la couverture réseau des hameaux",
                   "le choix du prestataire", "la mobilisation des habitants", "le calendrier "
                   "des subventions", "la migration des anciens fichiers", "l'accord de tous "
                   "les élus"],
    "advice": ["commencer petit, avec un service pilote", "associer les agents dès le départ",
               "prévoir un budget de formation", "mutualiser avec les communes voisines",
               "garder un accueil physique", "tester avec des habitants avant d'ouvrir",
               "documenter chaque étape"],
    "procurement": ["un appel d'offres ouvert aux acteurs locaux", "une consultation simple",
                    "un groupement de commandes", "une centrale d'achat publique",
                    "une mise en concurrence de trois devis"],
    "slot": ["du samedi matin", "du mardi soir", "au marché", "en mairie annexe",
             "pendant les vacances"],
    "public": ["les personnes âgées", "les familles", "les jeunes", "les personnes en "
               "situation de handicap", "les nouveaux habitants", "les demandeurs d'emploi",
               "les agriculteurs", "les commerçants"],
    "where_doc": ["en ligne", "sur le site de l'association des maires", "sur un dépôt public",
                  "dans le réseau départemental"],
    "equipment_cap": ["Le matériel", "Le parc de portables", "L'achat de tablettes",
                      "Le lot d'ordinateurs", "Le vidéoprojecteur", "Le serveur"],
    "equipment_state": ["reconditionné", "mutualisé", "loué", "acheté en groupement",
                        "récupéré du département", "neuf"],
    "backup": ["Les sauvegardes", "Les restaurations", "Les mises à jour", "Les mots de passe",
               "Les accès distants"],
    "staff_lower": ["le secrétariat de mairie", "un agent référent", "le prestataire",
                    "l'intercommunalité", "un élu délégué"],
    "of_request": ["des demandes", "des dossiers d'urbanisme", "des réservations",
                   "des inscriptions", "des signalements", "des courriers"],
    "of_online": ["du service en ligne", "du portail", "de l'application",
                  "de la prise de rendez-vous", "du paiement en ligne"],
    "hosting": ["en France, chez un hébergeur certifié", "par l'intercommunalité",
                "dans un centre de données régional", "chez le syndicat départemental"],
    "public_cap": ["Les habitants", "Les familles", "Les associations", "Les entreprises",
                   "Les aînés", "Les parents"],
    "plan": ["le projet de mandat", "le plan climat", "le schéma de mutualisation",
             "la feuille de route numérique", "le contrat de ruralité"],
    "event": ["à l'atelier de lancement", "à la journée portes ouvertes", "au forum",
              "à la formation", "à la démonstration"],
    "when": ["en fin d'année", "au printemps", "après l'été", "dans six mois"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        help="PostgreSQL database to fill and measure (not dropped); by default "
                             f"{BENCH_DATABASE} is created on {SERVER} and dropped at the end")
    parser.add_argument("--initiatives", type=int, default=100_000,
                        help="how many initiatives to generate (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed requests per scenario (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every scenario over HTTP; the figures are the medians "
                             "of the rounds' p50 and p95 (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=20261126, help="random seed")
    parser.add_argument("--explain", action="store_true",
                        help="add the plans (EXPLAIN ANALYZE, BUFFERS) of the searches of "
                             "EXPLAINED, each statement's nodes and times, to the output")
    args = parser.parse_args(argv)

    with bench_database(args.database_url) as url:
        results = run(url, args)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


@contextmanager
def bench_database(given: str | None) -> Iterator[str]:
    """Yield the URL of the database to use: the given one, or a temporary one dropped after."""
    if given:
        if not given.startswith(("postgres://", "postgresql")):
            raise SystemExit("This benchmark measures PostgreSQL: give a postgresql:// URL.")
        yield given
        return
    admin = sa.create_engine(sqlalchemy_url(SERVER), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    try:
        yield make_url(SERVER).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    # The scenarios draw from their own generator: the same whether the initiatives are
    # generated in this run or were in a kept database.
    rng = random.Random(args.seed + 1)
    results: dict[str, Any] = {"initiatives": args.initiatives, "requests": args.requests,
                               "target_p95_ms": TARGET_P95_MS}
    started = time.perf_counter()
    migrate.upgrade(sqlalchemy_url(url))
    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as instance:
        app = create_app({"DATABASE_URL": sqlalchemy_url(url), "INSTANCE_PATH": Path(instance),
                          "MAIL_DIR": Path(instance) / "mail", "SECRET_KEY": "bench",
                          "REDIS_URL": None})
        with app.app_context():
            with transaction():
                import_communes()
                load_themes()
            results["setup_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            have = session.scalar(sa.select(sa.func.count()).select_from(Initiative))
            results["small_towns"] = generate(random.Random(args.seed), args.initiatives)
            results["generate_s"] = "reused" if have == args.initiatives \
                else round(time.perf_counter() - started, 1)
            results["indexes_used"] = indexes_used()
            if args.explain:
                results["plans"] = explain_searches()
            results["search_in_process"] = measure_in_process(args.requests)
            scenarios = make_scenarios(rng)
        app.extensions["maillage.engine"].dispose()
        with server(url, instance) as port:
            rounds = [measure(port, scenarios, args.requests) for _ in range(args.rounds)]
    results["http"] = {
        name: {figure: statistics.median(r[name][figure] for r in rounds)
               for figure in ("p50_ms", "p95_ms")}
        for name in scenarios}
    results["http_rounds"] = rounds
    return results


def generate(rng: random.Random, count: int) -> int:
    """Bring the initiatives to `count` over the small towns, with COPY; return how many towns.

    A database given again keeps what it has: generating a million initiatives takes minutes,
    an iteration on the search code seconds. One with fewer is topped up (so a kept database
    of 100,000 grows to 1,000,000), one with more is refused.
    """
    towns = session.execute(sa.select(Town.insee, Town.name).where(
        Town.population.between(*SMALL_TOWNS)).order_by(Town.insee)).all()
    have = session.scalar(sa.select(sa.func.count()).select_from(Initiative))
    if have > count:
        raise SystemExit(f"The database has {have:,} initiatives, more than {count:,}.")
    if have < count:
        themes = dict(session.execute(sa.select(Theme.slug, Theme.id)).all())
        copy_initiatives(rng, towns, themes, count - have)
        # As autovacuum does on a live database, inserts included: statistics (the towns just
        # imported too), the visibility map that index-only scans read.
        with session.get_bind().connect().execution_options(
                isolation_level="AUTOCOMMIT") as autocommit:
            started = time.perf_counter()
            autocommit.exec_driver_sql("VACUUM ANALYZE")
            progress(f"VACUUM ANALYZE: {time.perf_counter() - started:.0f} s")
    return len(towns)


def copy_initiatives(rng: random.Random, towns: list[sa.Row[Any]], themes: dict[str, int],
                     count: int) -> None:
    """COPY `count` initiatives and their themes, then fill their search rows in one statement.

    In one transaction: the triggers of `initiatives_search` (migrations 0007 and 0011), which
    write its rows one at a time into GIN indexes kept without a pending list, are off; the
    indexes of the search table are dropped, the rows written by `SEARCH_ROWS`, and the indexes
    built again from their own definitions. `check_search_rows` then has the triggers rewrite a
    sample and compares.
    """
    slugs = sorted(THEME_OBJECTS)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        first = cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM initiatives").fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("ALTER TABLE initiatives DISABLE TRIGGER initiatives_search_refresh")
        cursor.execute("ALTER TABLE initiatives_search"
                       " DISABLE TRIGGER initiatives_search_department")
        indexes = cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'initiatives_search'"
            " AND indexname <> 'pk_initiatives_search'").fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        links: list[tuple[int, int]] = []
        with cursor.copy(f"COPY initiatives ({', '.join(COPIED)}) FROM STDIN") as copy:
            for n, initiative_id in enumerate(range(first, first + count), 1):
                insee, town_name = rng.choice(towns)
                picked = rng.sample(slugs, rng.choice((1, 1, 2, 2, 3)))
                row = initiative_row(rng, town_name, insee, picked)
                copy.write_row((initiative_id, *(row[column] for column in COPIED[1:])))
                links += [(initiative_id, themes[slug]) for slug in picked]
                if n % 50_000 == 0 or n == count:
                    elapsed = time.perf_counter() - started
                    progress(f"initiatives: {n:,}/{count:,}, {elapsed:.0f} s,"
                             f" {n / elapsed:,.0f}/s")
        with cursor.copy("COPY initiative_themes (initiative_id, theme_id) FROM STDIN") as copy:
            for link in links:
                copy.write_row(link)
        cursor.execute("SELECT setval(pg_get_serial_sequence('initiatives', 'id'),"
                       " (SELECT max(id) FROM initiatives))")
        progress(f"themes: {len(links):,} links, {time.perf_counter() - started:.0f} s")
        step = time.perf_counter()
        cursor.execute(SEARCH_ROWS, {"first": first})
        progress(f"initiatives_search: {cursor.rowcount:,} rows,"
                 f" {time.perf_counter() - step:.0f} s")
        for name, definition in indexes:
            step = time.perf_counter()
            cursor.execute(definition)
            progress(f"{name}: {time.perf_counter() - step:.0f} s")
        cursor.execute("ALTER TABLE initiatives_search"
                       " ENABLE TRIGGER initiatives_search_department")
        cursor.execute("ALTER TABLE initiatives ENABLE TRIGGER initiatives_search_refresh")
    session.commit()
    check_search_rows(first, first + count - 1)


# The columns COPY writes, the id first.
COPIED = ("id", "town_insee", "author_id", "title", "summary", "body", "body_html", "status",
          "started_on", "budget_eur", "partners", "links", "created_at", "updated_at",
          "hidden_at")


def _weighted(column: str, weight: str) -> str:
    # As in the trigger function of migration 0007.
    return (f"setweight(to_tsvector('french_unaccent'::regconfig, coalesce(i.{column}, '')),"
            f" '{weight}')")


# What the triggers write for each initiative (0007's vectors, each the one before it and one
# more text; 0011's department of its town), for the initiatives from %(first)s on. OFFSET 0
# keeps each vector computed once, where the planner would otherwise repeat its expression.
SEARCH_ROWS = f"""
    INSERT INTO initiatives_search
        (initiative_id, document, rank_document, title_document, department_code)
    SELECT id, rank_document || {_weighted("body", "C")}, rank_document, title_document,
           department_code
    FROM (SELECT i.*, title_document || {_weighted("summary", "B")} AS rank_document
          FROM (SELECT i.*, {_weighted("title", "A")} AS title_document, t.department_code
                FROM initiatives AS i JOIN towns AS t ON t.insee = i.town_insee
                WHERE i.id >= %(first)s OFFSET 0) AS i
          OFFSET 0) AS i
"""


def check_search_rows(first: int, last: int, sample: int = 200) -> None:
    """Have the triggers rewrite a sample of the search rows just written, and compare."""
    columns = "document::text, rank_document::text, title_document::text, department_code"
    rows = f"SELECT initiative_id, {columns} FROM initiatives_search" \
           " WHERE initiative_id = ANY(%(ids)s) ORDER BY initiative_id"
    ids = random.Random(first).sample(range(first, last + 1), min(sample, last - first + 1))
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        bulk = cursor.execute(rows, {"ids": ids}).fetchall()
        cursor.execute("UPDATE initiatives SET title = title WHERE id = ANY(%(ids)s)",
                       {"ids": ids})
        triggered = cursor.execute(rows, {"ids": ids}).fetchall()
    session.rollback()
    if bulk != triggered or len(bulk) != len(ids):
        raise RuntimeError("The search rows written in bulk differ from the triggers' own.")
    progress(f"initiatives_search: {len(ids)} rows rewritten by the triggers, the same")


def progress(message: str) -> None:
    print(f"[bench/search] {message}", file=sys.stderr, flush=True)


def initiative_row(rng: random.Random, town: str, insee: str, slugs: list[str]) -> dict[str, Any]:
    thing = rng.choice(THEME_OBJECTS[slugs[0]])
    title = f"{rng.choice(ACTIONS)} {thing}"
    if rng.random() < 0.3:
        title += f" {rng.choice(PLACES)}"
    goal = rng.choice(GOALS)
    summary = (f"La commune de {town} a engagé la {title[0].lower()}{title[1:]} pour {goal}. "
               f"Le projet concerne aussi {rng.choice(THEME_OBJECTS[rng.choice(slugs)])}.")
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        sentences = [fill(rng, rng.choice(CONTEXT)) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.5:
            sentences.append(f"Il s'agit {rng.choice(THEME_OBJECTS[rng.choice(slugs)])} "
                             f"{rng.choice(PLACES)}.")
        paragraphs.append(" ".join(sentences))
    body = "\n\n".join(paragraphs)
    created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 1_500_000))
    return {
        "town_insee": insee, "author_id": None, "title": title[:200], "summary": summary[:500],
        "body": body, "body_html": "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs),
        "status": rng.choice(("idea", "in_progress", "in_progress", "done", "done")),
        "started_on": date(2022, 1, 1) + timedelta(days=rng.randint(0, 1_400)),
        "budget_eur": rng.choice((None, rng.randint(500, 250_000))),
        "partners": json.dumps(rng.sample(PARTNERS, rng.randint(0, 3)), ensure_ascii=False),
        "links": "[]",
        "created_at": created, "updated_at": created, "hidden_at": None,
    }


def fill(rng: random.Random, template: str) -> str:
    # Only the slots the sentence has are drawn: drawing all of them for each of a million
    # bodies' sentences took most of the generation.
    return template.format_map({name: DRAWS[name](rng) if name in DRAWS
                                else rng.choice(SLOTS[name]) for name in FIELDS[template]})


# The slots of sentences that are numbers or lists shared with titles and summaries.
DRAWS: dict[str, Any] = {
    "n": lambda rng: rng.randint(10, 400), "year": lambda rng: rng.randint(2019, 2025),
    "weeks": lambda rng: rng.randint(1, 12),
    "budget": lambda rng: f"{rng.randint(2, 300) * 500:,}".replace(",", " "),
    "partner": lambda rng: rng.choice(PARTNERS), "goal": lambda rng: rng.choice(GOALS),
    "factor": lambda rng: rng.randint(2, 5), "percent": lambda rng: rng.randint(20, 85),
}
FIELDS = {template: [name for _text, name, _spec, _conversion in string.Formatter().parse(template)
                     if name] for template in CONTEXT}


def indexes_used() -> list[list[str]]:
    """The indexes of PostgreSQL's plan for each band of a search, on the generated table."""
    from maillage.search.queries import matching_initiatives

    plans = []
    for band in matching_initiatives("dématérialiser"):
        statement = band.compile(bind=session.get_bind())
        plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(
            f"EXPLAIN {statement}", statement.params))
        plans.append(sorted(set(re.findall(r"(?:ix|pk)_initiatives_search\w*", plan))))
    session.rollback()
    return plans


# Searches whose plans --explain records: a word in most initiatives, alone and with each
# filter, and rarer words.
EXPLAINED: list[dict[str, str]] = [
    {"q": "numérique"}, {"q": "numérique", "department": "29"},
    {"q": "numérique", "theme": "cybersecurite"},
    {"q": "numérique", "theme": "cybersecurite", "department": "29"},
    {"q": "sobriété numérique"}, {"q": "site internet commune", "department": "14"},
    {"q": "dématérialiser"}, {"q": "reconditionné", "theme": "logiciels-libres"},
]


def explain_searches() -> dict[str, list[dict[str, Any]]]:
    """For each of EXPLAINED, the plan of every statement of its first page, as the page ran.

    The statements are caught as the search page sends them, then explained in the same
    transaction, with its settings (`initiative_bands` sets some for it). Only the plan's
    nodes are kept, with their rows, loops, times and buffers.
    """
    from maillage.initiatives.queries import list_initiatives

    sent: list[tuple[str, Any]] = []

    def catch(_connection: Any, _cursor: Any, statement: str, parameters: Any,
              _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    engine = session.get_bind()
    plans: dict[str, list[dict[str, Any]]] = {}
    for arguments in EXPLAINED:
        sent.clear()
        sa.event.listen(engine, "before_cursor_execute", catch)
        try:
            list_initiatives(**arguments)
        finally:
            sa.event.remove(engine, "before_cursor_execute", catch)
        statements = [(statement, parameters) for statement, parameters in sent
                      if statement.lstrip().upper().startswith("SELECT")
                      and "set_config" not in statement]
        explained = []
        for statement, parameters in statements:
            lines = [row[0] for row in session.connection().exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)]
            explained.append({"ms": float(re.search(r"Execution Time: ([\d.]+)",
                                                    lines[-1]).group(1)),
                              "plan": [line for line in lines if _KEPT.search(line)]})
        session.rollback()
        plans[" ".join(f"{key}={value}" for key, value in arguments.items())] = explained
    return plans


# The lines of a plan worth reading in a report: its nodes, their conditions and buffers.
_KEPT = re.compile(r"->|^\S|Buffers|Index Cond|Filter|Rows Removed|Recheck Cond")


def measure_in_process(requests: int) -> dict[str, Any]:
    """Time the search page in process: ids band by band, rows, excerpts; no HTTP."""
    from maillage.initiatives.queries import list_initiatives
    from maillage.search.queries import matching_initiatives

    timings: list[float] = []
    by_query: dict[str, Any] = {}
    rounds = max(3, requests // len(QUERIES))
    for q in QUERIES:
        count = sum(session.scalar(sa.select(sa.func.count()).select_from(band.subquery()))
                    for band in matching_initiatives(q))
        list_initiatives(q=q)
        session.rollback()
        mine = []
        for _ in range(rounds):
            started = time.perf_counter()
            list_initiatives(q=q)
            mine.append((time.perf_counter() - started) * 1000)
            session.rollback()
        timings += mine
        by_query[q] = {"matches": count, "median_ms": round(statistics.median(mine), 1)}
    return summary(timings) | {"by_query": by_query}


def make_scenarios(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Return, by scenario, the query arguments of its requests (cycled through)."""
    slugs = sorted(THEME_OBJECTS)
    departments = list(session.scalars(
        sa.select(Town.department_code).where(Town.population.between(*SMALL_TOWNS))
        .group_by(Town.department_code).order_by(sa.func.count().desc()).limit(30)))
    populations = [(2_500, 5_000), (5_000, 10_000), (10_000, 25_000), (2_500, 25_000)]

    def searches(**extra: Any) -> list[dict[str, Any]]:
        return [{"q": q, **{key: value() for key, value in extra.items()}} for q in QUERIES]

    def population_range() -> tuple[int, int]:
        return rng.choice(populations)

    with_population = [
        {**args, "population_min": low, "population_max": high}
        for args in searches() for low, high in [population_range()]]
    return {
        "list (no q), baseline": [{}],
        "list by theme (no q), baseline": [{"theme": slug} for slug in slugs],
        "q": searches(),
        "q + theme": searches(theme=lambda: rng.choice(slugs)),
        "q + department": searches(department=lambda: rng.choice(departments)),
        "q + population_min/max": with_population,
        "q + theme + department + population": [
            {**args, "theme": rng.choice(slugs), "department": rng.choice(departments)}
            for args in with_population],
    }




@contextmanager
def server(url: str, instance: str) -> Iterator[int]:
    """Run the application under gunicorn, as the Procfile does, on a free loopback port."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32),
           "MAILLAGE_INSTANCE": instance, "MAILLAGE_ENV": "production"}
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
               "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning",
               "maillage.wsgi:app"]
    process = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = get(port, "/api/v1/initiatives", {"limit": 1})
                if status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str, args: dict[str, Any],
        connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"{path}?{urllib.parse.urlencode(args)}")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


def measure(port: int, scenarios: dict[str, list[dict[str, Any]]],
            requests: int) -> dict[str, Any]:
    """Time each scenario's requests on one keep-alive connection, after a warm-up."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results: dict[str, Any] = {}
    per_query: dict[str, list[float]] = {}
    try:
        for name, arguments in scenarios.items():
            for args in arguments[:10]:
                get(port, "/api/v1/initiatives", args, connection)
            timings, found, errors = [], [], 0
            for i in range(requests):
                args = arguments[i % len(arguments)]
                started = time.perf_counter()
                status, body = get(port, "/api/v1/initiatives", args, connection)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    errors += 1
                    continue
                timings.append(elapsed)
                found.append(len(json.loads(body)["items"]))
                if name == "q":
                    per_query.setdefault(args["q"], []).append(elapsed)
            results[name] = summary(timings) | {
                "errors": errors, "mean_items": round(statistics.fmean(found), 1) if found else 0}
        results["q, median by query"] = {
            q: round(statistics.median(values), 1) for q, values in per_query.items()}
    finally:
        connection.close()
    return results


def summary(timings: list[float]) -> dict[str, float]:
    if len(timings) < 2:
        return {"p50_ms": round(timings[0], 1) if timings else 0.0, "p95_ms": 0.0}
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(cuts[94], 1)}


if __name__ == "__main__":
    sys.exit(main())
